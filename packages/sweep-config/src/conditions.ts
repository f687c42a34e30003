import { describeValue, unknownKeyMessage } from './describe.js';
import type { SpecIssue } from './errors.js';
import { isPlainMapping } from './normalize-parameter.js';
import { DEFAULT_PARAMS, PARAMETER_NAMES } from './parameters.js';
import type { ParameterName, TrialParams } from './parameters.js';
import { firstMultiple, lastMultiple } from './quantize.js';
import { enumerateParameter } from './enumerate.js';
import type { ConditionClause, ParamValue, ParameterCondition, ParameterSpec, SweepSpec } from './types.js';

const CLAUSE_KEYS = ['value', 'values', 'min', 'max'] as const;

/** Whether `value` satisfies one clause of a condition. */
export function clauseHolds(clause: ConditionClause, value: ParamValue | undefined): boolean {
  if (value === undefined) return false;
  if ('values' in clause) return clause.values.includes(value);
  if (typeof value !== 'number') return false;
  return (clause.min === undefined || value >= clause.min) && (clause.max === undefined || value <= clause.max);
}

/** Whether parameter `spec` applies given the values of the (earlier) parameters in `combo`; absent means inactive. */
export function parameterApplies(spec: ParameterSpec, combo: Readonly<Record<string, ParamValue>>): boolean {
  if (spec.condition === undefined) return true;
  for (const [ref, clause] of Object.entries(spec.condition)) {
    if (!Object.hasOwn(combo, ref) || !clauseHolds(clause, combo[ref])) return false;
  }
  return true;
}

/**
 * Which of the spec's parameters apply to a trial with these values: unconditional ones always; a conditional one when
 * every clause of its condition holds and every parameter it names is itself active (so conditions chain).
 * Parameters the spec does not mention are not in the set (they always take their DEFAULT_PARAMS value).
 */
export function activeParameters(
  spec: Pick<SweepSpec, 'parameters'>,
  trial: Readonly<Partial<TrialParams>> | Readonly<Record<string, ParamValue | undefined>>,
): Set<ParameterName> {
  const params = trial as Readonly<Record<string, ParamValue | undefined>>;
  const memo = new Map<string, boolean>();
  const visit = (name: string, depth: number): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const ps = Object.hasOwn(spec.parameters, name) ? spec.parameters[name] : undefined;
    // depth guards a hand-built (unvalidated) spec with a cycle: its members count as inactive.
    let active = ps !== undefined && depth <= PARAMETER_NAMES.length;
    if (active && ps?.condition !== undefined) {
      for (const [ref, clause] of Object.entries(ps.condition)) {
        if (!visit(ref, depth + 1) || !clauseHolds(clause, params[ref])) {
          active = false;
          break;
        }
      }
    }
    memo.set(name, active);
    return active;
  };
  const out = new Set<ParameterName>();
  for (const name of Object.keys(spec.parameters)) if (visit(name, 0)) out.add(name as ParameterName);
  return out;
}

/** A copy of `params` with every inactive conditional parameter set to its DEFAULT_PARAMS value. */
export function applyConditions<T extends Readonly<TrialParams>>(spec: Pick<SweepSpec, 'parameters'>, params: T): T {
  const conditional = Object.entries(spec.parameters).filter(([, ps]) => ps.condition !== undefined);
  if (conditional.length === 0) return { ...params };
  const active = activeParameters(spec, params);
  const out: Record<string, unknown> = { ...params };
  for (const [name] of conditional) if (!active.has(name as ParameterName)) out[name] = DEFAULT_PARAMS[name as ParameterName];
  return out as T;
}

