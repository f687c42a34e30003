import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, redisKeys, sweepJobId, trialJobId } from '@sweepq/queue';
import { SweepState, TrialState, type TrialResult } from '@sweepq/results';
import { layout, type ArtifactStore } from '@sweepq/storage';
import {
  LifecycleError,
  LockLostError,
  SWEEP_TRANSITIONS,
  assertSweepTransition,
  type SweepLifecycle,
  type TrialLifecycle,
  finalizeSweep,
  plannedFromBucket,
  sweepTransitionTable,
  rebuildRungs,
  RungStore,
} from '../src/index.js';
import { lifeWorld, type LifeWorld } from './life-world.js';
import { DEFAULT_PARAMS, parseSpec } from '@sweepq/sweep-config';

// The whole life cycle against a real Redis and a real S3-protocol server, in-process: no services are spawned.
let w: LifeWorld;
let store: ArtifactStore;
let redis: Redis;
let sweeps: Queue;
let trials: Queue;
let prefix: string;
let life: SweepLifecycle;
let trialLife: TrialLifecycle;

const SPEC = ['name: unit', 'method: grid', 'parameters:', '  lstm_units: {values: [8, 16]}', '  epochs: {value: 1}'].join('\n');

beforeAll(async () => {
  w = await lifeWorld('life');
  ({ store, redis, sweeps, trials, prefix, life, trialLife } = w);
});

afterAll(async () => {
  await w?.close();
});

const result = (sweepId: string, trialId: string, index: number, state: TrialResult['state'], value: number | null): TrialResult => ({
  sweepId,
  trialId,
  index,
  state,
  params: { ...DEFAULT_PARAMS, max_words: 100, max_len: 10, embedding_dim: 8, lstm_units: 8, learning_rate: 0.01, batch_size: 8, epochs: 1 },
  metric: { name: 'val_accuracy', goal: 'maximize', value },
  final: null,
  test: null,
  epochs: 1,
  durationSec: 1,
  samplesPerSec: null,
  backend: 'test',
  tfjsVersion: 'test',
  worker: 'w',
  attempt: 1,
  finishedAt: new Date().toISOString(),
});

const markerExists = (sweepId: string) => store.exists(layout.activeMarker(sweepId));

describe('transition table', () => {
  it('allows exactly the written transitions and names the allowed ones when refusing', () => {
    expect(() => assertSweepTransition('s', SweepState.Running, SweepState.Completed)).not.toThrow();
    expect(() => assertSweepTransition('s', SweepState.Running, SweepState.Running)).not.toThrow();
    expect(() => assertSweepTransition('s', SweepState.Completed, SweepState.Running)).toThrow(
      /sweep s is completed and cannot become running \(from completed it can become queued\)/,
    );
    expect(() => assertSweepTransition('s', SweepState.Queued, SweepState.Completed)).toThrow(LifecycleError);
    // Every final state can only be left by a retry (back to queued).
    for (const s of [SweepState.Completed, SweepState.Failed, SweepState.Cancelled]) expect(SWEEP_TRANSITIONS[s]).toEqual([SweepState.Queued]);
    // Every non-final state can fail and be cancelled: nothing is ever stranded in it.
    for (const s of [SweepState.Queued, SweepState.Preparing, SweepState.Running]) {
      expect(SWEEP_TRANSITIONS[s]).toContain(SweepState.Failed);
      expect(SWEEP_TRANSITIONS[s]).toContain(SweepState.Cancelled);
    }
    const table = sweepTransitionTable();
    expect(table.split('\n')).toHaveLength(2 + Object.values(SWEEP_TRANSITIONS).flat().length);
    expect(table).toMatch(/\| running \| queued \| Redis lost the sweep/);
  });

  it("docs/reliability.md's life-cycle table is the one in the code", async () => {
    const doc = await readFile(join(import.meta.dirname, '..', '..', '..', 'docs', 'reliability.md'), 'utf8');
    expect(doc).toContain(sweepTransitionTable());
  });
});

