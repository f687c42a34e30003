import { defaultGoal, type BestRule, type MetricGoal, type MetricName } from '@sweepq/sweep-config';
import { metricValue, type TrialResult } from './trial-result.js';

/** An objective as results need it: a metric name and its goal. */
export interface Objective {
  name: string;
  goal: MetricGoal;
}

/** A metric's goal in a sweep: the objective's when it is one, else the name's default (`*accuracy` maximizes). */
export function goalOf(name: string, objectives: readonly Objective[]): MetricGoal {
  return objectives.find((o) => o.name === name)?.goal ?? defaultGoal(name as MetricName);
}

/**
 * How far a value may lie beyond the bound of a `within` margin and still count as inside it: values such as
 * 0.97 - 0.965 come out as 0.0050000000000000044 in binary floating point, which a margin of 0.005 written in a
 * spec is meant to include.
 */
const SLACK = 1e-9;

/**
 * The trial of the Pareto front a {@link BestRule} picks: among `front` (the front's trials, any order), those whose
 * value of every metric named in `rule.within` lies within that margin of the front's best value of it, then the one
 * best by `rule.pick` in its goal's direction ({@link goalOf}); ties go to the lower trial index. A trial without a
 * value of a metric the rule names is no candidate. Undefined when no trial qualifies (an empty front, or none has
 * the values).
 */
export function pickByRule(front: readonly TrialResult[], objectives: readonly Objective[], rule: BestRule): TrialResult | undefined {
  // Each margin counts from the best value on the whole front, not on what an earlier margin left.
  const margins = Object.entries(rule.within ?? {}).flatMap(([name, margin]) => {
    if (margin === undefined) return [];
    const sign = goalOf(name, objectives) === 'maximize' ? 1 : -1;
    const values = front.map((r) => metricValue(r, name)).filter((v) => v !== null);
    const best = Math.max(...values.map((v) => sign * v));
    return [{ name, sign, bound: best - margin - SLACK * Math.max(1, Math.abs(best)) }];
  });
  const candidates = front.filter((r) =>
    margins.every((m) => {
      const v = metricValue(r, m.name);
      return v !== null && m.sign * v >= m.bound;
    }),
  );
  const sign = goalOf(rule.pick, objectives) === 'maximize' ? 1 : -1;
  let pick: { r: TrialResult; v: number } | undefined;
  for (const r of candidates) {
    const raw = metricValue(r, rule.pick);
    if (raw === null) continue;
    const v = sign * raw;
    if (!pick || v > pick.v || (v === pick.v && r.index < pick.r.index)) pick = { r, v };
  }
  return pick?.r;
}
