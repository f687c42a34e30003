import type { MetricGoal } from './types.js';

/** One trial's values of a sweep's objectives, in `SweepSpec.objectives` order; null or non-finite: not measured. */
export type ObjectiveValues = readonly (number | null)[];

function measured(v: ObjectiveValues, n: number): boolean {
  if (v.length !== n) return false;
  for (const x of v) if (x === null || !Number.isFinite(x)) return false;
  return true;
}

/**
 * Whether `a` Pareto-dominates `b`: no worse on every objective (each in its goal's direction) and better on one.
 * A point with a missing value dominates nothing and is dominated by every fully measured point.
 */
export function dominates(a: ObjectiveValues, b: ObjectiveValues, goals: readonly MetricGoal[]): boolean {
  const n = goals.length;
  if (!measured(a, n)) return false;
  if (!measured(b, n)) return true;
  let better = false;
  for (let i = 0; i < n; i++) {
    const d = goals[i] === 'maximize' ? (a[i] as number) - (b[i] as number) : (b[i] as number) - (a[i] as number);
    if (d < 0) return false;
    if (d > 0) better = true;
  }
  return better;
}

/**
 * Non-dominated sorting (Deb et al. 2002): rank 0 is the Pareto front, rank 1 the front of what is left, and so on;
 * null for a point with a missing value (it is on no front). Points with equal values share a rank. O(n^2 m), which
 * is nothing at the sizes of a sweep (MAX_TRIALS).
 */
export function paretoRanks(points: readonly ObjectiveValues[], goals: readonly MetricGoal[]): (number | null)[] {
  const n = points.length;
  const ranks: (number | null)[] = points.map(() => null);
  const dominatedBy = new Array<number>(n).fill(0);
  const dominating: number[][] = points.map(() => []);
  const live: number[] = [];
  for (let i = 0; i < n; i++) if (measured(points[i] as ObjectiveValues, goals.length)) live.push(i);
  for (const i of live) {
    for (const j of live) {
      if (i !== j && dominates(points[i] as ObjectiveValues, points[j] as ObjectiveValues, goals)) {
        (dominating[i] as number[]).push(j);
        dominatedBy[j] = (dominatedBy[j] as number) + 1;
      }
    }
  }
  let front = live.filter((i) => dominatedBy[i] === 0);
  for (let rank = 0; front.length > 0; rank++) {
    const next: number[] = [];
    for (const i of front) {
      ranks[i] = rank;
      for (const j of dominating[i] as number[]) {
        dominatedBy[j] = (dominatedBy[j] as number) - 1;
        if (dominatedBy[j] === 0) next.push(j);
      }
    }
    front = next;
  }
  return ranks;
}

/** Indices of the points on the Pareto front (rank 0), ascending. */
export function paretoFront(points: readonly ObjectiveValues[], goals: readonly MetricGoal[]): number[] {
  return paretoRanks(points, goals).flatMap((r, i) => (r === 0 ? [i] : []));
}
