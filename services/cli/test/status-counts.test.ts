import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, createWorkerConnection, trialJobId } from '@sweepq/queue';
import { SweepState, TrialState } from '@sweepq/results';
import { layout, startLocalS3, type LocalS3 } from '@sweepq/storage';
import { trialResult } from '../../../packages/report/test/fixtures.js';
import { openContext, type CliContext } from '../src/context.js';
import { sweepStatus } from '../src/sweep-status.js';
import { loadCliEnv } from '../src/env.js';

// `sweepq status` against a real Redis and a real S3-protocol server, in-process, at the moment a worker has written a
// trial's result.json but not yet recorded its state in Redis (it commits in three steps; killed in between, it
// stays there until the trial's job runs again).
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let s3: LocalS3;
let dir: string;
let ctx: CliContext;
let prefix: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-status-'));
  s3 = await startLocalS3({ directory: dir, buckets: ['status'] });
  prefix = `{sweepq-status-${randomBytes(4).toString('hex')}}`;
  ctx = await openContext(
    loadCliEnv({
      REDIS_URL,
      SWEEPQ_QUEUE_PREFIX: prefix,
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: 'status',
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    }),
  );
});

afterAll(async () => {
  for (const q of [ctx?.sweeps, ctx?.trials]) await q?.obliterate({ force: true }).catch(() => undefined);
  const stray = ctx ? await ctx.redis.keys(`${prefix}*`) : [];
  if (stray.length > 0) await ctx.redis.del(...stray);
  await ctx?.close();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const params = { ...trialResult(0, 0.8).params, epochs: 1 };

describe('sweepq status', () => {
  it('counts a trial whose result.json is committed but not yet recorded in Redis by its result, not as running', async () => {
    const sweepId = 'window-1';
    await ctx.lifecycle.submit({ sweepId, specText: ['name: unit', 'method: grid', 'parameters:', '  lstm_units: {values: [8, 16]}', '  epochs: {value: 1}'].join('\n') });
    const doc = await ctx.lifecycle.open(sweepId);
    await doc.moveTo(SweepState.Preparing);
    await doc.moveTo(SweepState.Running, { trials: { total: 2, completed: 0, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 2 } });
    for (const [i, trialId] of ['t0000', 't0001'].entries()) {
      await ctx.trials.add('trial', { sweepId, trialId, index: i, params }, { jobId: trialJobId(sweepId, trialId) });
    }
    // A worker takes t0000 (its job is active, its lock held) and writes result.json; the done hash has no entry yet.
    const connection = createWorkerConnection(REDIS_URL);
    const worker = new Worker(QueueName.Trials, null, { connection, prefix, autorun: false });
    try {
      const job = await worker.getNextJob('token-1');
      expect((job?.data as { trialId: string } | undefined)?.trialId).toBe('t0000');
      await ctx.store.putJson(layout.result(sweepId, 't0000'), trialResult(0, 0.8, { sweepId, params }));
      expect(await ctx.trialLifecycle.doneState(sweepId, 't0000')).toBeUndefined();

      const s = await sweepStatus(ctx, sweepId);
      expect(s.trials).toEqual({ total: 2, completed: 1, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 1 });
      expect(s.running.map((p) => p.trialId)).toEqual([]);

      // Once the state is recorded, the same counts come from Redis alone (the result is not counted twice).
      await ctx.trialLifecycle.markDone(sweepId, 't0000', TrialState.Completed);
      expect((await sweepStatus(ctx, sweepId)).trials).toEqual({ total: 2, completed: 1, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 1 });
    } finally {
      await worker.close(true);
      connection.disconnect();
    }
  });
});
