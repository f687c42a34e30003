import type { LeaderboardRow, TrialCosts } from '@sweepq/results';
import { paretoFront, type MetricGoal } from '@sweepq/sweep-config';

/** One objective of a sweep with several, as the report draws it. */
export interface ReportObjective {
  name: string;
  goal: MetricGoal;
  /** Draw on a log axis: a cost whose values are all positive and span {@link OBJECTIVE_LOG_MIN_RATIO} or more. */
  log: boolean;
}

/** The trials on the Pareto front of two objectives (indices into {@link ReportPareto.objectives}, `a` < `b`). */
export interface ParetoPair {
  a: number;
  b: number;
  /** Trial ids, in leaderboard order: what the plot of these two objectives joins as a step line. */
  front: string[];
}

/** What the report draws of a sweep with several objectives (absent from the data of a single-metric sweep). */
export interface ReportPareto {
  objectives: ReportObjective[];
  /** Trials on the front of every objective (Pareto rank 0). */
  size: number;
  /** Every pair of objectives, for the plot of any two. */
  pairs: ParetoPair[];
}

/** One trial's objective values (raw, in objective order) and Pareto rank (0 = front; null: unranked or a value missing). */
export interface TrialObjectives {
  values: (number | null)[];
  front: number | null;
}

/**
 * Costs whose axis turns logarithmic when their values spread wide: model sizes and parameter counts grow with
 * products of parameters (vocabulary × embedding, units²), so a sweep's models commonly span decades. Keyed by
 * TrialCosts, so a new cost cannot be added without deciding here. Accuracy and loss stay linear.
 */
const LOG_WHEN_WIDE: Readonly<Record<keyof TrialCosts, true>> = { model_bytes: true, param_count: true, latency_ms: true };

/**
 * Smallest max/min ratio of an objective's values for a log axis. One decade, not the two of LOG_AXIS_MIN_RATIO
 * (parameters): a parameter list spanning one decade has few values, each on its own tick, while sizes spread over a
 * decade put half of the points of a log-uniform spread in the bottom fifth of a linear axis.
 */
export const OBJECTIVE_LOG_MIN_RATIO = 10;

function logAxis(name: string, values: readonly number[]): boolean {
  if (!Object.hasOwn(LOG_WHEN_WIDE, name) || values.length < 2 || values.some((v) => !(v > 0))) return false;
  return Math.max(...values) / Math.min(...values) >= OBJECTIVE_LOG_MIN_RATIO;
}

/**
 * What the report draws of a sweep's objectives, from the leaderboard's rows (`buildLeaderboard` with the spec's
 * objectives owns each trial's values and Pareto rank) plus the front of every pair of objectives. A pair's front is
 * taken among the front's trials only: a trial off the front is dominated by one on it, which is then at least as
 * good on those two objectives as well, so the pair's front is the same but for a trial off the front that exactly
 * ties a front trial on both (drawn at the same spot, so the plot does not change), and it costs nothing at 10,000 trials.
 */
export function paretoData(
  objectives: readonly { name: string; goal: MetricGoal }[],
  rows: readonly Pick<LeaderboardRow, 'trialId' | 'values' | 'front'>[],
): { pareto: ReportPareto; byTrial: Map<string, TrialObjectives> } {
  const goals = objectives.map((o) => o.goal);
  const byTrial = new Map<string, TrialObjectives>();
  for (const r of rows) byTrial.set(r.trialId, { values: r.values ?? objectives.map(() => null), front: r.front ?? null });
  const ranked = rows.filter((r) => r.front !== null && r.front !== undefined);
  const onFront = ranked.flatMap((r) => (r.front === 0 ? [{ id: r.trialId, values: r.values ?? [] }] : []));
  const pairs: ParetoPair[] = [];
  for (let a = 0; a < objectives.length; a++) {
    for (let b = a + 1; b < objectives.length; b++) {
      const front = paretoFront(onFront.map((p) => [p.values[a] ?? null, p.values[b] ?? null]), [goals[a] as MetricGoal, goals[b] as MetricGoal]);
      pairs.push({ a, b, front: front.map((i) => (onFront[i] as { id: string }).id) });
    }
  }
  const measured = ranked.map((r) => r.values ?? []);
  return {
    pareto: {
      objectives: objectives.map((o, k) => ({ name: o.name, goal: o.goal, log: logAxis(o.name, measured.map((p) => p[k] as number)) })),
      size: onFront.length,
      pairs,
    },
    byTrial,
  };
}
