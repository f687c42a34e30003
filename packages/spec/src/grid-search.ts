import { countParameter, enumerateParameter } from './sampling.js';
import type { ParamValue, ParameterSpec } from './types.js';

/** Number of combinations a grid over these parameters has (Infinity if any is continuous). */
export function gridSize(parameters: Readonly<Record<string, ParameterSpec>>): number {
  let size = 1;
  for (const spec of Object.values(parameters)) size *= countParameter(spec);
  return size;
}

/**
 * Cartesian product of the parameters' values in the order the keys were written, the last key varying
 * fastest (like nested for-loops, and like W&B), stopping after `limit` combinations. Lazy, so a huge grid
 * truncated by run_cap costs only what is taken.
 */
export function* gridCombinations(parameters: Readonly<Record<string, ParameterSpec>>, limit = Infinity): Generator<Record<string, ParamValue>> {
  const names = Object.keys(parameters);
  const lists = names.map((name) => {
    const values = enumerateParameter(parameters[name] as ParameterSpec);
    if (values === undefined) throw new TypeError(`grid search cannot enumerate continuous parameter ${name}`);
    return values;
  });
  if (lists.some((l) => l.length === 0)) return;
  const odometer = names.map(() => 0);
  for (let produced = 0; produced < limit; produced++) {
    const combo: Record<string, ParamValue> = {};
    names.forEach((name, i) => {
      combo[name] = lists[i]?.[odometer[i] ?? 0] as ParamValue;
    });
    yield combo;
    let i = names.length - 1;
    for (; i >= 0; i--) {
      const next = (odometer[i] ?? 0) + 1;
      if (next < (lists[i]?.length ?? 0)) {
        odometer[i] = next;
        break;
      }
      odometer[i] = 0;
    }
    if (i < 0) return;
  }
}
