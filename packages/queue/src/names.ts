/** Queue names. */
export const QueueName = {
  Sweeps: 'sweeps',
  Trials: 'trials',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/**
 * Default BullMQ key prefix. The braces are a Redis Cluster hash tag: every key of every queue hashes to
 * one slot, which BullMQ's multi-key Lua scripts need on a cluster.
 */
export const DEFAULT_PREFIX = '{sweepq}';

/** Job id of a sweep's coordinator job. BullMQ job ids cannot contain ':'. */
export const sweepJobId = (sweepId: string): string => sweepId;

/** Deterministic job id of a trial: re-adding it is a no-op while the job exists. */
export const trialJobId = (sweepId: string, trialId: string): string => `${sweepId}--${trialId}`;

/** Redis keys sweepq keeps beside BullMQ's (same hash tag as the queues). */
export const redisKeys = (prefix: string = DEFAULT_PREFIX) => ({
  /** Set when a sweep is cancelled; workers and the coordinator watch it. */
  cancelled: (sweepId: string) => `${prefix}:sweepq:cancelled:${sweepId}`,
  /** Hash of trialId -> final state for a sweep's finished trials: what the coordinator polls. */
  done: (sweepId: string) => `${prefix}:sweepq:done:${sweepId}`,
  /** Which job attempt committed a trial's result (see claimResult). */
  resultClaim: (sweepId: string, trialId: string) => `${prefix}:sweepq:result:${sweepId}:${trialId}`,
});
