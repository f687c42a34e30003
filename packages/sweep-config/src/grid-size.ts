import { clauseHolds, parameterApplies } from './conditions.js';
import { countParameter, enumerateParameter } from './enumerate.js';
import type { ParamValue, ParameterSpec } from './types.js';

type Parameters = Readonly<Record<string, ParameterSpec>>;

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
    if (!parameterApplies(spec, combo)) return count(i + 1, combo);
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
