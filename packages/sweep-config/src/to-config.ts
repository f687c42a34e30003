import type { ParameterSpec, SweepSpec } from './types.js';

function parameterToConfig(spec: ParameterSpec): Record<string, unknown> {
  const { condition } = spec;
  const body = distributionToConfig(spec);
  return condition === undefined ? body : { ...body, condition };
}

function distributionToConfig(spec: ParameterSpec): Record<string, unknown> {
  switch (spec.kind) {
    case 'constant':
      return { value: spec.value };
    case 'categorical':
      return spec.probabilities === undefined ? { values: [...spec.values] } : { values: [...spec.values], probabilities: [...spec.probabilities] };
    default: {
      const { kind, condition: _condition, ...rest } = spec;
      return { distribution: kind, ...rest };
    }
  }
}

/**
 * Turns a resolved spec back into the W&B dialect `validateSpec` reads (e.g. to write `sweep.json` or show the
 * effective file); several objectives become `metric:` as a list again. `validateSpec(specToConfig(s))` deep-equals `s`.
 */
export function specToConfig(spec: SweepSpec): Record<string, unknown> {
  const { parameters, ignored, objectives, ...rest } = spec;
  const out: Record<string, unknown> = { ...rest, parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, parameterToConfig(v)])) };
  // Several objectives are written as they are read: `metric:` as the list (its first entry is `metric`).
  if (objectives !== undefined) out['metric'] = objectives;
  if (ignored !== undefined) {
    const { metric, ...topLevel } = ignored;
    Object.assign(out, topLevel);
    if (metric !== undefined) out['metric'] = { ...spec.metric, ...metric };
  }
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}
