import { z } from 'zod';
import { describeValue, suggestName, unknownKeyMessage } from './describe.js';
import type { SpecIssue } from './errors.js';
import { PARAMETER_RULES, describeRule, valueSatisfies } from './parameters.js';
import type { ParameterName, ParameterRule } from './parameters.js';
import { isLogUniform, logUniformBounds, quantizedRange } from './distributions.js';
import { multiple } from './quantize.js';
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
  log_uniform: ['min', 'max'],
  q_log_uniform: ['min', 'max', 'q'],
  inv_log_uniform: ['min', 'max'],
  inv_log_uniform_values: ['min', 'max'],
  q_normal: ['mu', 'sigma', 'q'],
  q_log_normal: ['mu', 'sigma', 'q'],
  beta: ['a', 'b'],
  q_beta: ['a', 'b', 'q'],
};

/** Keys with a default (W&B's): q 1, mu 0, sigma 1, a 1, b 1; probabilities are optional. */
const OPTIONAL_KEYS: readonly string[] = ['probabilities', 'q', 'mu', 'sigma', 'a', 'b'];

/** W&B distribution names that are another name for one of ours. */
const DISTRIBUTION_ALIASES: Readonly<Record<string, ParameterKind>> = { categorical_w_probabilities: 'categorical' };

/** W&B's exponent kinds: min and max are natural-log exponents, not values. */
const EXPONENT_KINDS: readonly ParameterKind[] = ['log_uniform', 'q_log_uniform', 'inv_log_uniform'];

const PARAMETER_BODY_KEYS = ['distribution', 'value', 'values', 'probabilities', 'min', 'max', 'q', 'mu', 'sigma', 'a', 'b', 'condition'] as const;

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
  a: z.number().positive().optional(),
  b: z.number().positive().optional(),
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
    const alias = Object.hasOwn(DISTRIBUTION_ALIASES, d) ? DISTRIBUTION_ALIASES[d] : undefined;
    if (alias !== undefined) return alias;
    const s = suggestName(d, PARAMETER_KINDS);
    add(ctx, 'distribution', `expected one of ${PARAMETER_KINDS.join(', ')}, got ${describeValue(d)}${s === undefined ? '' : `. Did you mean ${s}?`}`);
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
    add(ctx, 'distribution', 'mu/sigma need an explicit distribution: normal, log_normal, q_normal or q_log_normal');
    return undefined;
  }
  if (has('a') || has('b')) {
    add(ctx, 'distribution', 'a/b need an explicit distribution: beta or q_beta');
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
  const required = allowed.filter((k) => !OPTIONAL_KEYS.includes(k));
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
  const hint =
    ctx.rule.type === 'int' && typeof value === 'number' && !Number.isInteger(value)
      ? ` (${ctx.name} is an integer parameter)`
      : ctx.rule.type === 'bool' && typeof value === 'string'
        ? ` (${ctx.name} is a boolean parameter: write true or false without quotes)`
        : '';
  add(ctx, key, `expected ${describeRule(ctx.rule)}, got ${describeValue(value)}${hint}`);
  return false;
}

interface RangeOptions {
  /** Whether the distribution can produce `lo` itself (default true) and `hi` itself. */
  loAttained?: boolean;
  hiAttained: boolean;
  /** Keys the issues are reported under; default min and max. */
  loKey?: string;
  hiKey?: string;
  /** How lo and hi follow from the spec, for the exponent kinds (" (e^min)"). */
  loNote?: string;
  hiNote?: string;
}

