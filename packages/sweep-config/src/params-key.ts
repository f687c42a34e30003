import { PARAMETER_NAMES, type TrialParams } from './parameters.js';

/**
 * Canonical text of a configuration, for de-duplication: every parameter in PARAMETER_NAMES order with its value
 * (numbers in JavaScript's shortest round-trip form), so equal configurations give equal keys whatever their
 * property order. Example: `max_words=10000,max_len=100,…,epochs=3`.
 */
export function paramsKey(p: Readonly<TrialParams>): string {
  return PARAMETER_NAMES.map((name) => `${name}=${String(p[name])}`).join(',');
}
