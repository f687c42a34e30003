import type { Redis } from 'ioredis';
import { redisKeys } from './names.js';

const TTL_SEC = 30 * 24 * 3600;

/**
 * Record that a trial reached a final state (after its result.json is in the bucket). The coordinator
 * reads the whole hash per poll instead of asking BullMQ about every trial.
 */
export async function markTrialDone(redis: Redis, prefix: string, sweepId: string, trialId: string, state: string): Promise<void> {
  const key = redisKeys(prefix).done(sweepId);
  await redis.multi().hset(key, trialId, state).expire(key, TTL_SEC).exec();
}

/** Final states recorded so far, by trial id. */
export async function doneTrials(redis: Redis, prefix: string, sweepId: string): Promise<Map<string, string>> {
  return new Map(Object.entries(await redis.hgetall(redisKeys(prefix).done(sweepId))));
}

/** Forget trials' final states (before they are retried). */
export async function forgetTrials(redis: Redis, prefix: string, sweepId: string, trialIds: readonly string[]): Promise<void> {
  if (trialIds.length > 0) await redis.hdel(redisKeys(prefix).done(sweepId), ...trialIds);
}

/** The final state recorded for a trial, if any. */
export async function trialDoneState(redis: Redis, prefix: string, sweepId: string, trialId: string): Promise<string | undefined> {
  return (await redis.hget(redisKeys(prefix).done(sweepId), trialId)) ?? undefined;
}

/** Whether a final state is recorded for a trial. */
export async function isTrialDone(redis: Redis, prefix: string, sweepId: string, trialId: string): Promise<boolean> {
  return (await trialDoneState(redis, prefix, sweepId, trialId)) !== undefined;
}