/** Checks that [lo, hi] produced by a distribution lies inside the parameter's range. */
function checkRange(ctx: Ctx, kind: ParameterKind, lo: number, hi: number, opts: RangeOptions): boolean {
  const rule = ctx.rule;
  if (rule.type !== 'float' && rule.type !== 'int') return false;
  const minExclusive = rule.type === 'float' && rule.minExclusive;
  const maxExclusive = rule.type === 'float' && rule.maxExclusive;
  const loAttained = opts.loAttained ?? true;
  let ok = true;
  // An exclusive minimum is met by a lower bound that is never produced (beta near 0) if the bound itself is allowed.
  if ((loAttained && minExclusive) ? !(lo > rule.min) : !(lo >= rule.min)) {
    const what = loAttained ? `${kind} can produce ${lo}` : `${kind} can produce values down to ${lo}`;
    add(ctx, opts.loKey ?? 'min', `${what}${opts.loNote ?? ''}, but ${ctx.name} must be ${describeRule(rule)}`);
    ok = false;
  }
  const hiOk = opts.hiAttained ? (maxExclusive ? hi < rule.max : hi <= rule.max) : hi <= rule.max;
  if (!hiOk) {
    const what = opts.hiAttained ? `${kind} can produce ${hi}` : `${kind} can produce values up to ${hi}`;
    add(ctx, opts.hiKey ?? 'max', `${what}${opts.hiNote ?? ''}, but ${ctx.name} must be ${describeRule(rule)}`);
    ok = false;
  }
  return ok;
}

/**
 * Checks the value bounds of a log-uniform kind against the parameter's range. For W&B's exponent kinds the bounds
 * are e^min and e^max (e^-max and e^-min for inv_log_uniform): they must be positive and finite in floating point.
 */
