import { createHash } from 'node:crypto';
import { addedLater, DEFAULT_PARAMS, PARAMETER_NAMES } from './parameters.js';
import type { ParameterSpec, SweepSpec } from './types.js';

/** JSON with object keys sorted at every level and undefined members dropped: equal data gives equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot canonicalise non-finite number ${value}`);
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The resolved form that {@link specHash} digests: every parameter present (defaults as constants; a parameter added later, see
 * `ParameterDefinition.addedLater`, only when the spec gives it something other than its bare default, so adding one
 * leaves the hash of every existing spec as it was), keys sorted, plus — for grid only, where it decides which trial
 * gets which index — the written order of swept parameters.
 */
export function canonicalSpec(spec: SweepSpec): unknown {
  const parameters: Record<string, ParameterSpec> = {};
  for (const name of PARAMETER_NAMES) {
    const ps: ParameterSpec = Object.hasOwn(spec.parameters, name) ? (spec.parameters[name] as ParameterSpec) : { kind: 'constant', value: DEFAULT_PARAMS[name] };
    const bareDefault = ps.kind === 'constant' && ps.value === DEFAULT_PARAMS[name] && ps.condition === undefined;
    if (!addedLater(name) || !bareDefault) parameters[name] = ps;
  }
  const gridOrder = spec.method === 'grid' ? Object.keys(spec.parameters).filter((k) => spec.parameters[k]?.kind !== 'constant') : undefined;
  return { format: 'sweepq.spec/1', spec: { ...spec, parameters }, grid_order: gridOrder };
}

/**
 * Stable SHA-256 (hex) of the resolved spec. Equal for specs that plan the same trials on the same data:
 * key order, YAML formatting, and spelling a default explicitly do not matter (except the order of swept
 * parameters under grid search). Every field counts, `name` and `description` included.
 */
export function specHash(spec: SweepSpec): string {
  return createHash('sha256').update(canonicalJson(canonicalSpec(spec))).digest('hex');
}
