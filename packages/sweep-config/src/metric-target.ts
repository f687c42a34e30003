import type { MetricSpec } from './types.js';

/**
 * Whether a trial's metric value reaches the sweep's `metric.target` (W&B semantics): with goal `maximize` when
 * value >= target, with `minimize` when value <= target. False when the spec has no target or the value is not a
 * finite number (a failed or diverged trial reaches nothing). Once this holds for any trial, no new trials start,
 * running ones finish, and the sweep completes.
 */
export function metricTargetReached(metric: Pick<MetricSpec, 'goal' | 'target'>, value: number | null | undefined): boolean {
  const { target } = metric;
  if (target === undefined || typeof value !== 'number' || !Number.isFinite(value)) return false;
  return metric.goal === 'maximize' ? value >= target : value <= target;
}