function checkLogBounds(ctx: Ctx, spec: Extract<ParameterSpec, { min: number; max: number }>, quantized: { lo: number; hi: number } | undefined): boolean {
  if (!isLogUniform(spec)) return false;
  const [lo, hi] = logUniformBounds(spec);
  const inv = spec.kind === 'inv_log_uniform';
  const exponent = EXPONENT_KINDS.includes(spec.kind);
  const loKey = inv ? 'max' : 'min';
  const hiKey = inv ? 'min' : 'max';
  if (exponent && (!(lo > 0) || !Number.isFinite(hi))) {
    const bad = !(lo > 0) ? loKey : hiKey;
    add(ctx, bad, `${spec.kind} takes natural-log exponents (values e^${inv ? '-' : ''}${bad}), and e^${inv ? -spec[bad] : spec[bad]} is ${bad === loKey ? '0' : 'infinite'} in floating point; keep min and max within [-700, 700], or use ${inv ? 'inv_log_uniform_values' : 'log_uniform_values'} with the actual values`);
    return false;
  }
  const note = (key: 'min' | 'max'): string => (exponent ? ` (e^${inv ? '-' : ''}${key} = e^${inv ? -spec[key] : spec[key]}: ${spec.kind}'s min and max are natural-log exponents)` : '');
  const range = quantized ?? { lo, hi };
  return checkRange(ctx, spec.kind, range.lo, range.hi, {
    hiAttained: quantized !== undefined,
    loKey,
    hiKey,
    loNote: quantized === undefined ? note(loKey) : '',
    hiNote: quantized === undefined ? note(hiKey) : '',
  });
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

type Body = Record<string, unknown>;

/** A numeric key zod has already checked, or its W&B default when absent. */
const num = (body: Body, key: string, fallback?: number): number => (body[key] === undefined && fallback !== undefined ? fallback : (body[key] as number));

function normalizeCategorical(ctx: Ctx, body: Body): ParameterSpec | undefined {
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
  const out: ParameterSpec = { kind: 'categorical', values: values as ParamValue[] };
  if (probabilities !== undefined) out.probabilities = probabilities;
  return out;
}

function normalizeIntUniform(ctx: Ctx, body: Body): ParameterSpec | undefined {
  const min = num(body, 'min');
  const max = num(body, 'max');
  let ok = true;
  for (const k of ['min', 'max'] as const) {
    if (!Number.isInteger(body[k])) {
      add(ctx, k, `int_uniform needs integer bounds, got ${describeValue(body[k])}`);
      ok = false;
    }
  }
  if (!ok || !checkOrder(ctx, min, max, true) || !checkRange(ctx, 'int_uniform', min, max, { hiAttained: true })) return undefined;
  return { kind: 'int_uniform', min, max };
}

/** uniform and the log-uniform kinds: continuous between two bounds, so only for float parameters. */
function normalizeContinuousRange(ctx: Ctx, kind: 'uniform' | 'log_uniform_values' | 'log_uniform' | 'inv_log_uniform' | 'inv_log_uniform_values', body: Body): ParameterSpec | undefined {
  const min = num(body, 'min');
  const max = num(body, 'max');
  if (ctx.rule.type === 'int') {
    integerOnly(ctx, kind, kind === 'uniform' ? 'int_uniform (or q_uniform with an integer q)' : kind === 'log_uniform' ? 'q_log_uniform with q: 1' : 'q_log_uniform_values with q: 1');
    return undefined;
  }
  if (kind.endsWith('_values') && !(min > 0)) {
    add(ctx, 'min', `${kind} needs min > 0 (min and max are actual values, not exponents), got ${min}`);
    return undefined;
  }
  if (!checkOrder(ctx, min, max, false)) return undefined;
  const spec = { kind, min, max } as Extract<ParameterSpec, { min: number; max: number }>;
  const fits = kind === 'uniform' ? checkRange(ctx, kind, min, max, { hiAttained: false }) : checkLogBounds(ctx, spec, undefined);
  return fits ? spec : undefined;
}

/** q_uniform and the quantized log-uniform kinds: the multiples of q between two bounds must fit the parameter. */
function normalizeQuantizedRange(ctx: Ctx, kind: 'q_uniform' | 'q_log_uniform_values' | 'q_log_uniform', body: Body): ParameterSpec | undefined {
  const min = num(body, 'min');
  const max = num(body, 'max');
  const q = num(body, 'q', 1);
  if (ctx.rule.type === 'int' && !Number.isInteger(q)) {
    add(ctx, 'q', `${ctx.name} needs integers, so q must be a whole number, got ${q}`);
    return undefined;
  }
  if (kind === 'q_log_uniform_values' && !(min > 0)) {
    add(ctx, 'min', `q_log_uniform_values needs min > 0 (min and max are actual values, not exponents), got ${min}`);
    return undefined;
  }
  if (!checkOrder(ctx, min, max, true)) return undefined;
  const spec = { kind, min, max, q };
  if (kind === 'q_log_uniform' && !(Math.exp(min) > 0 && Number.isFinite(Math.exp(max)))) return checkLogBounds(ctx, spec, undefined) ? spec : undefined;
  const { kLo, kHi } = quantizedRange(spec);
  if (kLo > kHi) {
    const where = kind === 'q_log_uniform' ? `[e^${min}, e^${max}]` : `[${min}, ${max}]`;
    add(ctx, 'q', `no multiple of q = ${q} lies in ${where}`);
    return undefined;
  }
  const quantized = { lo: multiple(kLo, q), hi: multiple(kHi, q) };
  const fits = kind === 'q_uniform' ? checkRange(ctx, kind, quantized.lo, quantized.hi, { hiAttained: true }) : checkLogBounds(ctx, spec, quantized);
  return fits ? spec : undefined;
}

/** The normal kinds have unbounded support, so only a parameter whose range is unbounded the same way takes them. */
function normalizeNormal(ctx: Ctx, kind: 'normal' | 'log_normal' | 'q_normal' | 'q_log_normal', body: Body): ParameterSpec | undefined {
  const mu = num(body, 'mu', 0);
  const sigma = num(body, 'sigma', 1);
  const q = num(body, 'q', 1);
  const rule = ctx.rule;
  if (rule.type === 'int' && (kind === 'normal' || kind === 'log_normal')) {
    integerOnly(ctx, kind, 'int_uniform or q_log_uniform_values');
    return undefined;
  }
  if (rule.type === 'int' && !Number.isInteger(q)) {
    add(ctx, 'q', `${ctx.name} needs integers, so q must be a whole number, got ${q}`);
    return undefined;
  }
  if (rule.type === 'enum' || rule.type === 'bool') return undefined;
  // normal covers every real number, q_normal every multiple of q, log_normal every positive number and
  // q_log_normal every multiple of q from q up: only a range unbounded above (and below, for the first two) fits.
  const minExclusive = rule.type === 'float' && rule.minExclusive;
  const fits =
    rule.max === Infinity &&
    (kind === 'normal' || kind === 'q_normal' ? rule.min === -Infinity : kind === 'log_normal' ? rule.min <= 0 : minExclusive ? q > rule.min : q >= rule.min);
  if (!fits) {
    const produces = {
      normal: 'any real number',
      q_normal: `any multiple of q = ${q}, negative ones too`,
      log_normal: 'any positive number',
      q_log_normal: `any multiple of q = ${q} from ${q} up`,
    }[kind];
    const instead = rule.type === 'int' ? 'int_uniform or q_log_uniform_values' : rule.max === Infinity ? 'log_normal, q_log_normal or log_uniform_values' : 'uniform';
    add(ctx, 'distribution', `${kind} can produce ${produces}, but ${ctx.name} must be ${describeRule(rule)}; use ${instead}`);
    return undefined;
  }
  return kind === 'normal' || kind === 'log_normal' ? { kind, mu, sigma } : { kind, mu, sigma, q };
}

/** beta and q_beta produce numbers strictly inside (0, 1). */
function normalizeBeta(ctx: Ctx, kind: 'beta' | 'q_beta', body: Body): ParameterSpec | undefined {
  const a = num(body, 'a', 1);
  const b = num(body, 'b', 1);
  if (ctx.rule.type === 'int') {
    add(ctx, 'distribution', `${kind} produces numbers between 0 and 1, but ${ctx.name} must be ${describeRule(ctx.rule)}; use int_uniform`);
    return undefined;
  }
  if (kind === 'beta') {
    // Beta draws lie strictly inside (0, 1).
    const opts = { loAttained: false, hiAttained: false, loKey: 'distribution', hiKey: 'distribution' };
    return checkRange(ctx, kind, 0, 1, opts) ? { kind, a, b } : undefined;
  }
  const q = num(body, 'q', 1);
  const spec = { kind, a, b, q } as const;
  const { kLo, kHi } = quantizedRange(spec);
  if (kLo > kHi) {
    add(ctx, 'q', `q_beta rounds to multiples of q strictly between 0 and 1, so q must be below 1, got ${q}`);
    return undefined;
  }
  return checkRange(ctx, kind, multiple(kLo, q), multiple(kHi, q), { hiAttained: true, loKey: 'q', hiKey: 'q' }) ? spec : undefined;
}

/** Checks a body whose kind is known (and whose keys fit it) against the parameter's rule; one family per function. */
function normalizeKind(ctx: Ctx, kind: ParameterKind, body: Body): ParameterSpec | undefined {
  if ((ctx.rule.type === 'enum' || ctx.rule.type === 'bool') && kind !== 'constant' && kind !== 'categorical') {
    add(ctx, ctx.explicit ? 'distribution' : undefined, `${ctx.name} is categorical (${describeRule(ctx.rule)}); use values: [...] or value: x, not ${kind}`);
    return undefined;
  }
  switch (kind) {
    case 'constant': {
      const value = body['value'];
      return checkPoint(ctx, 'value', value) ? { kind, value } : undefined;
    }
    case 'categorical':
      return normalizeCategorical(ctx, body);
    case 'int_uniform':
      return normalizeIntUniform(ctx, body);
    case 'uniform':
    case 'log_uniform_values':
    case 'log_uniform':
    case 'inv_log_uniform':
    case 'inv_log_uniform_values':
      return normalizeContinuousRange(ctx, kind, body);
    case 'q_uniform':
    case 'q_log_uniform_values':
    case 'q_log_uniform':
      return normalizeQuantizedRange(ctx, kind, body);
    case 'normal':
    case 'log_normal':
    case 'q_normal':
    case 'q_log_normal':
      return normalizeNormal(ctx, kind, body);
    case 'beta':
    case 'q_beta':
      return normalizeBeta(ctx, kind, body);
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
