import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, redisKeys, sweepJobId } from '@sweepq/queue';
import { SweepState, TrialState, type TrialResult } from '@sweepq/results';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { DEFAULT_PARAMS } from '@sweepq/sweep-config';
import {
  LifecycleError,
  LifecycleErrorCode,
  LockLostError,
  VersionedJson,
  committedTrialIds,
  finishedTrialIds,
  ownerViews,
  TrialLifecycle,
  type SweepLifecycle,
} from '../src/index.js';
import { lifeWorld, type LifeWorld } from './life-world.js';

// Fencing against a real Redis and the embedded S3 server (which honours conditional writes): an owner that was
// taken over cannot write, a cancel is never erased, results are written once, ownership keys are compare-and-set.
let w: LifeWorld;
let store: ArtifactStore;
let redis: Redis;
let sweeps: Queue;
let prefix: string;
let life: SweepLifecycle;
let trialLife: TrialLifecycle;

const SPEC = ['name: fence', 'method: grid', 'parameters:', '  lstm_units: {values: [8, 16]}', '  epochs: {value: 1}'].join('\n');

beforeAll(async () => {
  w = await lifeWorld('fence');
  ({ store, redis, sweeps, prefix, life, trialLife } = w);
});

afterAll(async () => {
  await w?.close();
});

const result = (sweepId: string, trialId: string, attemptKey: string, value: number): TrialResult => ({
  attemptKey,
  sweepId,
  trialId,
  index: 0,
  state: TrialState.Completed,
  params: { ...DEFAULT_PARAMS, epochs: 1 },
  metric: { name: 'val_accuracy', goal: 'maximize', value },
  final: null,
  test: null,
  epochs: 1,
  durationSec: 1,
  samplesPerSec: null,
  backend: 'test',
  tfjsVersion: 'test',
  worker: attemptKey,
  attempt: 1,
  finishedAt: new Date().toISOString(),
});

const fenced = (err: unknown) => err instanceof LifecycleError && err.code === LifecycleErrorCode.Fenced;

