import { enumerateParameter, parameterApplies } from '@sweepq/sweep-config';
import type { ParamValue, ParameterSpec } from '@sweepq/sweep-config';

type Parameters = Readonly<Record<string, ParameterSpec>>;

/**
 * Cartesian product of the parameters' values in the order the keys were written, the last key varying
 * fastest (like nested for-loops, and like W&B), stopping after `limit` combinations. Lazy, so a huge grid
 * truncated by run_cap costs only what is taken. A conditional parameter that does not apply to a combination is
 * left out of it (it takes its default) and does not multiply it, so no combination repeats.
 */
export function* gridCombinations(parameters: Parameters, limit = Infinity): Generator<Record<string, ParamValue>> {
  const names = Object.keys(parameters);
  const lists = names.map((name) => {
    const values = enumerateParameter(parameters[name] as ParameterSpec);
    if (values === undefined) throw new TypeError(`grid search cannot enumerate continuous parameter ${name}`);
    return values;
  });
  if (lists.some((l) => l.length === 0) || limit < 1) return;
  let produced = 0;
  function* walk(i: number, combo: Record<string, ParamValue>): Generator<Record<string, ParamValue>, boolean> {
    const name = names[i];
    if (name === undefined) {
      yield { ...combo };
      produced += 1;
      return produced < limit;
    }
    if (!parameterApplies(parameters[name] as ParameterSpec, combo)) return yield* walk(i + 1, combo);
    for (const value of lists[i] as ParamValue[]) {
      combo[name] = value;
      const more = yield* walk(i + 1, combo);
      if (!more) return false;
    }
    delete combo[name];
    return true;
  }
  yield* walk(0, {});
}
