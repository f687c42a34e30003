import { EARLY_TERMINATE_DEFAULTS } from '@sweepq/sweep-config';
import type { SweepSpec } from '@sweepq/sweep-config';
import { describeAsha, hyperbandMode } from './hyperband.js';
import type { HyperbandMode } from './hyperband.js';
import { describeMedian, medianMode } from './median.js';
import type { MedianMode } from './median.js';
import type { RuleOutcome } from './outcome.js';

type PrunerSpec = Pick<SweepSpec, 'early_terminate' | 'metric' | 'parameters'>;

/**
 * What a store of rung values does with one report, for the spec's `early_terminate` (see `RungStore` in
 * @sweepq/lifecycle, which applies it atomically in Redis):
 * - `asha`: rank the value at this rung with {@link ashaRule};
 * - `asha_best`: the same with the trial's best value up to the rung (hyperband `strict: false`);
 * - `median`: compare the trial's best so far with the other trials' at this epoch ({@link medianRule});
 * - `record`: store the trial's best value so far, decide nothing.
 */
export interface RungStep {
  mode: HyperbandMode | MedianMode;
  /** hyperband's eta (default applied); 0 for median. */
  eta: number;
  /** median's warmup_trials (default applied); 0 for hyperband. */
  warmup: number;
  maximize: boolean;
}

/** The step for a report after `epoch` (1-based), or null when that epoch changes nothing (the trial continues). */
export function rungStep(spec: PrunerSpec, epoch: number): RungStep | null {
  const et = spec.early_terminate;
  if (et === undefined) return null;
  const maximize = spec.metric.goal === 'maximize';
  if (et.type === 'hyperband') {
    const mode = hyperbandMode(et, spec, epoch);
    return mode === null ? null : { mode, eta: et.eta ?? EARLY_TERMINATE_DEFAULTS.eta, warmup: 0, maximize };
  }
  const mode = medianMode(spec, epoch);
  return mode === null ? null : { mode, eta: 0, warmup: et.warmup_trials ?? EARLY_TERMINATE_DEFAULTS.warmup_trials, maximize };
}

/** Why a rung decided as it did (`mine`: the value the rule compared), in words, for logs and the trial result. */
export function describeRungOutcome(spec: Pick<SweepSpec, 'metric'>, step: RungStep, epoch: number, outcome: RuleOutcome, mine: number): string {
  const metric = spec.metric.name;
  if (step.mode === 'median') return describeMedian(outcome, mine, { epoch, warmup: step.warmup, metric });
  return describeAsha(outcome, mine, { epoch, eta: step.eta, metric, best: step.mode === 'asha_best' });
}
