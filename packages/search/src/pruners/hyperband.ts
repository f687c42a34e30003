import { EARLY_TERMINATE_DEFAULTS, rungEpochs } from '@sweepq/sweep-config';
import type { EarlyTerminateSpec, SweepSpec } from '@sweepq/sweep-config';
import { formatValue, isBetter } from './outcome.js';
import type { RuleOutcome } from './outcome.js';

type HyperbandSpec = Extract<EarlyTerminateSpec, { type: 'hyperband' }>;

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

/** What a rung store does with a hyperband report: rank the value at the rung, rank the best so far, or only record. */
export type HyperbandMode = 'asha' | 'asha_best' | 'record';

/**
 * Hyperband's step at `epoch`: `asha` at a rung (`strict`, W&B's default: the value at the rung is ranked),
 * `asha_best` at a rung with `strict: false` (the trial's best value up to the rung is ranked), `record` before the
 * last rung with `strict: false` (so the best so far is known at the rung), null when the epoch changes nothing.
 */
export function hyperbandMode(et: HyperbandSpec, spec: Pick<SweepSpec, 'parameters'>, epoch: number): HyperbandMode | null {
  const rungs = rungEpochs({ parameters: spec.parameters, early_terminate: et });
  const strict = et.strict ?? EARLY_TERMINATE_DEFAULTS.strict;
  if (rungs.includes(epoch)) return strict ? 'asha' : 'asha_best';
  // strict: false ranks each trial's best value up to the rung, so every epoch before the last rung is recorded.
  return strict || epoch > Math.max(...rungs) ? null : 'record';
}

/** Why a hyperband rung decided as it did, in words, for logs and the trial result. */
export function describeAsha(o: RuleOutcome, mine: number, opts: { epoch: number; eta: number; metric: string; best: boolean }): string {
  const { epoch, eta } = opts;
  const what = opts.best ? `best ${opts.metric} so far` : opts.metric;
  return o.n < eta
    ? `${what} ${formatValue(mine)} at the epoch-${epoch} rung: ${o.n} of the first ${Math.ceil(eta) - 1} trial(s) at this rung, all continue (eta=${eta})`
    : `${what} ${formatValue(mine)} ranks ${o.rank} of ${o.n} at the epoch-${epoch} rung; the top ${o.keep} (1/${eta}) continue${o.threshold === null ? '' : `, cutoff ${formatValue(o.threshold)}`}`;
}