describe('fencing of sweep.json', () => {
  it('an owner taken over writes nothing more: not details, not a state, not a finalize', async () => {
    await life.submit({ sweepId: 'fe-1', specText: SPEC });
    const a = await life.open('fe-1');
    expect(await a.take('coord-a')).toBe(1);
    await a.moveTo(SweepState.Preparing);
    // Coordinator B takes the sweep while A is paused.
    const b = await life.open('fe-1');
    expect(await b.take('coord-b')).toBe(2);
    await b.moveTo(SweepState.Running, { trials: { total: 2, completed: 0, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 2 } });
    // A wakes: every write is refused by the bucket, and says why.
    await expect(a.save({ trials: { total: 2, completed: 2, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 0 } })).rejects.toSatisfy(fenced);
    await expect(a.moveTo(SweepState.Completed, { finishedAt: 'x' })).rejects.toThrow(/taken over at epoch 2 by coord-b/);
    await expect(a.assertOwner()).rejects.toSatisfy(fenced);
    const now = (await life.read('fe-1'))!;
    expect(now).toMatchObject({ state: 'running', epoch: 2, owner: 'coord-b' });
    expect(now.trials?.completed).toBe(0);
    await b.assertOwner();
  });

  it("an owner taken over deletes nothing of the views (best/'s stale folders): delete and deletePrefix are fenced too", async () => {
    await life.submit({ sweepId: 'fe-8', specText: SPEC });
    const a = await life.open('fe-8');
    expect(await a.take('coord-a')).toBe(1);
    const key = `${layout.bestPrefix('fe-8')}t0001/model.json`;
    const viewsA = ownerViews(store, a);
    await viewsA.put(key, '{}', 'application/json');
    const b = await life.open('fe-8');
    expect(await b.take('coord-b')).toBe(2);
    await ownerViews(store, b).put(`${layout.bestPrefix('fe-8')}t0002/model.json`, '{}', 'application/json');
    await expect(viewsA.delete(key)).rejects.toSatisfy(fenced);
    await expect(viewsA.deletePrefix(layout.bestPrefix('fe-8'))).rejects.toSatisfy(fenced);
    expect(await store.list(layout.bestPrefix('fe-8'))).toHaveLength(2);
    // The owner's own deletes go through.
    await ownerViews(store, b).delete(key);
    expect(await store.exists(key)).toBe(false);
  });

  it('a cancel recorded by the CLI survives the owner writing from its older copy, and a rebuild re-arms it', async () => {
    await life.submit({ sweepId: 'fe-2', specText: SPEC });
    const owner = await life.open('fe-2');
    await owner.take('coord-a');
    await owner.moveTo(SweepState.Preparing);
    await owner.moveTo(SweepState.Running, { trials: { total: 2, completed: 0, stopped: 0, failed: 0, cancelled: 0, running: 2, queued: 0 } });
    // The CLI records the cancel from its own copy (no owner in Redis: it would finalize; here only its write matters).
    const cli = await life.open('fe-2');
    await cli.save({ cancelRequestedAt: '2026-12-07T10:00:00.000Z' });
    // The owner's next count change starts from its stale copy; the write re-applies it to the fresh record.
    await owner.save({ trials: { total: 2, completed: 1, stopped: 0, failed: 0, cancelled: 0, running: 1, queued: 0 } });
    const r = (await life.read('fe-2'))!;
    expect(r.cancelRequestedAt).toBe('2026-12-07T10:00:00.000Z');
    expect(r.trials?.completed).toBe(1);
    // Redis lost everything: the rebuild takes the sweep (fencing the old loop) and sets the flag again.
    await redis.del(redisKeys(prefix).cancelled('fe-2'));
    await sweeps.remove(sweepJobId('fe-2')).catch(() => undefined);
    expect(await life.resume('fe-2', 'test')).toBe(true);
    expect(await life.isCancelled('fe-2')).toBe(true);
    await expect(owner.save({ trials: { total: 2, completed: 2, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 0 } })).rejects.toSatisfy(fenced);
    expect((await life.read('fe-2'))!).toMatchObject({ state: 'queued', epoch: 2, owner: 'recovery', cancelRequestedAt: '2026-12-07T10:00:00.000Z' });
  });

  it('two submits racing for one id: one gets the sweep, the other is told it exists', async () => {
    const outcomes = await Promise.allSettled([life.submit({ sweepId: 'fe-3', specText: SPEC }), life.submit({ sweepId: 'fe-3', specText: SPEC })]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(LifecycleError);
  });

  it('many holders writing at once: every change lands, none is erased', async () => {
    await life.submit({ sweepId: 'fe-4', specText: SPEC });
    const docs = await Promise.all(Array.from({ length: 8 }, () => life.open('fe-4')));
    await Promise.all(docs.map((d, i) => d.save({ [`note${i}`]: i } as never)));
    const r = (await life.read('fe-4')) as unknown as Record<string, unknown>;
    for (let i = 0; i < 8; i++) expect(r[`note${i}`]).toBe(i);
  });

  it('a conditional write whose response was lost counts as landed (its write id is in the bucket)', async () => {
    const key = 'fence/lost-response.json';
    const holder = VersionedJson.absent<{ n: number; writeId?: string }>(store, key, (raw) => raw as { n: number });
    expect(await holder.write({ n: 1 })).toBe(true);
    // The same holder retries with the old ETag after its own write landed (what a retried request does).
    const stale = await VersionedJson.read<{ n: number; writeId?: string }>(store, key, (raw) => raw as { n: number });
    expect(await holder.write({ n: 2 })).toBe(true);
    expect(await stale.write({ n: 3 })).toBe(false);
    expect(stale.value?.n).toBe(2);
  });
});

describe('ownership keys in Redis are compare-and-set', () => {
  it('a newer epoch holds the heartbeat; the older owner is told; release removes only its own key', async () => {
    expect(await life.heartbeat('fe-5', 'coord-a', 30_000, 1)).toBe(true);
    expect(await life.heartbeat('fe-5', 'coord-b', 30_000, 2)).toBe(true);
    expect(await life.heartbeat('fe-5', 'coord-a', 30_000, 1)).toBe(false);
    expect((await life.owner('fe-5'))?.coordinator).toBe('coord-b');
    await life.release('fe-5', 'coord-a');
    expect((await life.owner('fe-5'))?.coordinator).toBe('coord-b');
    await life.release('fe-5', 'coord-b');
    expect(await life.owner('fe-5')).toBeUndefined();
  });
});

describe('trial results are written once', () => {
  it('two attempts committing: the first result stands, the second gets it back, whatever Redis says', async () => {
    const first = await trialLife.commit(result('fe-6', 't0000', '1-aaaaaaaa', 0.5), { jobId: undefined, token: undefined, attempt: 1 });
    expect(first.attemptKey).toBe('1-aaaaaaaa');
    // A second attempt that got past the Redis claim (its claim expired, or Redis lost it) is still refused.
    const second = await trialLife.commit(result('fe-6', 't0000', '2-bbbbbbbb', 0.9), { jobId: undefined, token: undefined, attempt: 2 }, { claimed: true });
    expect(second.attemptKey).toBe('1-aaaaaaaa');
    expect((await trialLife.result('fe-6', 't0000'))?.metric.value).toBe(0.5);
    expect(await trialLife.doneState('fe-6', 't0000')).toBe(TrialState.Completed);
  });

  it('a final result recorded for a cancelled trial is not overwritten by a worker finishing later, nor the other way round', async () => {
    const params = { ...DEFAULT_PARAMS, epochs: 1 };
    const cancelled = await trialLife.recordFinal('fe-7', { trialId: 't0001', index: 1, params }, { name: 'val_accuracy', goal: 'maximize' }, TrialState.Cancelled, 'sweep cancelled', 0, 1);
    const late = await trialLife.commit(result('fe-7', 't0001', '1-cccccccc', 0.7), { jobId: undefined, token: undefined, attempt: 1 }, { claimed: true });
    expect(late.state).toBe(TrialState.Cancelled);
    expect(late.attemptKey).toBe(cancelled.attemptKey);
    const worker = await trialLife.commit(result('fe-7', 't0002', '1-dddddddd', 0.7), { jobId: undefined, token: undefined, attempt: 1 });
    const final = await trialLife.recordFinal('fe-7', { trialId: 't0002', index: 2, params }, { name: 'val_accuracy', goal: 'maximize' }, TrialState.Cancelled, 'sweep cancelled', 0, 1);
    expect(final.state).toBe(TrialState.Completed);
    expect(final.attemptKey).toBe(worker.attemptKey);
  });
});

describe('a retry reopens a trial without ever making result.json absent', () => {
  const metric = { name: 'val_accuracy', goal: 'maximize' } as const;
  const params = { ...DEFAULT_PARAMS, epochs: 1 };
  /** An attempt holding a BullMQ job lock (set here as BullMQ would), and a way to lose it. */
  const attempt = async (sweepId: string, token: string) => {
    const lockKey = redisKeys(prefix).jobLock(QueueName.Trials, `${sweepId}-job`);
    await redis.set(lockKey, token);
    return { lease: { jobId: `${sweepId}-job`, token, attempt: 1 }, loseLock: () => redis.del(lockKey) };
  };
  const epochOf = async (sweepId: string) => (await life.read(sweepId))!.epoch!;

  it('an attempt paused after its claim, woken after a cancel and a retry, cannot commit; the retry\'s attempt can', async () => {
    await w.runningSweep('fe-10', SPEC, { stranded: true });
    // Attempt A claims t0000 (nothing committed yet), uploads its model, and pauses before writing result.json; its
    // job lock expires meanwhile.
    const a = await attempt('fe-10', 'tok-a');
    expect(await trialLife.claim('fe-10', 't0000', a.lease)).toBeUndefined();
    await store.put(`${layout.resultModelPrefix({ sweepId: 'fe-10', trialId: 't0000', attemptKey: '1-aaaaaaaa' })}model.json`, '{}', 'application/json');
    await a.loseLock();
    // The sweep is cancelled (the trial gets a cancelled result) and `retry --cancelled` runs.
    await trialLife.recordFinal('fe-10', { trialId: 't0000', index: 0, params }, metric, TrialState.Cancelled, 'sweep cancelled', 0, await epochOf('fe-10'));
    await trialLife.commit(result('fe-10', 't0001', '1-bbbbbbbb', 0.6), { jobId: undefined, token: undefined, attempt: 1 });
    const { retried } = await life.retry('fe-10', new Set([TrialState.Cancelled]));
    expect(retried).toEqual(['t0000']);
    // result.json is there, reopened: not a result, not finished, but never absent.
    const raw = await store.getJson<Record<string, unknown>>(layout.result('fe-10', 't0000'));
    expect(raw).toMatchObject({ trialId: 't0000', index: 0, reopened: { previous: expect.stringContaining('/attempts/'), epoch: await epochOf('fe-10') } });
    expect(await trialLife.result('fe-10', 't0000')).toBeUndefined();
    expect([...(await committedTrialIds(store, 'fe-10'))].sort()).toEqual(['t0000', 't0001']);
    expect([...(await finishedTrialIds(store, 'fe-10', (await life.read('fe-10'))!.retries))]).toEqual(['t0001']);
    expect(await store.list(layout.trialOutputsPrefix('fe-10', 't0000'))).toEqual([]);

    // A wakes: its write is refused at the bucket (result.json is there), and it no longer holds its lock.
    await expect(trialLife.commit(result('fe-10', 't0000', '1-aaaaaaaa', 0.9), a.lease, { claimed: true })).rejects.toThrow(LockLostError);
    expect(await trialLife.result('fe-10', 't0000')).toBeUndefined();
    // The retry's attempt B claims and commits over the reopened record.
    const b = await attempt('fe-10', 'tok-b');
    const committed = await trialLife.commit(result('fe-10', 't0000', '1-cccccccc', 0.7), b.lease);
    expect(committed.attemptKey).toBe('1-cccccccc');
    // A, once more (a retried request): it gets B's result back, and B's stands.
    const again = await trialLife.commit(result('fe-10', 't0000', '1-aaaaaaaa', 0.9), a.lease, { claimed: true });
    expect(again.attemptKey).toBe('1-cccccccc');
    expect((await trialLife.result('fe-10', 't0000'))?.attemptKey).toBe('1-cccccccc');
    expect(await trialLife.doneState('fe-10', 't0000')).toBe(TrialState.Completed);
  });

  it('a final result over a reopened trial: an owner older than the retry is fenced, a newer one writes it; an attempt of a retry reopened again is refused', async () => {
    await w.runningSweep('fe-11', SPEC, { stranded: true });
    await trialLife.recordFinal('fe-11', { trialId: 't0000', index: 0, params }, metric, TrialState.Failed, 'boom', 3, await epochOf('fe-11'));
    const before = await epochOf('fe-11');
    await life.retry('fe-11', new Set([TrialState.Failed]));
    const retryEpoch = await epochOf('fe-11');
    expect(retryEpoch).toBeGreaterThan(before);
    // The owner from before the retry, paused while finalizing, wakes: it must not cancel the retried trial.
    const stale = trialLife.recordFinal('fe-11', { trialId: 't0000', index: 0, params }, metric, TrialState.Cancelled, 'sweep cancelled', 0, before);
    await expect(stale).rejects.toMatchObject({ code: LifecycleErrorCode.Fenced });
    expect(await trialLife.result('fe-11', 't0000')).toBeUndefined();
    // An attempt of this retry claims, then loses its lock; the retried sweep's new owner cancels it (over the
    // reopened record), and it is retried again.
    const a = await attempt('fe-11', 'tok-a');
    expect(await trialLife.claim('fe-11', 't0000', a.lease)).toBeUndefined();
    await a.loseLock();
    const final = await trialLife.recordFinal('fe-11', { trialId: 't0000', index: 0, params }, metric, TrialState.Cancelled, 'sweep cancelled', 0, retryEpoch + 1);
    expect((await trialLife.result('fe-11', 't0000'))?.attemptKey).toBe(final.attemptKey);
    await life.retry('fe-11', new Set([TrialState.Cancelled]));
    await expect(trialLife.commit(result('fe-11', 't0000', '1-dddddddd', 0.9), a.lease, { claimed: true })).rejects.toThrow(LockLostError);
    const b = await attempt('fe-11', 'tok-b');
    expect((await trialLife.commit(result('fe-11', 't0000', '1-eeeeeeee', 0.8), b.lease)).attemptKey).toBe('1-eeeeeeee');
    expect((await store.list(layout.trialAttemptsPrefix('fe-11', 't0000'))).filter((k) => k.endsWith('-result.json'))).toHaveLength(2);
  });

  it('reopening is recognised as done when the PUT landed but its answer was lost', async () => {
    await w.runningSweep('fe-13', SPEC, { stranded: true });
    const failed = await trialLife.recordFinal('fe-13', { trialId: 't0000', index: 0, params }, metric, TrialState.Failed, 'boom', 3, 1);
    // ArtifactStore has private fields: its methods run on the store itself, not on the proxy.
    const bound = (target: ArtifactStore, v: unknown): unknown => (typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v);
    // A store whose conditional PUTs land but answer "precondition failed", as a retried request does after its first try landed.
    const lossy = new Proxy(store, {
      get: (target, prop, receiver) =>
        prop === 'putJsonIfMatch'
          ? async (key: string, value: unknown, etag: string) => {
              await target.putJsonIfMatch(key, value, etag);
              return undefined;
            }
          : bound(target, Reflect.get(target, prop, receiver)),
    });
    const lossyLife = new TrialLifecycle({ store: lossy, redis, prefix });
    const etag = (await store.head(layout.result('fe-13', 't0000')))!.etag;
    expect(await lossyLife.reopen({ result: failed, etag }, 'elsewhere', 5)).toBe(true);
    // A second reopen of the same result finds it changed.
    expect(await lossyLife.reopen({ result: failed, etag }, 'elsewhere', 5)).toBe(false);
  });

  it('a retry whose CLI died after reopening a trial, before queuing the sweep: the next retry picks the trial up', async () => {
    await w.runningSweep('fe-12', SPEC, { stranded: true });
    const failed = await trialLife.recordFinal('fe-12', { trialId: 't0001', index: 1, params }, metric, TrialState.Failed, 'boom', 3, 1);
    // What the dead CLI left: the result moved aside and result.json reopened, the sweep not queued again.
    expect(await trialLife.reopen({ result: failed, etag: (await store.head(layout.result('fe-12', 't0001')))!.etag }, 'elsewhere', 2)).toBe(true);
    const { retried } = await life.retry('fe-12', new Set([TrialState.Failed]));
    expect(retried).toEqual(['t0001']);
    expect((await life.read('fe-12'))?.retries?.at(-1)?.trials).toEqual(['t0001']);
  });
});

describe('active markers', () => {
  it('findStranded keeps the marker of a sweep whose record cannot be read, and drops it only for gone or finished sweeps', async () => {
    await store.put(layout.activeMarker('fe-8'), 'fe-8', 'text/plain');
    await store.put(layout.sweepJson('fe-8'), '{ not json', 'application/json');
    await store.put(layout.activeMarker('fe-9'), 'fe-9', 'text/plain');
    await life.findStranded();
    const markers = await store.list(layout.activePrefix());
    expect(markers).toContain(layout.activeMarker('fe-8'));
    expect(markers).not.toContain(layout.activeMarker('fe-9'));
  });
});
