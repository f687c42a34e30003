import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, connectProducer } from '@sweepq/queue';
import type { Leaderboard, TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { stopAll } from '@sweepq/cli';
import { REDIS_URL, createWorld, waitFor, type TestWorld } from './helpers/env.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

let world: TestWorld;
let uri: string;
let trials: Queue;
let closeRedis: () => void;

beforeAll(async () => {
  world = await createWorld();
  uri = await uploadToyDataset(world, 2000);
  const redis = await connectProducer(REDIS_URL);
  trials = new Queue(QueueName.Trials, { connection: redis, prefix: world.prefix });
  closeRedis = () => redis.disconnect();
});
afterEach(async () => {
  // Each test starts its own processes.
  await stopAll(world.processes.splice(0), 20_000);
});
afterAll(async () => {
  await trials?.close();
  closeRedis?.();
  await world?.cleanup();
});

const spec = (name: string, epochs: number, lrs: string) => [
  `name: ${name}`,
  'method: grid',
  'parameters:',
  `  learning_rate: {values: [${lrs}]}`,
  '  embedding_dim: {value: 16}',
  '  lstm_units: {value: 16}',
  '  max_words: {value: 60}',
  '  max_len: {value: 40}',
  '  batch_size: {value: 16}',
  `  epochs: {value: ${epochs}}`,
  'dataset:',
  `  uri: ${uri}`,
];

describe('recovery', () => {
  it('SIGTERM during training: the worker releases the trial, exits in time, and another worker resumes it', async () => {
    world.start('coordinator', 'coordinator-t');
    const w1 = world.start('worker', 'worker-t1', { WORKER_ID: 't1', SHUTDOWN_DEADLINE_MS: '10000' });
    const sweepId = await submitYaml(world, spec('sigterm', 6, '0.01, 0.02'));
    const ckptKey = layout.checkpointState(sweepId, 't0000');
    await waitFor('a checkpoint', async () => ((await world.store.getJson<{ checkpoint?: { epoch: number } }>(ckptKey))?.checkpoint?.epoch ?? 0) >= 1 ? true : undefined, 120_000, 100);
    const t0 = Date.now();
    w1.child.kill('SIGTERM');
    const code = await w1.exited;
    const exitSec = (Date.now() - t0) / 1000;
    // 143 is a shutdown that finished its steps; past SHUTDOWN_DEADLINE_MS the manager forces exit code 1. How long
    // it took is a figure for the log.
    expect(code).toBe(143);
    console.log(`SIGTERM during training: worker exited 143 after ${exitSec.toFixed(1)} s`);
    // Released, not failed: it waits for the next worker without spending an attempt.
    const job = (await trials.getJobs(['waiting', 'delayed', 'prioritized'])).find((j) => (j.data as { trialId: string }).trialId === 't0000');
    expect(job, 'the trial is back in the queue').toBeDefined();
    expect(job!.attemptsMade).toBe(0);

    world.start('worker', 'worker-t2', { WORKER_ID: 't2' });
    // The handed-back trial goes first, before t0001, which never started.
    const first = await waitFor(
      'worker-t2 to start a trial',
      async () => /"trialId":"(t\d{4})"[^\n]*"msg":"training"/.exec(await readFile(join(world.dir, 'worker-t2.log'), 'utf8').catch(() => ''))?.[1],
      60_000,
      200,
    );
    expect(first).toBe('t0000');
    const record = await waitForSweep(world, sweepId);
    expect(record.state).toBe('completed');
    const r = (await world.store.getJson<TrialResult>(layout.result(sweepId, 't0000')))!;
    expect(r.worker).toBe('t2');
    expect(r.resumes).toHaveLength(1);
    expect(r.resumes![0]).toMatchObject({ worker: 't2' });
    expect(r.resumes![0]!.fromEpoch).toBeGreaterThanOrEqual(1);
    // Both attempts, for the report's worker timeline: t1 from scratch until its last checkpoint, then t2 resuming.
    expect(r.attempts?.map((x) => [x.worker, x.fromEpoch > 0])).toEqual([['t1', false], ['t2', true]]);
    expect(Date.parse(r.attempts![0]!.endedAt!)).toBeLessThanOrEqual(Date.parse(r.attempts![1]!.startedAt));
    expect(r.attempts![1]!.endedAt).toBeDefined();
    const lines = (await world.store.getText(layout.metrics(sweepId, 't0000')))!.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect((await world.store.getJson<TrialResult>(layout.result(sweepId, 't0001')))!.resumes ?? []).toHaveLength(0);
    console.log(`sigterm: worker exited ${exitSec.toFixed(1)} s after SIGTERM; trial resumed on another worker from epoch ${r.resumes![0]!.fromEpoch}`);
  });

  it('coordinator SIGKILLed mid-sweep: another coordinator finishes it, no trial enqueued twice, one leaderboard', async () => {
    const lock = { COORDINATOR_LOCK_MS: '5000' };
    const c1 = world.start('coordinator', 'coordinator-1', lock);
    world.start('worker', 'worker-f1', { WORKER_ID: 'f1' });
    world.start('worker', 'worker-f2', { WORKER_ID: 'f2' });
    const sweepId = await submitYaml(world, spec('failover', 2, '0.003, 0.006, 0.01, 0.02, 0.03, 0.05'));
    await waitFor(
      'a first finished trial',
      async () => ((await world.store.list(layout.trialsPrefix(sweepId))).some((k) => k.endsWith('result.json')) ? true : undefined),
      120_000,
      100,
    );
    c1.child.kill('SIGKILL');
    await c1.exited;
    world.start('coordinator', 'coordinator-2', lock);
    const record = await waitForSweep(world, sweepId);
    expect(record.state).toBe('completed');
    expect(record.trials).toMatchObject({ total: 6, completed: 6 });

    const mine = (await trials.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'])).filter(
      (j) => (j.data as { sweepId: string }).sweepId === sweepId,
    );
    expect(mine).toHaveLength(6);
    expect(new Set(mine.map((j) => j.id)).size).toBe(6);
    for (const j of mine) expect(j.attemptsMade).toBe(1);
    const lb = (await world.store.getJson<Leaderboard>(layout.leaderboardJson(sweepId)))!;
    expect(lb.rows.map((r) => r.trialId).sort()).toEqual(['t0000', 't0001', 't0002', 't0003', 't0004', 't0005']);
    // Only the surviving coordinator finalized the sweep. It logs the finish just after writing the final state, which
    // the wait above saw: wait for the line, then count.
    const finishes = async () => {
      const logs = await Promise.all(['coordinator-1', 'coordinator-2'].map((n) => readFile(join(world.dir, `${n}.log`), 'utf8')));
      return { logs, finalized: logs.map((l) => l.split('\n').filter((line) => line.includes('"sweep finished"') && line.includes(sweepId)).length) };
    };
    await waitFor('the finish in a coordinator log', async () => ((await finishes()).finalized.some((n) => n > 0) ? true : undefined), 30_000, 100);
    const { logs, finalized } = await finishes();
    expect(finalized).toEqual([0, 1]);
    expect(logs[1]).toMatch(/taking over sweep/);
  });
});
