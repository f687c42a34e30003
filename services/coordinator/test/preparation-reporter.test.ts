import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SweepLifecycle } from '@sweepq/lifecycle';
import { QueueName, connectProducer } from '@sweepq/queue';
import type { PreparationProgress, SweepRecord } from '@sweepq/results';
import { createLogger } from '@sweepq/runtime';
import { ArtifactStore, createS3Client, layout, startLocalS3, type LocalS3 } from '@sweepq/storage';
import { PreparationReporter } from '../src/preparation-reporter.js';

// A real sweep.json in the embedded S3 server, written through the lifecycle's fenced SweepDoc.
let dir = '';
let s3: LocalS3;
let store: ArtifactStore;
let redis: Redis;
let queues: Queue[] = [];
let life: SweepLifecycle;
const log = createLogger({ name: 'test', level: 'silent' });
const prefix = `{sweepq-prep-report-${randomBytes(4).toString('hex')}}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-prep-report-'));
  s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['prep-report'] });
  store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket: 'prep-report', endpoint: s3.endpoint });
  redis = await connectProducer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  queues = [new Queue(QueueName.Sweeps, { connection: redis, prefix }), new Queue(QueueName.Trials, { connection: redis, prefix })];
  life = new SweepLifecycle({ store, redis, prefix, sweeps: queues[0]!, trials: queues[1]! });
});
afterAll(async () => {
  for (const q of queues) await q.close();
  redis?.disconnect();
  store?.client.destroy();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const progress = (phase: PreparationProgress['phase'], rows: number): PreparationProgress => ({ phase, rows, bytes: rows * 10, mbPerSec: 1, seconds: 0, at: new Date().toISOString() });
const etag = async (sweepId: string) => (await store.head(layout.sweepJson(sweepId)))?.etag;
const stored = async (sweepId: string) => (await store.getJson<SweepRecord>(layout.sweepJson(sweepId)))!;

describe('PreparationReporter', () => {
  it('a preparation that ends within the quiet period writes nothing of its own; its last report is pending for the dataset write', async () => {
    const doc = await life.open('quiet-1', { submittedAt: new Date().toISOString() });
    await doc.take('test');
    const before = await etag('quiet-1');
    const reporter = new PreparationReporter(doc, log, 60_000);
    reporter.report(progress('read', 10));
    reporter.report(progress('shard', 20));
    reporter.report(progress('done', 20));
    await reporter.flush();
    expect(await etag('quiet-1')).toBe(before);
    const patch = reporter.pending();
    expect(patch.preparation?.phase).toBe('done');
    await doc.save({ ...patch });
    expect((await stored('quiet-1')).preparation).toMatchObject({ phase: 'done', rows: 20 });
    expect(reporter.pending()).toEqual({});
  });

  it('a longer preparation writes its progress once the quiet period is over, then each report as it comes', async () => {
    const doc = await life.open('long-1', { submittedAt: new Date().toISOString() });
    await doc.take('test');
    const reporter = new PreparationReporter(doc, log, 20);
    reporter.report(progress('read', 10));
    // The deferred first write lands by itself once the quiet period is over (waited for, not timed).
    for (let i = 0; (await stored('long-1')).preparation === undefined; i++) {
      if (i > 500) throw new Error('the first progress report was never written');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await stored('long-1')).preparation).toMatchObject({ phase: 'read', rows: 10 });
    reporter.report(progress('done', 30));
    await reporter.flush();
    expect((await stored('long-1')).preparation).toMatchObject({ phase: 'done', rows: 30 });
    expect(reporter.pending()).toEqual({});
  });
});
