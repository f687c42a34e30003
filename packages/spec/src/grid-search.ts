import { clauseHolds } from './conditions.js';
import { countParameter, enumerateParameter } from './sampling.js';
import type { ParamValue, ParameterSpec } from './types.js';

type Parameters = Readonly<Record<string, ParameterSpec>>;

/** Whether parameter `spec` applies given the values of the (earlier) parameters in `combo`; absent means inactive. */
function applies(spec: ParameterSpec, combo: Readonly<Record<string, ParamValue>>): boolean {
  if (spec.condition === undefined) return true;
  for (const [ref, clause] of Object.entries(spec.condition)) {
    if (!Object.hasOwn(combo, ref) || !clauseHolds(clause, combo[ref])) return false;
  }
  return true;
}

/**
 * Number of distinct combinations a grid over these parameters has (Infinity if any is continuous). A conditional
 * parameter multiplies only the combinations where it applies. Conditions name earlier parameters only (validateSpec),
 * so one pass in written order sees every value a condition depends on; values of a referenced parameter are grouped
 * by which clauses they satisfy, so this costs per group, not per combination.
 */
export function gridSize(parameters: Parameters): number {
  const names = Object.keys(parameters);
  const referenced = new Map<string, Array<{ clause: NonNullable<ParameterSpec['condition']>[string] }>>();
  for (const spec of Object.values(parameters)) {
    for (const [ref, clause] of Object.entries(spec.condition ?? {})) {
      const list = referenced.get(ref) ?? [];
      list.push({ clause });
      referenced.set(ref, list);
    }
  }
  if (referenced.size === 0) {
    let size = 1;
    for (const spec of Object.values(parameters)) size *= countParameter(spec);
    return size;
  }
  const count = (i: number, combo: Record<string, ParamValue>): number => {
    const name = names[i];
    if (name === undefined) return 1;
    const spec = parameters[name] as ParameterSpec;
    if (!applies(spec, combo)) return count(i + 1, combo);
    const clauses = referenced.get(name);
    if (clauses === undefined) return countParameter(spec) * count(i + 1, combo);
    const values = enumerateParameter(spec);
    if (values === undefined) return Infinity;
    const groups = new Map<string, { value: ParamValue; size: number }>();
    for (const value of values) {
      const signature = clauses.map(({ clause }) => (clauseHolds(clause, value) ? '1' : '0')).join('');
      const group = groups.get(signature);
      if (group === undefined) groups.set(signature, { value, size: 1 });
      else group.size += 1;
    }
    let total = 0;
    for (const { value, size } of groups.values()) total += size * count(i + 1, { ...combo, [name]: value });
    return total;
  };
  return count(0, {});
}

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
    if (!applies(parameters[name] as ParameterSpec, combo)) return yield* walk(i + 1, combo);
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
