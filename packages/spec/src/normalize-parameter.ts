import { z } from 'zod';
import { describeValue, suggestName, unknownKeyMessage } from './describe.js';
import type { SpecIssue } from './errors.js';
import { PARAMETER_RULES, describeRule, valueSatisfies } from './parameters.js';
import type { ParameterName, ParameterRule } from './parameters.js';
import { firstMultiple, lastMultiple, multiple } from './quantize.js';
import { PARAMETER_KINDS } from './types.js';
import type { ParamValue, ParameterKind, ParameterSpec } from './types.js';
import { fromZodIssues } from './zod-issues.js';

const KEYS_BY_KIND: { readonly [K in ParameterKind]: readonly string[] } = {
  constant: ['value'],
  categorical: ['values', 'probabilities'],
  int_uniform: ['min', 'max'],
  uniform: ['min', 'max'],
  q_uniform: ['min', 'max', 'q'],
  log_uniform_values: ['min', 'max'],
  q_log_uniform_values: ['min', 'max', 'q'],
  normal: ['mu', 'sigma'],
  log_normal: ['mu', 'sigma'],
};

/** W&B distributions we do not implement, with what to use instead. */
const UNSUPPORTED_DISTRIBUTIONS: Readonly<Record<string, string>> = {
  log_uniform: 'W&B\'s log_uniform takes natural-log exponents as min/max; use log_uniform_values with the actual values (e.g. min: 0.0001, max: 0.1)',
  q_log_uniform: 'use q_log_uniform_values with the actual values as min/max',
  inv_log_uniform: 'not supported',
  inv_log_uniform_values: 'not supported',
  q_normal: 'not supported; use q_uniform',
  q_log_normal: 'not supported; use q_log_uniform_values',
  beta: 'not supported',
  q_beta: 'not supported',
};

const PARAMETER_BODY_KEYS = ['distribution', 'value', 'values', 'probabilities', 'min', 'max', 'q', 'mu', 'sigma', 'condition'] as const;

const parameterBody = z.object({
  distribution: z.string().optional(),
  value: z.unknown().optional(),
  values: z.array(z.unknown()).min(1).max(10_000).optional(),
  probabilities: z.array(z.number().min(0).max(1)).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  q: z.number().positive().optional(),
  mu: z.number().optional(),
  sigma: z.number().positive().optional(),
});

export function isPlainMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Ctx {
  readonly name: ParameterName;
  readonly path: string;
  readonly rule: ParameterRule;
  readonly issues: SpecIssue[];
  /** Whether the spec wrote `distribution:` (otherwise the kind was inferred and messages say how). */
  readonly explicit: boolean;
}

function add(ctx: Ctx, key: string | undefined, message: string): void {
  ctx.issues.push({ path: key === undefined ? ctx.path : `${ctx.path}.${key}`, message });
}

function inferKind(ctx: Ctx, body: Record<string, unknown>): ParameterKind | undefined {
  const has = (k: string) => Object.hasOwn(body, k);
  if (typeof body['distribution'] === 'string') {
    const d = body['distribution'];
    if ((PARAMETER_KINDS as readonly string[]).includes(d)) return d as ParameterKind;
    const hint = UNSUPPORTED_DISTRIBUTIONS[d];
    const known = `supported: ${PARAMETER_KINDS.join(', ')}`;
    if (hint !== undefined) add(ctx, 'distribution', `distribution ${JSON.stringify(d)} is ${hint.startsWith('not') ? hint : `not supported: ${hint}`} (${known})`);
    else {
      const s = suggestName(d, PARAMETER_KINDS);
      add(ctx, 'distribution', `expected one of ${PARAMETER_KINDS.join(', ')}, got ${describeValue(d)}${s === undefined ? '' : `. Did you mean ${s}?`}`);
    }
    return undefined;
  }
  if (has('value') && has('values')) {
    add(ctx, undefined, 'give either value (a constant) or values (a list), not both');
    return undefined;
  }
  if (has('value')) return 'constant';
  if (has('values')) return 'categorical';
  if (has('min') || has('max')) {
    // W&B infers int_uniform when both bounds are integers. YAML's 0.0 and 1 both parse to JS integers, so we go by the
    // parameter instead: integer parameters with integer bounds get int_uniform, everything else uniform.
    const bothInts = Number.isInteger(body['min']) && Number.isInteger(body['max']);
    return ctx.rule.type === 'int' && bothInts ? 'int_uniform' : 'uniform';
  }
  if (has('mu') || has('sigma')) {
    add(ctx, 'distribution', 'mu/sigma need an explicit distribution: normal or log_normal');
    return undefined;
  }
  add(ctx, undefined, 'expected value: x, values: [...], or min and max (with an optional distribution)');
  return undefined;
}

