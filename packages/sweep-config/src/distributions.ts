// What values each distribution kind can produce, in one place: validation checks these ranges against the parameter's
// rule, random search samples inside them, and the TPE sampler models the same domains.
import { firstMultiple, lastMultiple, multiple } from './quantize.js';
import type { ParameterSpec } from './types.js';

/** The kinds drawn log-uniformly between two positive value bounds (see {@link logUniformBounds}). */
export const LOG_UNIFORM_KINDS = ['log_uniform_values', 'log_uniform', 'inv_log_uniform', 'inv_log_uniform_values', 'q_log_uniform_values', 'q_log_uniform'] as const;
export type LogUniformKind = (typeof LOG_UNIFORM_KINDS)[number];
type LogUniformSpec = Extract<ParameterSpec, { kind: LogUniformKind }>;

/** Whether a spec is one of the {@link LOG_UNIFORM_KINDS}. */
export function isLogUniform(spec: ParameterSpec): spec is LogUniformSpec {
  return (LOG_UNIFORM_KINDS as readonly string[]).includes(spec.kind);
}

/**
 * The value bounds [lo, hi] of a log-uniform kind: min and max for the `_values` kinds; e^min and e^max for W&B's
 * exponent kinds `log_uniform` and `q_log_uniform`; e^-max and e^-min for `inv_log_uniform` (1 / exp(U(min, max))).
 * `inv_log_uniform_values` is 1 / X with X log-uniform on [1/max, 1/min], which is log-uniform on [min, max].
 */
export function logUniformBounds(spec: LogUniformSpec): readonly [number, number] {
  switch (spec.kind) {
    case 'log_uniform':
    case 'q_log_uniform':
      return [Math.exp(spec.min), Math.exp(spec.max)];
    case 'inv_log_uniform':
      return [Math.exp(-spec.max), Math.exp(-spec.min)];
    default:
      return [spec.min, spec.max];
  }
}

/** The kinds whose values are multiples of q. */
export const QUANTIZED_KINDS = ['q_uniform', 'q_log_uniform_values', 'q_log_uniform', 'q_normal', 'q_log_normal', 'q_beta'] as const;
export type QuantizedKind = (typeof QUANTIZED_KINDS)[number];
type QuantizedSpec = Extract<ParameterSpec, { kind: QuantizedKind }>;

/** Whether a spec is one of the {@link QUANTIZED_KINDS}. */
export function isQuantized(spec: ParameterSpec): spec is QuantizedSpec {
  return (QUANTIZED_KINDS as readonly string[]).includes(spec.kind);
}

/**
 * The multiples k·q a quantized kind can produce, as k in [kLo, kHi] (either may be infinite): those inside [min, max]
 * (q_uniform), inside the log-uniform bounds (q_log_uniform, q_log_uniform_values), from q up (q_log_normal: the
 * log-normal's support is (0, ∞)), strictly inside (0, 1) (q_beta), or all of them (q_normal). Empty (kLo > kHi) when
 * no multiple fits.
 */
export function quantizedRange(spec: QuantizedSpec): { kLo: number; kHi: number } {
  const { q } = spec;
  switch (spec.kind) {
    case 'q_uniform':
      return { kLo: firstMultiple(spec.min, q), kHi: lastMultiple(spec.max, q) };
    case 'q_log_uniform_values':
    case 'q_log_uniform': {
      const [lo, hi] = logUniformBounds(spec);
      return { kLo: Math.max(1, firstMultiple(lo, q)), kHi: lastMultiple(hi, q) };
    }
    case 'q_normal':
      return { kLo: -Infinity, kHi: Infinity };
    case 'q_log_normal':
      return { kLo: 1, kHi: Infinity };
    case 'q_beta': {
      const k = lastMultiple(1, q);
      return { kLo: 1, kHi: multiple(k, q) >= 1 ? k - 1 : k };
    }
  }
}

/** The multiple of q nearest to x among k·q, k in [kLo, kHi]. */
export function nearestMultiple(x: number, q: number, kLo: number, kHi: number): number {
  return multiple(Math.min(kHi, Math.max(kLo, Math.round(x / q))), q);
}
