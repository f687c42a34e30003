import { paretoObjectives, type SweepSpec, type TrialParams } from '@sweepq/sweep-config';
import { MotpeSampler } from './motpe.js';
import { TpeSampler } from './tpe.js';
import type { Observation, TpeSamplerOptions } from './tpe.js';

/** What the coordinator asks of a model-based sampler: the next configuration given what finished and what runs. */
export interface Sampler {
  propose(index: number, observations: readonly Observation[], pending: readonly TrialParams[]): TrialParams;
}

/**
 * The sampler of a `method: bayes` spec: TPE on `metric` for one objective; with several (`spec.objectives`) the
 * multi-objective sampler (MotpeSampler). A single-objective spec gets exactly the TpeSampler it always had (same plans per seed).
 */
export function createSampler(spec: SweepSpec, opts: TpeSamplerOptions = {}): Sampler {
  if (paretoObjectives(spec.objectives) !== undefined) return new MotpeSampler(spec, opts);
  return new TpeSampler(spec, opts);
}
