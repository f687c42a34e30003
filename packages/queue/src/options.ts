import type { JobsOptions } from 'bullmq';

/**
 * Trial jobs: transient failures (S3 5xx, Redis blips, a worker dying) are retried with exponential
 * backoff; deterministic ones throw UnrecoverableError and fail at once. Finished jobs are kept so a
 * re-enqueue of the same deterministic id stays a no-op and the coordinator can read final states.
 */
export const TRIAL_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: false,
  removeOnFail: false,
};

/** Sweep jobs: the coordinator that holds the job lock owns the sweep; a stalled one is taken over. */
export const SWEEP_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: false,
  removeOnFail: false,
};
