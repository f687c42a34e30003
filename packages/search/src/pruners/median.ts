import { maxEpochs, rungEpochs } from '@sweepq/sweep-config';
import type { SweepSpec } from '@sweepq/sweep-config';
import { formatValue, isBetter } from './outcome.js';
import type { RuleOutcome } from './outcome.js';

/**
 * Median stopping: the trial continues unless its best value so far is strictly worse than the median of the other
 * trials' best-so-far values at the same epoch. With fewer than `warmup` other trials at that epoch it continues.
 * Ties with the median continue. The median of an even count is the mean of the two middle values.
 */
export function medianRule(others: readonly number[], mine: number, warmup: number, maximize: boolean): RuleOutcome {
  const n = others.length;
  let rank = 1;
  for (const v of others) if (isBetter(maximize, v, mine)) rank += 1;
  if (n === 0 || n < warmup) return { continue: true, rank, n, keep: n, threshold: null };
  const sorted = [...others].sort((a, b) => a - b);
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { continue: !isBetter(maximize, median, mine), rank, n, keep: n, threshold: median };
}

/** What a rung store does with a median-rule report: decide, or only record the best value so far. */
export type MedianMode = 'median' | 'record';

/**
 * The median rule's step at `epoch`: every epoch before the last records the trial's best value so far, and from
 * `min_iter` on (the rung epochs) it is also decided; null at and after the last epoch (a decision there stops nothing).
 */
export function medianMode(spec: Pick<SweepSpec, 'parameters' | 'early_terminate'>, epoch: number): MedianMode | null {
  if (epoch >= maxEpochs(spec)) return null;
  return rungEpochs(spec).includes(epoch) ? 'median' : 'record';
}

/** Why a median decision went as it did, in words, for logs and the trial result. */
export function describeMedian(o: RuleOutcome, mine: number, opts: { epoch: number; warmup: number; metric: string }): string {
  const { epoch, metric } = opts;
  return o.threshold === null
    ? `best ${metric} so far ${formatValue(mine)} at epoch ${epoch}: only ${o.n} other trial(s) reached this epoch (warm-up ${opts.warmup}), continue`
    : `best ${metric} so far ${formatValue(mine)} at epoch ${epoch} is ${o.continue ? 'not worse than' : 'worse than'} the median ${formatValue(o.threshold)} of ${o.n} other trial(s)`;
}