function checkRequiredAndExtraKeys(ctx: Ctx, kind: ParameterKind, body: Record<string, unknown>): boolean {
  const allowed = KEYS_BY_KIND[kind];
  let ok = true;
  for (const key of Object.keys(body)) {
    if (key === 'distribution' || allowed.includes(key)) continue;
    add(ctx, key, `not used by ${kind}; ${kind} takes ${allowed.join(', ')}`);
    ok = false;
  }
  const required = kind === 'categorical' ? ['values'] : kind === 'q_uniform' || kind === 'q_log_uniform_values' ? ['min', 'max'] : kind === 'normal' || kind === 'log_normal' ? [] : allowed;
  for (const key of required) {
    if (!Object.hasOwn(body, key)) {
      add(ctx, key, `required: ${kind} needs ${required.join(' and ')}`);
      ok = false;
    }
  }
  return ok;
}

function checkPoint(ctx: Ctx, key: string, value: unknown): value is ParamValue {
  if (valueSatisfies(ctx.rule, value)) return true;
  const hint = ctx.rule.type === 'int' && typeof value === 'number' && !Number.isInteger(value) ? ` (${ctx.name} is an integer parameter)` : '';
  add(ctx, key, `expected ${describeRule(ctx.rule)}, got ${describeValue(value)}${hint}`);
  return false;
}

/** Checks that [lo, hi] produced by a distribution lies inside the parameter's range; `hiAttained` false means values stay below hi. */
function checkRange(ctx: Ctx, kind: ParameterKind, lo: number, hi: number, hiAttained: boolean): boolean {
  const rule = ctx.rule;
  if (rule.type !== 'float' && rule.type !== 'int') return false;
  const minExclusive = rule.type === 'float' && rule.minExclusive;
  const maxExclusive = rule.type === 'float' && rule.maxExclusive;
  let ok = true;
  if (minExclusive ? !(lo > rule.min) : !(lo >= rule.min)) {
    add(ctx, 'min', `${kind} can produce ${lo}, but ${ctx.name} must be ${describeRule(rule)}`);
    ok = false;
  }
  const hiOk = hiAttained ? (maxExclusive ? hi < rule.max : hi <= rule.max) : hi <= rule.max;
  if (!hiOk) {
    const what = hiAttained ? `${kind} can produce ${hi}` : `${kind} can produce values up to ${hi}`;
    add(ctx, 'max', `${what}, but ${ctx.name} must be ${describeRule(rule)}`);
    ok = false;
  }
  return ok;
}

function checkOrder(ctx: Ctx, min: number, max: number, allowEqual: boolean): boolean {
  if (allowEqual ? min <= max : min < max) return true;
  add(ctx, 'max', allowEqual ? `max must be >= min (${min}), got ${max}` : `max must be greater than min (${min}), got ${max}; for a single value use value: ${min}`);
  return false;
}

function integerOnly(ctx: Ctx, kind: ParameterKind, use: string): void {
  if (ctx.explicit) add(ctx, 'distribution', `${kind} produces non-integer values, but ${ctx.name} must be ${describeRule(ctx.rule)}; use ${use}`);
  else add(ctx, undefined, `min/max are not both integers, so this is a ${kind} distribution, which produces non-integer values, but ${ctx.name} must be ${describeRule(ctx.rule)}; use integer min and max`);
}

