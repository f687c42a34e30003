import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueName, connectProducer, sweepJobId } from '@sweepq/queue';
import { SweepState } from '@sweepq/results';
import { ArtifactStore, createS3Client, startLocalS3 } from '@sweepq/storage';
import { SweepLifecycle, TrialLifecycle, type SweepDoc } from '../src/index.js';

/** A life cycle against a real Redis (its own queue prefix) and the embedded S3 server, in-process: no services. */
export interface LifeWorld {
  store: ArtifactStore;
  redis: Redis;
  sweeps: Queue;
  trials: Queue;
  prefix: string;
  life: SweepLifecycle;
  trialLife: TrialLifecycle;
  /**
   * A submitted sweep a coordinator has planned: running, two trials queued (`specText` plans two). `stranded`: its
   * sweep job is then removed, as when no coordinator follows it (so the CLI's cancel and retry proceed).
   */
  runningSweep(sweepId: string, specText: string, opts?: { stranded?: boolean }): Promise<SweepDoc>;
  close(): Promise<void>;
}

export async function lifeWorld(bucket: string): Promise<LifeWorld> {
  const dir = await mkdtemp(join(tmpdir(), `sweepq-${bucket}-`));
  const s3 = await startLocalS3({ directory: dir, buckets: [bucket] });
  const store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket, endpoint: s3.endpoint });
  const redis = await connectProducer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `{sweepq-${bucket}-${randomBytes(4).toString('hex')}}`;
  const sweeps = new Queue(QueueName.Sweeps, { connection: redis, prefix });
  const trials = new Queue(QueueName.Trials, { connection: redis, prefix });
  const life = new SweepLifecycle({ store, redis, prefix, sweeps, trials });
  return {
    store,
    redis,
    sweeps,
    trials,
    prefix,
    life,
    trialLife: new TrialLifecycle({ store, redis, prefix }),
    async runningSweep(sweepId, specText, opts = {}) {
      await life.submit({ sweepId, specText });
      const doc = await life.open(sweepId);
      await doc.moveTo(SweepState.Preparing);
      await doc.moveTo(SweepState.Running, { trials: { total: 2, completed: 0, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 2 } });
      if (opts.stranded) await (await sweeps.getJob(sweepJobId(sweepId)))?.remove();
      return doc;
    },
    async close() {
      await sweeps.obliterate({ force: true }).catch(() => undefined);
      await trials.obliterate({ force: true }).catch(() => undefined);
      const stray = await redis.keys(`${prefix}*`);
      if (stray.length > 0) await redis.del(...stray);
      await sweeps.close();
      await trials.close();
      redis.disconnect();
      store.client.destroy();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
