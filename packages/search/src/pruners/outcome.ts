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

export const isBetter = (maximize: boolean, a: number, b: number): boolean => (maximize ? a > b : a < b);

/** A metric value as the decision reasons print it. */
export function formatValue(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(4);
}
