import { PARAMETER_NAMES, createRng } from '@sweepq/sweep-config';
import type { ParamValue, ParameterSpec } from '@sweepq/sweep-config';
import { sampleParameter } from './sample-parameter.js';

/**
 * Draws trial `index` of a random search. Each trial has its own generator stream (seed, index), and parameters
 * are drawn in PARAMETER_NAMES order rather than written order, so reordering keys in the YAML or changing
 * run_cap never changes an already-planned trial.
 */
export function randomCombination(parameters: Readonly<Record<string, ParameterSpec>>, seed: number, index: number): Record<string, ParamValue> {
  const rng = createRng(seed, index);
  const combo: Record<string, ParamValue> = {};
  for (const name of PARAMETER_NAMES) {
    const spec = Object.hasOwn(parameters, name) ? parameters[name] : undefined;
    if (spec !== undefined) combo[name] = sampleParameter(spec, rng);
  }
  return combo;
}
