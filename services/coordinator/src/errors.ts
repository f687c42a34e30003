import { SweepqError } from '@sweepq/runtime';

/** Codes of {@link PriorSweepError}. */
export const PriorSweepErrorCode = {
  /** A sweep names itself in `prior_sweeps`. */
  Self: 'PRIOR_SWEEP_SELF',
  /** No sweep with that id in the bucket. */
  NotFound: 'PRIOR_SWEEP_NOT_FOUND',
  /** The prior sweep optimised another metric. */
  OtherMetric: 'PRIOR_SWEEP_OTHER_METRIC',
  /** None of its finished trials lies inside this sweep's search space. */
  OutsideSpace: 'PRIOR_SWEEP_OUTSIDE_SPACE',
} as const;
export type PriorSweepErrorCode = (typeof PriorSweepErrorCode)[keyof typeof PriorSweepErrorCode];

/** A `prior_sweeps` entry that cannot warm-start this sweep; the message names it and says what would. */
export class PriorSweepError extends SweepqError {
  declare readonly code: PriorSweepErrorCode;
  /** The `prior_sweeps` entry at fault. */
  readonly prior: string;
  constructor(code: PriorSweepErrorCode, prior: string, message: string) {
    super(code, message);
    this.prior = prior;
  }
}

/** Thrown when the coordinator stops following a sweep because it is shutting down. */
export class CoordinatorInterrupt extends SweepqError {
  constructor() {
    super('COORDINATOR_INTERRUPTED', 'coordinator shutting down; sweep released for another coordinator');
  }
}
