export { QueueName, DEFAULT_PREFIX, sweepJobId, trialJobId, redisKeys } from './names.js';
export {
  sweepJobSchema,
  trialJobSchema,
  trialParamsSchema,
  trialProgressSchema,
  parsePayload,
  type SweepJob,
  type TrialJob,
  type TrialProgress,
} from './jobs.js';
export { createWorkerConnection, connectProducer, redisAnswers, redactRedisUrl } from './connection.js';
export { PayloadError, RedisUnavailableError } from './errors.js';
export { TRIAL_JOB_OPTIONS, SWEEP_JOB_OPTIONS } from './options.js';
export { claimResult, ClaimOutcome } from './result-claim.js';