/** Whether a parameter with this spec can produce `value`; undefined when the spec is continuous (equality is meaningless). */
function canProduce(spec: ParameterSpec, value: unknown): boolean | undefined {
  switch (spec.kind) {
    case 'constant':
      return spec.value === value;
    case 'categorical':
      return spec.values.includes(value as ParamValue);
    case 'int_uniform':
      return typeof value === 'number' && Number.isInteger(value) && value >= spec.min && value <= spec.max;
    case 'q_uniform':
    case 'q_log_uniform_values': {
      if (typeof value !== 'number') return false;
      const k = firstMultiple(value, spec.q);
      return k === lastMultiple(value, spec.q) && k >= firstMultiple(spec.min, spec.q) && k <= lastMultiple(spec.max, spec.q);
    }
    default:
      return undefined;
  }
}

/** Whether some value the spec can produce lies in [min, max]. */
function rangeReachable(spec: ParameterSpec, min: number, max: number): boolean {
  const values = enumerateParameter(spec);
  if (values !== undefined) return values.some((v) => typeof v === 'number' && v >= min && v <= max);
  switch (spec.kind) {
    case 'uniform':
    case 'log_uniform_values':
      return spec.min <= max && min < spec.max;
    case 'q_log_uniform_values':
      return firstMultiple(Math.max(min, spec.min), spec.q) <= lastMultiple(Math.min(max, spec.max), spec.q);
    case 'normal':
      return true;
    case 'log_normal':
      return max > 0;
    default:
      return false;
  }
}

function describePossible(spec: ParameterSpec): string {
  switch (spec.kind) {
    case 'constant':
      return `always ${describeValue(spec.value)}`;
    case 'categorical':
      return `one of ${spec.values.join(', ')}`;
    case 'int_uniform':
      return `an integer in [${spec.min}, ${spec.max}]`;
    case 'q_uniform':
    case 'q_log_uniform_values':
      return `a multiple of ${spec.q} in [${spec.min}, ${spec.max}]`;
    default:
      return spec.kind;
  }
}

