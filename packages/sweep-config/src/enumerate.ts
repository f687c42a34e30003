import { firstMultiple, lastMultiple, multiple } from './quantize.js';
import type { ParamValue, ParameterSpec } from './types.js';

/** Every value a discrete spec can take, in order; undefined for continuous kinds. */
export function enumerateParameter(spec: ParameterSpec): ParamValue[] | undefined {
  switch (spec.kind) {
    case 'constant':
      return [spec.value];
    case 'categorical':
      return [...spec.values];
    case 'int_uniform':
      return Array.from({ length: spec.max - spec.min + 1 }, (_, i) => spec.min + i);
    case 'q_uniform': {
      const kLo = firstMultiple(spec.min, spec.q);
      const kHi = lastMultiple(spec.max, spec.q);
      return Array.from({ length: kHi - kLo + 1 }, (_, i) => multiple(kLo + i, spec.q));
    }
    default:
      return undefined;
  }
}

/** How many values a discrete spec has, without listing them (Infinity for continuous kinds). */
export function countParameter(spec: ParameterSpec): number {
  switch (spec.kind) {
    case 'constant':
      return 1;
    case 'categorical':
      return spec.values.length;
    case 'int_uniform':
      return spec.max - spec.min + 1;
    case 'q_uniform':
      return lastMultiple(spec.max, spec.q) - firstMultiple(spec.min, spec.q) + 1;
    default:
      return Infinity;
  }
}
