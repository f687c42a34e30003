import { logUniformBounds, isLogUniform } from './distributions.js';
import { DEFAULT_PARAMS, PARAMETER_NAMES, type ParameterName, type TrialParams } from './parameters.js';
import type { ParameterSpec, SweepSpec } from './types.js';

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** Whether a parameter's distribution can produce `v` (bounds inclusive, with float tolerance). */
export function parameterContains(ps: ParameterSpec, v: unknown): boolean {
  if (ps.kind === 'constant') return v === ps.value || (typeof v === 'number' && typeof ps.value === 'number' && near(v, ps.value));
  if (ps.kind === 'categorical') return ps.values.some((x) => x === v || (typeof v === 'number' && typeof x === 'number' && near(v, x)));
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (isLogUniform(ps)) {
    const [lo, hi] = logUniformBounds(ps);
    return (v >= lo || near(v, lo)) && (v <= hi || near(v, hi));
  }
  switch (ps.kind) {
    case 'int_uniform':
    case 'uniform':
    case 'q_uniform':
      return (v >= ps.min || near(v, ps.min)) && (v <= ps.max || near(v, ps.max));
    case 'beta':
    case 'q_beta':
      return v > 0 && v < 1;
    default:
      // normal, log-normal and their quantized forms have unbounded support
      return true;
  }
}

/**
 * The first parameter whose value in `params` this sweep could not have produced (a fixed parameter with another
 * value, or one outside a range), or undefined when the trial lies inside the sweep's search space. A conditional
 * parameter at its default counts as inactive, which is always inside.
 */
export function outsideSpace(spec: Pick<SweepSpec, 'parameters'>, params: Readonly<TrialParams>): ParameterName | undefined {
  for (const name of PARAMETER_NAMES) {
    const v = params[name];
    const ps = Object.hasOwn(spec.parameters, name) ? spec.parameters[name] : undefined;
    if (ps === undefined) {
      if (v !== DEFAULT_PARAMS[name]) return name;
    } else if (!parameterContains(ps, v) && !(ps.condition && v === DEFAULT_PARAMS[name])) {
      return name;
    }
  }
  return undefined;
}