function normalizeClause(name: string, ref: string, refSpec: ParameterSpec, raw: unknown, path: string, issues: SpecIssue[]): ConditionClause | undefined {
  const fail = (key: string | undefined, message: string): undefined => {
    issues.push({ path: key === undefined ? path : `${path}.${key}`, message });
    return undefined;
  };
  if (!isPlainMapping(raw)) {
    return fail(undefined, `expected {values: [...]}, {value: x} or {min: a, max: b} for ${ref}, got ${describeValue(raw)}`);
  }
  for (const key of Object.keys(raw)) {
    if (!(CLAUSE_KEYS as readonly string[]).includes(key)) return fail(key, unknownKeyMessage('key', key, CLAUSE_KEYS));
  }
  const has = (k: string) => Object.hasOwn(raw, k);
  const listed = has('value') || has('values');
  const ranged = has('min') || has('max');
  if (has('value') && has('values')) return fail(undefined, 'give either value or values, not both');
  if (listed && ranged) return fail(undefined, 'give either values (a list of allowed values) or min/max (a range), not both');
  if (!listed && !ranged) return fail(undefined, `expected values: [...], value: x, or min/max for ${ref}`);
  if (listed) {
    const key = has('value') ? 'value' : 'values';
    const values = has('value') ? [raw['value']] : raw['values'];
    if (!Array.isArray(values) || values.length === 0) return fail(key, `expected a non-empty list of values of ${ref}, got ${describeValue(values)}`);
    const out: ParamValue[] = [];
    for (const [i, v] of values.entries()) {
      const at = has('value') ? 'value' : `values[${i}]`;
      const possible = canProduce(refSpec, v);
      if (possible === undefined) {
        return fail(key, `${ref} is continuous (${refSpec.kind}), so it never equals a listed value; use min/max instead (e.g. {${ref}: {min: …}})`);
      }
      if (!possible) return fail(at, `${describeValue(v)} is not a value ${ref} can take (${describePossible(refSpec)}), so this condition could never hold for it`);
      if (out.includes(v as ParamValue)) return fail(at, `duplicate value ${describeValue(v)}`);
      out.push(v as ParamValue);
    }
    return { values: out };
  }
  if (refSpec.kind === 'constant' ? typeof refSpec.value !== 'number' : refSpec.kind === 'categorical' && refSpec.values.some((v) => typeof v !== 'number')) {
    return fail(undefined, `${ref} is categorical (${describePossible(refSpec)}); use values: [...] instead of min/max`);
  }
  const clause: { min?: number; max?: number } = {};
  for (const k of ['min', 'max'] as const) {
    if (!has(k)) continue;
    const v = raw[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(k, `expected a number, got ${describeValue(v)}`);
    clause[k] = v;
  }
  const lo = clause.min ?? -Infinity;
  const hi = clause.max ?? Infinity;
  if (lo > hi) return fail('max', `max must be >= min (${lo}), got ${hi}`);
  if (!rangeReachable(refSpec, lo, hi)) {
    return fail(undefined, `${ref} never falls in [${lo}, ${hi}] (${ref} is ${describePossible(refSpec)}${'min' in refSpec && 'max' in refSpec ? ` in [${refSpec.min}, ${refSpec.max}]` : ''}), so ${name} would never apply`);
  }
  return clause;
}

/**
 * Validates the `condition:` of every parameter (W&B style; a sweepq extension) and attaches the normalised
 * condition to its {@link ParameterSpec}. Rules, each explained in the message when broken:
 * - a condition is a mapping of parameter names to clauses (`{values: [...]}`, `{value: x}` or `{min, max}`);
 * - every name must be a parameter written *above* this one under `parameters:` (so a condition reads like a nested
 *   if, grid order stays "last written varies fastest", and a cycle cannot be written);
 * - listed values must be values the referenced parameter can take, a range must contain one, and a continuous
 *   parameter can only be tested with min/max.
 * @param order parameter names in written order; `conditions` maps each conditional parameter to its raw `condition`.
 * @returns false when any issue was found.
 */
export function normalizeConditions(
  order: readonly string[],
  conditions: ReadonlyMap<string, unknown>,
  parameters: Record<string, ParameterSpec>,
  issues: SpecIssue[],
): boolean {
  let ok = true;
  for (const [name, raw] of conditions) {
    const path = `parameters.${name}.condition`;
    if (!isPlainMapping(raw) || Object.keys(raw).length === 0) {
      issues.push({ path, message: `expected a mapping of parameter names to {values: [...]} or {min: a, max: b}, e.g. {optimizer: {values: [sgd]}} or {lstm_units: {min: 64}}; got ${describeValue(raw)}` });
      ok = false;
      continue;
    }
    const position = order.indexOf(name);
    const condition: ParameterCondition = {};
    let good = true;
    for (const [ref, body] of Object.entries(raw)) {
      const at = `${path}.${ref}`;
      if (!(PARAMETER_NAMES as readonly string[]).includes(ref)) {
        issues.push({ path: at, message: unknownKeyMessage('parameter', ref, PARAMETER_NAMES) });
        good = false;
        continue;
      }
      if (ref === name) {
        issues.push({ path: at, message: `${name} cannot depend on itself` });
        good = false;
        continue;
      }
      const refPosition = order.indexOf(ref);
      if (refPosition < 0) {
        issues.push({ path: at, message: `${ref} is not under parameters, so it is always ${describeValue(DEFAULT_PARAMS[ref as ParameterName])} (its default) and this condition would be fixed; add ${ref} to parameters or drop the condition` });
        good = false;
        continue;
      }
      if (refPosition > position) {
        issues.push({ path: at, message: `${ref} is written below ${name}; a condition may only name parameters written above it (move ${name} below ${ref}), which also rules out cycles` });
        good = false;
        continue;
      }
      const refSpec = parameters[ref];
      if (refSpec === undefined) {
        good = false; // the referenced parameter is invalid and already reported
        continue;
      }
      const clause = normalizeClause(name, ref, refSpec, body, at, issues);
      if (clause === undefined) good = false;
      else condition[ref] = clause;
    }
    const spec = parameters[name];
    if (good && spec !== undefined) parameters[name] = { ...spec, condition };
    if (!good) ok = false;
  }
  return ok;
}
