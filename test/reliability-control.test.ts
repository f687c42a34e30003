import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, connectProducer, trialJobId } from '@sweepq/queue';
import type { SweepRecord, TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { REDIS_URL, createWorld, waitFor, type TestWorld } from './helpers/env.js';
import { runCli } from './helpers/cli.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

let world: TestWorld;
let uri: string;
let trials: Queue;
let closeRedis: () => void;

beforeAll(async () => {
  world = await createWorld();
  uri = await uploadToyDataset(world, 1200);
  world.start('coordinator', 'coordinator');
  world.start('worker', 'worker-a', { WORKER_ID: 'wa' });
  world.start('worker', 'worker-b', { WORKER_ID: 'wb' });
  const redis = await connectProducer(REDIS_URL);
  trials = new Queue(QueueName.Trials, { connection: redis, prefix: world.prefix });
  closeRedis = () => redis.disconnect();
});
afterAll(async () => {
  await trials?.close();
  closeRedis?.();
  await world?.cleanup();
});

const result = (sweepId: string, t: string) => world.store.getJson<TrialResult>(layout.result(sweepId, t));
const base = (epochs: string) => [
  'method: grid',
  'parameters:',
  '  embedding_dim: {value: 8}',
  '  lstm_units: {value: 8}',
  '  max_words: {value: 60}',
  '  max_len: {value: 30}',
  '  batch_size: {value: 16}',
  `  epochs: ${epochs}`,
];

describe('timeouts, divergence, retry and cancel', () => {
  it('fails a trial past trial_timeout (reason timeout) and a diverging one (reason diverged, not retried); retry re-runs them', async () => {
    const sweepId = await submitYaml(world, [
      'name: control',
      ...base('{values: [1, 400]}'),
      '  optimizer: {values: [adam, sgd]}',
      '  learning_rate: {values: [0.01, 1.0e+30]}',
      'trial_timeout: 4',
      'dataset:',
      `  uri: ${uri}`,
    ]);
    const record = await waitForSweep(world, sweepId);
    // Trials: t0000 = 1 epoch adam 0.01 (ok), t0001 = 1 epoch adam 1e30, t0002 = 1 epoch sgd 0.01,
    // t0003 = 1 epoch sgd 1e30 (diverges), t0004 = 400 epochs adam 0.01 (times out), …
    expect(record.state).toBe('completed');
    const ok = (await result(sweepId, 't0000'))!;
    expect(ok.state).toBe('completed');
    const diverged = (await result(sweepId, 't0003'))!;
    expect(diverged).toMatchObject({ state: 'failed', reason: 'diverged' });
    const divergedJob = (await trials.getJob(trialJobId(sweepId, 't0003')))!;
    expect(await divergedJob.getState()).toBe('failed');
    expect(divergedJob.attemptsMade).toBe(1); // deterministic failure: not retried
    const timedOut = (await result(sweepId, 't0004'))!;
    expect(timedOut).toMatchObject({ state: 'failed', reason: 'timeout' });
    // Stopped by the timeout, not by running out of epochs; how long past 4 s it ran depends on the machine's load.
    expect(timedOut.epochs).toBeLessThan(400);
    console.log(`trial_timeout 4 s: t0004 stopped after ${timedOut.epochs} epoch(s), ${timedOut.durationSec} s`);

    const failedBefore: string[] = [];
    for (let i = 0; i < 8; i++) {
      const t = `t${String(i).padStart(4, '0')}`;
      if ((await result(sweepId, t))?.state === 'failed') failedBefore.push(t);
    }
    expect(failedBefore).toEqual(expect.arrayContaining(['t0003', 't0004']));

    // Retry the failed trials under the same ids.
    const r = await runCli(['retry', sweepId, '--failed', '--json'], world.env);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { retried: string[] }).retried.sort()).toEqual(failedBefore);
    const again = await waitFor(
      'the retried sweep to finish',
      async () => {
        const s = await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
        return s && s.state === 'completed' && (s.retries?.length ?? 0) === 1 && s.finishedAt ? s : undefined;
      },
      180_000,
    );
    expect(again.retries![0]!.trials.sort()).toEqual(failedBefore);
    for (const t of failedBefore) {
      const after = (await result(sweepId, t))!;
      expect(after.finishedAt > record.finishedAt!).toBe(true);
      expect((await world.store.list(`${layout.trialPrefix(sweepId, t)}attempts/`)).length).toBe(1);
    }
    // Trials that had completed were not run again.
    expect((await result(sweepId, 't0000'))!.finishedAt).toBe(ok.finishedAt);
    const bad = await runCli(['retry', sweepId], world.env);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--failed/);
  });

  it('cancel stops trials running on both workers and removes queued ones', async () => {
    const sweepId = await submitYaml(world, [
      'name: cancel-me',
      ...base('{value: 400}'),
      '  learning_rate: {values: [0.001, 0.002, 0.003, 0.004]}',
      'dataset:',
      `  uri: ${uri}`,
    ]);
    await waitFor(
      'two trials running on two workers',
      async () => {
        const active = await trials.getJobs(['active']);
        const mine = active.filter((j) => (j.data as { sweepId: string }).sweepId === sweepId);
        return new Set(mine.map((j) => j.processedBy)).size === 2 ? mine : undefined;
      },
      120_000,
      200,
    );
    const t0 = Date.now();
    const r = await runCli(['cancel', sweepId, '--json'], world.env);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sweepId, removed: 2 });
    const record = await waitForSweep(world, sweepId, 60_000);
    const stoppedIn = (Date.now() - t0) / 1000;
    expect(record.state).toBe('cancelled');
    expect(record.trials).toMatchObject({ total: 4, cancelled: 4, completed: 0 });
    const states = [];
    for (let i = 0; i < 4; i++) states.push((await result(sweepId, `t000${i}`))!.state);
    expect(states).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    // The 400-epoch trials were stopped by the cancel (else the sweep could not be `cancelled` with 0 completed within
    // the wait); the time it took is a figure for the log.
    console.log(`cancel: 2 running trials on 2 workers stopped and sweep marked cancelled ${stoppedIn.toFixed(1)} s after sweepq cancel`);
  });
});
