export { QueueName, DEFAULT_PREFIX, sweepJobId, trialJobId, redisKeys } from './names.js';
export {
  sweepJobSchema,
  trialJobSchema,
  trialParamsSchema,
  trialProgressSchema,
  parsePayload,
  PayloadError,
  type SweepJob,
  type TrialJob,
  type TrialProgress,
} from './jobs.js';
export { createWorkerConnection, connectProducer, redisAnswers, redactRedisUrl, RedisUnavailableError } from './connection.js';
export { TRIAL_JOB_OPTIONS, SWEEP_JOB_OPTIONS } from './options.js';
export { claimResult, ClaimOutcome } from './result-claim.js';
