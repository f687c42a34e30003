import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueName, connectProducer } from '@sweepq/queue';
import { storeSettings } from '@sweepq/runtime';
import { createArtifactStore, type ArtifactStore } from '@sweepq/storage';
import type { CliEnv } from './env.js';

/** Connections a command needs; close() releases them all. */
export interface CliContext {
  env: CliEnv;
  store: ArtifactStore;
  redis: Redis;
  sweeps: Queue;
  trials: Queue;
  close(): Promise<void>;
}

/** Connect to Redis (fails fast with a message naming REDIS_URL) and set up the bucket client. */
export async function openContext(env: CliEnv, opts: { createBucket?: boolean } = {}): Promise<CliContext> {
  const store = createArtifactStore(storeSettings(env));
  const redis = await connectProducer(env.REDIS_URL);
  try {
    await store.ensureBucket(opts.createBucket ?? false);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const sweeps = new Queue(QueueName.Sweeps, { connection: redis, prefix: env.SWEEPQ_QUEUE_PREFIX });
  const trials = new Queue(QueueName.Trials, { connection: redis, prefix: env.SWEEPQ_QUEUE_PREFIX });
  sweeps.on('error', () => undefined);
  trials.on('error', () => undefined);
  return {
    env,
    store,
    redis,
    sweeps,
    trials,
    async close() {
      await sweeps.close();
      await trials.close();
      await redis.quit().catch(() => redis.disconnect());
      store.client.destroy();
    },
  };
}