function normalizeKind(ctx: Ctx, kind: ParameterKind, body: Record<string, unknown>): ParameterSpec | undefined {
  const num = (k: string): number => body[k] as number;
  if (ctx.rule.type === 'enum' && kind !== 'constant' && kind !== 'categorical') {
    add(ctx, ctx.explicit ? 'distribution' : undefined, `${ctx.name} is categorical (${describeRule(ctx.rule)}); use values: [...] or value: x, not ${kind}`);
    return undefined;
  }
  switch (kind) {
    case 'constant': {
      const value = body['value'];
      return checkPoint(ctx, 'value', value) ? { kind, value } : undefined;
    }
    case 'categorical': {
      const values = body['values'] as unknown[];
      let ok = true;
      const seen = new Map<unknown, number>();
      values.forEach((v, i) => {
        if (!checkPoint(ctx, `values[${i}]`, v)) ok = false;
        else if (seen.has(v)) {
          add(ctx, `values[${i}]`, `duplicate of values[${seen.get(v)}] (${describeValue(v)})`);
          ok = false;
        } else seen.set(v, i);
      });
      const probabilities = body['probabilities'] as number[] | undefined;
      if (probabilities !== undefined) {
        if (probabilities.length !== values.length) {
          add(ctx, 'probabilities', `expected ${values.length} probabilities (one per value), got ${probabilities.length}`);
          ok = false;
        } else {
          const sum = probabilities.reduce((a, b) => a + b, 0);
          if (Math.abs(sum - 1) > 1e-6) {
            add(ctx, 'probabilities', `must sum to 1, got ${sum}`);
            ok = false;
          }
        }
      }
      if (!ok) return undefined;
      const out: ParameterSpec = { kind, values: values as ParamValue[] };
      if (probabilities !== undefined) out.probabilities = probabilities;
      return out;
    }
    case 'int_uniform': {
      const min = num('min');
      const max = num('max');
      let ok = true;
      for (const k of ['min', 'max'] as const) {
        if (!Number.isInteger(body[k])) {
          add(ctx, k, `int_uniform needs integer bounds, got ${describeValue(body[k])}`);
          ok = false;
        }
      }
      if (!ok || !checkOrder(ctx, min, max, true) || !checkRange(ctx, kind, min, max, true)) return undefined;
      return { kind, min, max };
    }
    case 'uniform':
    case 'log_uniform_values': {
      const min = num('min');
      const max = num('max');
      if (ctx.rule.type === 'int') {
        integerOnly(ctx, kind, kind === 'uniform' ? 'int_uniform (or q_uniform with an integer q)' : 'q_log_uniform_values with q: 1');
        return undefined;
      }
      if (kind === 'log_uniform_values' && !(min > 0)) {
        add(ctx, 'min', `log_uniform_values needs min > 0 (min and max are actual values, not exponents), got ${min}`);
        return undefined;
      }
      if (!checkOrder(ctx, min, max, false) || !checkRange(ctx, kind, min, max, false)) return undefined;
      return { kind, min, max };
    }
    case 'q_uniform':
    case 'q_log_uniform_values': {
      const min = num('min');
      const max = num('max');
      const q = body['q'] === undefined ? 1 : num('q');
      if (ctx.rule.type === 'int' && !Number.isInteger(q)) {
        add(ctx, 'q', `${ctx.name} needs integers, so q must be a whole number, got ${q}`);
        return undefined;
      }
      if (kind === 'q_log_uniform_values' && !(min > 0)) {
        add(ctx, 'min', `q_log_uniform_values needs min > 0 (min and max are actual values, not exponents), got ${min}`);
        return undefined;
      }
      if (!checkOrder(ctx, min, max, true)) return undefined;
      const kLo = firstMultiple(min, q);
      const kHi = lastMultiple(max, q);
      if (kLo > kHi) {
        add(ctx, 'q', `no multiple of q = ${q} lies in [${min}, ${max}]`);
        return undefined;
      }
      if (!checkRange(ctx, kind, multiple(kLo, q), multiple(kHi, q), true)) return undefined;
      return { kind, min, max, q };
    }
    case 'normal':
    case 'log_normal': {
      const mu = body['mu'] === undefined ? 0 : num('mu');
      const sigma = body['sigma'] === undefined ? 1 : num('sigma');
      const rule = ctx.rule;
      if (rule.type === 'int') {
        integerOnly(ctx, kind, 'int_uniform or q_log_uniform_values');
        return undefined;
      }
      if (rule.type !== 'float') return undefined;
      // normal covers every real number and log_normal every positive one: only an unbounded range fits.
      const fits = rule.max === Infinity && (kind === 'normal' ? rule.min === -Infinity : rule.min <= 0);
      if (!fits) {
        const instead = rule.max === Infinity ? 'log_normal or log_uniform_values' : 'uniform';
        add(ctx, 'distribution', `${kind} can produce any ${kind === 'normal' ? 'real' : 'positive'} number, but ${ctx.name} must be ${describeRule(rule)}; use ${instead}`);
        return undefined;
      }
      return { kind, mu, sigma };
    }
  }
}

/**
 * Normalises one `parameters.<name>` entry (W&B form) into a {@link ParameterSpec}, checking that every value
 * the distribution can produce is valid for that parameter. Issues go to `issues`; returns undefined on any.
 */
export function normalizeParameter(name: ParameterName, raw: unknown, path: string, issues: SpecIssue[]): ParameterSpec | undefined {
  const ctx: Ctx = { name, path, rule: PARAMETER_RULES[name], issues, explicit: isPlainMapping(raw) && raw['distribution'] !== undefined };
  if (!isPlainMapping(raw)) {
    add(ctx, undefined, `expected a mapping such as {value: x}, {values: [...]} or {min: a, max: b}, got ${describeValue(raw)}`);
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(raw)) {
    if (!(PARAMETER_BODY_KEYS as readonly string[]).includes(key)) {
      add(ctx, key, unknownKeyMessage('key', key, PARAMETER_BODY_KEYS));
      ok = false;
    }
  }
  const parsed = parameterBody.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    issues.push(...fromZodIssues(parsed.error.issues, [path]));
    ok = false;
  }
  if (!ok) return undefined;
  const kind = inferKind(ctx, raw);
  if (kind === undefined || !checkRequiredAndExtraKeys(ctx, kind, raw)) return undefined;
  return normalizeKind(ctx, kind, raw);
}

/** Parameter kinds whose values grid search can enumerate. */
export const DISCRETE_KINDS: readonly ParameterKind[] = ['constant', 'categorical', 'int_uniform', 'q_uniform'];
