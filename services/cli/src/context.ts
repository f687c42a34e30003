import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SweepLifecycle, TrialLifecycle } from '@sweepq/lifecycle';
import { QueueName, connectProducer } from '@sweepq/queue';
import { storeSettings } from '@sweepq/runtime';
import { createArtifactStore, type ArtifactStore } from '@sweepq/storage';
import type { CliEnv } from './env.js';

/** A command someone waits for at a terminal rides out a blip, not an outage: at most 15 s of retries. */
export const CLI_S3_RETRY_MS = 15_000;

/** Bucket settings for CLI commands. */
export function cliStoreSettings(env: CliEnv): ReturnType<typeof storeSettings> {
  const s = storeSettings(env);
  return { ...s, retry: { forMs: Math.min(s.retry.forMs, CLI_S3_RETRY_MS) } };
}

/** Connections a command needs; close() releases them all. */
export interface CliContext {
  env: CliEnv;
  store: ArtifactStore;
  redis: Redis;
  sweeps: Queue;
  trials: Queue;
  /** The one owner of sweep state changes (submit, cancel, retry, resume). */
  lifecycle: SweepLifecycle;
  trialLifecycle: TrialLifecycle;
  close(): Promise<void>;
}

/** Connect to Redis (fails fast with a message naming REDIS_URL) and set up the bucket client. */
export async function openContext(env: CliEnv, opts: { createBucket?: boolean } = {}): Promise<CliContext> {
  const store = createArtifactStore(cliStoreSettings(env));
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
  const prefix = env.SWEEPQ_QUEUE_PREFIX;
  return {
    env,
    store,
    redis,
    sweeps,
    trials,
    lifecycle: new SweepLifecycle({ store, redis, prefix, sweeps, trials }),
    trialLifecycle: new TrialLifecycle({ store, redis, prefix }),
    async close() {
      await sweeps.close();
      await trials.close();
      await redis.quit().catch(() => redis.disconnect());
      store.client.destroy();
    },
  };
}
