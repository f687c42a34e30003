import { SweepqError } from '@sweepq/runtime';

/** Codes of {@link LifecycleError}. */
export const LifecycleErrorCode = {
  /** The state change is not in the transition table. */
  BadTransition: 'LIFECYCLE_BAD_TRANSITION',
  /** No sweep with that id in the bucket. */
  NoSuchSweep: 'LIFECYCLE_NO_SUCH_SWEEP',
  /** A sweep id is taken. */
  Exists: 'LIFECYCLE_EXISTS',
  /** A record read back from the bucket does not have the expected shape. */
  BadRecord: 'LIFECYCLE_BAD_RECORD',
  /** The operation does not apply to the sweep as it is now (e.g. retry while a coordinator owns it). */
  Refused: 'LIFECYCLE_REFUSED',
  /** Someone took the sweep (a newer owner epoch) after this process did: it must stop without writing. */
  Fenced: 'LIFECYCLE_FENCED',
  /** A compare-and-set write kept losing to other writers. */
  Conflict: 'LIFECYCLE_CONFLICT',
} as const;
export type LifecycleErrorCode = (typeof LifecycleErrorCode)[keyof typeof LifecycleErrorCode];

/** A sweep or trial state change that cannot be made, with the reason in words. */
export class LifecycleError extends SweepqError {
  readonly sweepId: string | undefined;
  constructor(code: LifecycleErrorCode, message: string, opts: { sweepId?: string; cause?: unknown } = {}) {
    super(code, message, { cause: opts.cause });
    this.sweepId = opts.sweepId;
  }
}

/**
 * Thrown when this attempt lost its job lock before committing: another worker owns the trial now. Not a
 * {@link LifecycleError} (its code is not one of {@link LifecycleErrorCode}): it concerns one trial's job, not a
 * sweep, and the worker drops the attempt quietly.
 */
export class LockLostError extends SweepqError {
  declare readonly code: 'LIFECYCLE_LOCK_LOST';
  readonly trialId: string;
  constructor(trialId: string) {
    super('LIFECYCLE_LOCK_LOST', `lost the job lock of trial ${trialId} before committing its result; another worker owns it now`);
    this.trialId = trialId;
  }
}
