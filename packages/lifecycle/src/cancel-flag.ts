import type { Redis } from 'ioredis';
import type { redisKeys } from '@sweepq/queue';

/** Whether the cancel flag of a sweep is set: the one read of it, for the coordinator's and the workers' polls. */
export async function cancelRequested(redis: Redis, keys: ReturnType<typeof redisKeys>, sweepId: string): Promise<boolean> {
  return (await redis.exists(keys.cancelled(sweepId))) === 1;
}
