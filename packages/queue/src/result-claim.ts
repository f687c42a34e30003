import type { Redis } from 'ioredis';
import { QueueName, redisKeys } from './names.js';

/** Outcome of {@link claimResult}. */
export const ClaimOutcome = {
  /** This attempt may write the trial's result. */
  Granted: 'granted',
  /** An earlier attempt claimed the result; check whether it was written. */
  TakenByEarlierAttempt: 'taken',
  /** This attempt no longer holds the job lock: another worker owns the trial now; write nothing. */
  LockLost: 'lock-lost',
} as const;
export type ClaimOutcome = (typeof ClaimOutcome)[keyof typeof ClaimOutcome];

// Atomic: only the holder of the BullMQ job lock may claim, and the first claim wins unless `force`
// (used when the earlier claimer died before writing anything). Both keys share the prefix's hash tag.
const CLAIM_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local cur = redis.call('GET', KEYS[2])
if cur == false or cur == ARGV[1] or ARGV[3] == '1' then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', tonumber(ARGV[2]))
  return 1
end
return 0
`;

/**
 * Claim the right to commit a trial's `result.json`. Guarantees one result per trial even when a worker
 * that lost its lock (a long pause, a partition) finishes late: it gets `lock-lost` and must write nothing.
 */
export async function claimResult(
  redis: Redis,
  opts: { prefix: string; jobId: string; token: string; sweepId: string; trialId: string; force?: boolean; ttlSec?: number },
): Promise<ClaimOutcome> {
  const keys = redisKeys(opts.prefix);
  const lockKey = keys.jobLock(QueueName.Trials, opts.jobId);
  const claimKey = keys.resultClaim(opts.sweepId, opts.trialId);
  const r = (await redis.eval(
    CLAIM_SCRIPT,
    2,
    lockKey,
    claimKey,
    opts.token,
    String(opts.ttlSec ?? 30 * 24 * 3600),
    opts.force ? '1' : '0',
  )) as number;
  return r === 1 ? ClaimOutcome.Granted : r === 0 ? ClaimOutcome.TakenByEarlierAttempt : ClaimOutcome.LockLost;
}