describe('sweep life cycle', () => {
  it('submit writes the spec, a queued record, the active marker and the job; a second submit of the id is refused', async () => {
    const rec = await life.submit({ sweepId: 'sub-1', specText: SPEC, name: 'unit' });
    expect(rec.state).toBe(SweepState.Queued);
    expect(await store.getText(layout.specYaml('sub-1'))).toBe(SPEC);
    expect((await life.read('sub-1'))?.state).toBe(SweepState.Queued);
    expect(await markerExists('sub-1')).toBe(true);
    expect(await sweeps.getJob(sweepJobId('sub-1'))).toBeDefined();
    await expect(life.submit({ sweepId: 'sub-1', specText: SPEC })).rejects.toThrow(/already exists/);
  });

  it('a sweep runs queued -> preparing -> running -> completed; the marker goes when it ends; no way back but retry', async () => {
    const doc = await w.runningSweep('run-1', SPEC);
    await trialLife.commit(result('run-1', 't0000', 0, TrialState.Completed, 0.9), { jobId: undefined, token: undefined, attempt: 1 });
    await trialLife.commit(result('run-1', 't0001', 1, TrialState.Completed, 0.8), { jobId: undefined, token: undefined, attempt: 1 });
    const summary = await finalizeSweep({
      store,
      trials: trialLife,
      doc,
      metric: { name: 'val_accuracy', goal: 'maximize' },
      planned: await plannedFromBucket(store, doc.record),
      cancelled: false,
    });
    expect(summary.state).toBe(SweepState.Completed);
    expect(summary.best).toEqual({ trialId: 't0000', value: 0.9 });
    expect(summary.trials).toMatchObject({ total: 2, completed: 2 });
    const rec = await life.read('run-1');
    expect(rec?.state).toBe(SweepState.Completed);
    expect(rec?.finishedAt).toBeDefined();
    expect(await markerExists('run-1')).toBe(false);
    expect(await store.exists(layout.leaderboardJson('run-1'))).toBe(true);
    expect(await store.exists(layout.reportHtml('run-1'))).toBe(true);
    await expect(doc.moveTo(SweepState.Running)).rejects.toThrow(/cannot become running/);
    // A finished sweep is not failed by a late "coordinator gave up".
    expect(await life.fail('run-1', 'late')).toBe(false);
  });

  it('cancel before any coordinator took the sweep ends it cancelled at once', async () => {
    await life.submit({ sweepId: 'can-1', specText: SPEC });
    const r = await life.cancel('can-1', () => Promise.reject(new Error('must not finalize')));
    expect(r.state).toBe(SweepState.Cancelled);
    expect(await sweeps.getJob(sweepJobId('can-1'))).toBeUndefined();
    expect((await life.read('can-1'))?.cancelRequestedAt).toBeDefined();
    expect(await markerExists('can-1')).toBe(false);
  });

  it('a stranded running sweep (no owner, no job) is found, cancelled and finalized by the caller, then retried', async () => {
    await w.runningSweep('str-1', SPEC);
    await trialLife.commit(result('str-1', 't0000', 0, TrialState.Completed, 0.7), { jobId: undefined, token: undefined, attempt: 1 });
    // Redis loses the job (restart without data).
    await (await sweeps.getJob(sweepJobId('str-1')))!.remove();
    expect((await life.findStranded()).map((s) => s.record.sweepId)).toContain('str-1');
    expect(await life.owner('str-1')).toBeUndefined();
    // Counts are read fresh from Redis: one committed trial, the rest queued.
    expect((await life.trialCounts('str-1', 2)).counts).toMatchObject({ total: 2, completed: 1, queued: 1, running: 0 });

    let finalized = 0;
    const r = await life.cancel('str-1', async (d) => {
      finalized += 1;
      await finalizeSweep({ store, trials: trialLife, doc: d, metric: { name: 'val_accuracy', goal: 'maximize' }, planned: await plannedFromBucket(store, d.record), cancelled: true });
    });
    expect(finalized).toBe(1);
    expect(r.state).toBe(SweepState.Cancelled);
    const t1 = await trialLife.result('str-1', 't0001');
    expect(t1?.state).toBe(TrialState.Cancelled);
    expect((await trialLife.result('str-1', 't0000'))?.state).toBe(TrialState.Completed);
    expect((await life.findStranded()).map((s) => s.record.sweepId)).not.toContain('str-1');

    const { retried } = await life.retry('str-1', new Set([TrialState.Cancelled]));
    expect(retried).toEqual(['t0001']);
    const rec = await life.read('str-1');
    expect(rec?.state).toBe(SweepState.Queued);
    expect(rec?.cancelRequestedAt).toBeUndefined();
    expect(await life.isCancelled('str-1')).toBe(false);
    expect(await trialLife.result('str-1', 't0001')).toBeUndefined();
    expect((await store.list(layout.trialAttemptsPrefix('str-1', 't0001'))).length).toBe(1);
    expect(await sweeps.getJob(sweepJobId('str-1'))).toBeDefined();
    expect(await markerExists('str-1')).toBe(true);
  });

  it('resume rebuilds a sweep Redis lost (keeping a cancel recorded in the bucket); refuses one that is followed', async () => {
    const doc = await w.runningSweep('res-1', SPEC);
    await doc.save({ cancelRequestedAt: '2026-01-01T00:00:00.000Z' });
    await redis.del(redisKeys(prefix).cancelled('res-1'));
    await (await sweeps.getJob(sweepJobId('res-1')))!.remove();
    expect(await life.resume('res-1', 'test: Redis restarted empty')).toBe(true);
    const rec = await life.read('res-1');
    expect(rec?.state).toBe(SweepState.Queued);
    expect(rec?.recoveries?.[0]?.reason).toBe('test: Redis restarted empty');
    expect(await life.isCancelled('res-1')).toBe(true);
    expect(await sweeps.getJob(sweepJobId('res-1'))).toBeDefined();
    // Its job is waiting now: a second resume does nothing.
    expect(await life.resume('res-1', 'again')).toBe(false);
    // With a live owner, retry is refused and names the owner.
    await life.heartbeat('res-1', 'coord-x', 10_000);
    await expect(life.retry('res-1', new Set([TrialState.Failed]))).rejects.toThrow(/coordinator coord-x follows it/);
    await life.release('res-1', 'coord-x');
    expect(await life.owner('res-1')).toBeUndefined();
  });

  it('extend continues a finished random sweep; refuses a running one, a grid, and a cap that is not higher', async () => {
    const random = ['name: ext', 'method: random', 'run_cap: 3', 'parameters:', '  learning_rate: {min: 0.001, max: 0.1}'].join('\n');
    await life.submit({ sweepId: 'ext-1', specText: random });
    await expect(life.extend('ext-1', 6)).rejects.toThrow(/it is queued; extend a finished or cancelled sweep/);
    const doc = await life.open('ext-1');
    await doc.moveTo(SweepState.Cancelled, { cancelRequestedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z' });
    await redis.set(redisKeys(prefix).cancelled('ext-1'), 'x');
    await expect(life.extend('ext-1', 3)).rejects.toThrow(/--run-cap must be an integer above the sweep's current run_cap 3/);
    expect(await life.extend('ext-1', 6)).toEqual({ from: 3, runCap: 6 });
    const rec = await life.read('ext-1');
    expect(rec).toMatchObject({ state: SweepState.Queued, runCap: 6 });
    expect(rec?.extensions?.[0]).toMatchObject({ from: 3, runCap: 6 });
    expect(rec?.cancelRequestedAt).toBeUndefined();
    expect(await life.isCancelled('ext-1')).toBe(false);
    expect(await markerExists('ext-1')).toBe(true);
    const grid = await w.runningSweep('ext-grid', SPEC);
    await grid.moveTo(SweepState.Completed, { finishedAt: new Date().toISOString() });
    await expect(life.extend('ext-grid', 10)).rejects.toThrow(/a grid plans every combination/);
  });

  it('fail() ends a sweep that is not finished, with the reason', async () => {
    await life.submit({ sweepId: 'fail-1', specText: SPEC });
    expect(await life.fail('fail-1', 'coordinator gave up after 3 attempt(s): boom')).toBe(true);
    const rec = await life.read('fail-1');
    expect(rec?.state).toBe(SweepState.Failed);
    expect(rec?.error).toMatch(/boom/);
    expect(await markerExists('fail-1')).toBe(false);
  });

  it('rejects a sweep.json that is not a sweep record, naming the field', async () => {
    await store.putJson(layout.sweepJson('bad-1'), { sweepId: 'bad-1', state: 'exploded', submittedAt: 'x', updatedAt: 'x' });
    await expect(life.read('bad-1')).rejects.toThrow(/sweep\.json is not a valid sweep record: state:/);
  });
});

describe('trial life cycle', () => {
  it('reads a result.json written before the architecture parameters existed with their defaults filled in', async () => {
    const { lstm_layers: _l, bidirectional: _b, cell: _c, mask_zero: _m, ...older } = result('old-1', 't0000', 0, TrialState.Completed, 0.5).params;
    await store.putJson(layout.result('old-1', 't0000'), { ...result('old-1', 't0000', 0, TrialState.Completed, 0.5), params: older });
    const read = await trialLife.result('old-1', 't0000');
    expect(read?.params).toEqual({ ...older, lstm_layers: 1, bidirectional: false, cell: 'lstm', mask_zero: false });
  });

  it('commits once per trial under the job lock; a lost lock writes nothing; a duplicate gets the first result', async () => {
    const jobId = trialJobId('tr-1', 't0000');
    await trials.add('trial', { sweepId: 'tr-1', trialId: 't0000' }, { jobId });
    const lockKey = redisKeys(prefix).jobLock(QueueName.Trials, jobId);
    await redis.set(lockKey, 'token-a', 'PX', 30_000);
    await store.putJson(`${layout.checkpointPrefix('tr-1', 't0000')}state.json`, { epoch: 1 });

    expect(await trialLife.ownsLock({ jobId, token: 'token-a', attempt: 1 })).toBe(true);
    expect(await trialLife.ownsLock({ jobId, token: 'token-b', attempt: 2 })).toBe(false);
    await expect(trialLife.commit(result('tr-1', 't0000', 0, TrialState.Completed, 0.5), { jobId, token: 'token-b', attempt: 2 })).rejects.toThrow(LockLostError);
    expect(await trialLife.result('tr-1', 't0000')).toBeUndefined();

    const first = await trialLife.commit(result('tr-1', 't0000', 0, TrialState.Completed, 0.5), { jobId, token: 'token-a', attempt: 1 });
    expect(first.metric.value).toBe(0.5);
    expect(await trialLife.doneState('tr-1', 't0000')).toBe(TrialState.Completed);
    expect(await store.list(layout.checkpointPrefix('tr-1', 't0000'))).toEqual([]);
    // A later attempt that holds the lock finds the committed result and keeps it.
    await redis.set(lockKey, 'token-c', 'PX', 30_000);
    const dup = await trialLife.commit(result('tr-1', 't0000', 0, TrialState.Completed, 0.99), { jobId, token: 'token-c', attempt: 3 });
    expect(dup.metric.value).toBe(0.5);
    expect((await trialLife.result('tr-1', 't0000'))?.metric.value).toBe(0.5);
  });

  it('records a final result for a trial that could not write its own', async () => {
    const r = await trialLife.recordFinal('tr-2', { trialId: 't0003', index: 3, params: result('x', 't', 0, 'failed', null).params }, { name: 'val_accuracy', goal: 'maximize' }, TrialState.Failed, 'boom', 3, 1);
    expect(r.state).toBe(TrialState.Failed);
    expect((await trialLife.result('tr-2', 't0003'))?.error).toBe('boom');
    expect((await trialLife.doneTrials('tr-2')).get('t0003')).toBe(TrialState.Failed);
  });

  it('a worker that finishes a trial after it was recorded final (cancelled meanwhile) keeps the recorded result', async () => {
    const jobId = trialJobId('tr-3', 't0001');
    await redis.set(redisKeys(prefix).jobLock(QueueName.Trials, jobId), 'token-w', 'PX', 30_000);
    const params = result('x', 't', 0, 'failed', null).params;
    await trialLife.recordFinal('tr-3', { trialId: 't0001', index: 1, params }, { name: 'val_accuracy', goal: 'maximize' }, TrialState.Cancelled, 'sweep cancelled', 0, 1);
    const kept = await trialLife.commit(result('tr-3', 't0001', 1, TrialState.Completed, 0.9), { jobId, token: 'token-w', attempt: 1 });
    expect(kept.state).toBe(TrialState.Cancelled);
    expect((await trialLife.result('tr-3', 't0001'))?.state).toBe(TrialState.Cancelled);
  });
});

describe('rung state rebuilt from the bucket', () => {
  it('replays every metrics.jsonl into the rung store, so later decisions see the values reported before the loss', async () => {
    const spec = parseSpec(
      ['method: bayes', 'run_cap: 8', 'early_terminate: {type: hyperband, min_iter: 2, eta: 2}', 'parameters:', '  learning_rate: {min: 0.001, max: 0.1}', '  epochs: {value: 4}'].join('\n'),
    );
    const values = [0.9, 0.5, 0.7];
    for (const [i, v] of values.entries()) {
      const lines = [1, 2, 3].map((epoch) => JSON.stringify({ epoch, val_accuracy: v - 0.1 * (3 - epoch), loss: 1 }));
      await store.put(layout.metrics('rung-1', `t000${i}`), `${lines.join('\n')}\n`);
    }
    expect(await rebuildRungs({ store, redis, prefix, sweepId: 'rung-1', spec })).toBe(3);
    const rungs = new RungStore(redis, prefix, 'rung-1');
    expect(await rungs.trialValues('t0000', spec)).toEqual({ 2: 0.8 });
    expect(await rungs.trialValues('t0001', spec)).toEqual({ 2: 0.4 });
    // A new trial at the epoch-2 rung is ranked among the three replayed values: 0.45 is 3rd of 4, top 2 continue.
    const d = await rungs.report('t0003', 2, 0.45, spec);
    expect(d).toMatchObject({ continue: false, rung: 2 });
    // The store has keys now: a second rebuild replays nothing.
    expect(await rebuildRungs({ store, redis, prefix, sweepId: 'rung-1', spec })).toBe(0);
  });
});
