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

/**
 * Every Redis key sweepq reads or writes outside BullMQ's own calls, BullMQ's job lock included: the one place
 * that builds them (same hash tag as the queues, so multi-key scripts work on Redis Cluster).
 */
export const redisKeys = (prefix: string = DEFAULT_PREFIX) => ({
  /** BullMQ's lock of a job (its value is the token of the worker that holds it). */
  jobLock: (queue: QueueName, jobId: string) => `${prefix}:${queue}:${jobId}:lock`,
  /** The coordinator that owns a running sweep, with its last heartbeat (expires when it stops beating). */
  owner: (sweepId: string) => `${prefix}:sweepq:owner:${sweepId}`,
  /** Held by the coordinator running a recovery pass (one at a time; expires if it dies mid-pass). */
  recoveryLock: () => `${prefix}:sweepq:recovery`,
  /** Set when a sweep is cancelled; workers and the coordinator watch it. */
  cancelled: (sweepId: string) => `${prefix}:sweepq:cancelled:${sweepId}`,
  /** Hash of trialId -> final state for a sweep's finished trials: what the coordinator polls. */
  done: (sweepId: string) => `${prefix}:sweepq:done:${sweepId}`,
  /** Early termination: the metric each trial reported at a rung epoch, and the decisions taken there. */
  rung: (sweepId: string, epoch: number, kind: 'values' | 'decisions') => `${prefix}:sweepq:rung:${sweepId}:e${epoch}:${kind}`,
  /** Early termination: the set of a sweep's rung keys (for clearing them). */
  rungIndex: (sweepId: string) => `${prefix}:sweepq:rung:${sweepId}:keys`,
  /** Which job attempt committed a trial's result (see claimResult). */
  resultClaim: (sweepId: string, trialId: string) => `${prefix}:sweepq:result:${sweepId}:${trialId}`,
});
