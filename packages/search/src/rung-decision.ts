/**
 * The early-termination decision rules, in TypeScript. RungStore runs the same rules inside Redis (Lua, so concurrent
 * reports are decided one at a time); these functions define them, are what the tests check the Lua against, and let
 * a single-process caller (the benchmark, a simulation) decide without Redis.
 */

/** Outcome of one decision at a rung. */
export interface RuleOutcome {
  continue: boolean;
  /** 1-based rank of the trial's value among all values at the rung (ties share the best rank). */
  rank: number;
  /** Values at the rung, the trial's own included (successive halving); other trials' values (median). */
  n: number;
  /** Successive halving: how many may continue (floor(n / eta), or n while n < eta); median: unused (= n). */
  keep: number;
  /** The value to beat: the worst value still kept (successive halving) or the median of the others; null if none. */
  threshold: number | null;
}

const isBetter = (maximize: boolean, a: number, b: number): boolean => (maximize ? a > b : a < b);

/**
 * Asynchronous successive halving (ASHA), "stop" form: at a rung, the trial continues iff its value ranks within the
 * top `floor(n / eta)` of the `n` values recorded at that rung so far, its own included. While `n < eta` (too few
 * seen for a top 1/eta to exist) every trial continues, as in ASHA, where the first trials at a rung are always
 * promoted. Ties: rank = 1 + the number of values strictly better, so tied values share the better rank and either
 * all continue or all stop — the decision does not depend on which of two equal trials reported first.
 */
export function ashaRule(values: readonly number[], mine: number, eta: number, maximize: boolean): RuleOutcome {
  const n = values.length;
  let rank = 1;
  for (const v of values) if (isBetter(maximize, v, mine)) rank += 1;
  const keep = n < eta ? n : Math.floor(n / eta);
  const sorted = [...values].sort((a, b) => (maximize ? b - a : a - b));
  const threshold = keep > 0 ? (sorted[keep - 1] ?? null) : null;
  return { continue: rank <= keep, rank, n, keep, threshold };
}

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
