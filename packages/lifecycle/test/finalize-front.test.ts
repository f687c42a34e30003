import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BestModelInfo, FrontModelsInfo } from '@sweepq/report';
import { SweepState, type Leaderboard, type SweepRecord } from '@sweepq/results';
import { trialResult } from '@sweepq/results/testing';
import { DEFAULT_PARAMS } from '@sweepq/sweep-config';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { finalizeSweep, type PlannedTrialRef, type SweepLifecycle, type TrialLifecycle } from '../src/index.js';
import { lifeWorld, type LifeWorld } from './life-world.js';

// finalizeSweep with several objectives, against a real Redis and the embedded S3 server: the leaderboard's front,
// best/ (every front model, or the rule's pick), sweep.json's best and front, and the front recomputed on extension.
let w: LifeWorld;
let store: ArtifactStore;
let life: SweepLifecycle;
let trialLife: TrialLifecycle;

const SPEC = ['name: mo', 'method: random', 'run_cap: 3', 'parameters:', '  lstm_units: {values: [8, 16, 32]}', '  epochs: {value: 1}'].join('\n');
const OBJECTIVES = [
  { name: 'val_accuracy', goal: 'maximize' },
  { name: 'model_bytes', goal: 'minimize' },
] as const;
const METRIC = OBJECTIVES[0];

beforeAll(async () => {
  w = await lifeWorld('front');
  ({ store, life, trialLife } = w);
});
afterAll(async () => {
  await w?.close();
});

/** Commit a completed trial with its accuracy and model size, and the model files its result points at. */
async function commitTrial(sweepId: string, index: number, acc: number, bytes: number): Promise<PlannedTrialRef> {
  const params = { ...DEFAULT_PARAMS, lstm_units: 8 + index, epochs: 1 };
  const result = trialResult(index, acc, bytes, { sweepId, params });
  const model = layout.resultModelPrefix(result);
  await store.putJson(`${model}model.json`, { modelTopology: { trial: result.trialId }, weightsManifest: [{ paths: ['weights.bin'], weights: [] }] });
  await store.put(`${model}weights.bin`, new Uint8Array([index, 1, 2, 3]));
  await store.putJson(`${model}vocab.json`, { word_index: { a: 1 }, num_words: 10, max_len: 5, lower: true, filters: '', split: ' ', classes: ['x', 'y'] });
  await trialLife.commit(result, { jobId: undefined, token: undefined, attempt: 1 });
  return { trialId: result.trialId, index, params };
}

async function runningDoc(sweepId: string) {
  const doc = await life.open(sweepId);
  await doc.take('test');
  await doc.moveTo(SweepState.Preparing);
  await doc.moveTo(SweepState.Running, { trials: { total: 3, completed: 0, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 3 } });
  return doc;
}

const bestKeys = async (sweepId: string) => (await store.list(layout.bestPrefix(sweepId))).map((k) => k.slice(layout.bestPrefix(sweepId).length)).sort();
const modelFiles = (dir: string) => ['README.md', 'best.json', 'model.json', 'vocab.json', 'weights.bin'].map((f) => `${dir}${f}`);

describe('finalize with several objectives', () => {
  it('without a rule: best/ holds every front model and front.json; an extension recomputes the front and drops what left it', async () => {
    await life.submit({ sweepId: 'mo-front', specText: SPEC });
    const doc = await runningDoc('mo-front');
    // t0000 and t0001 trade accuracy for size; t0002 is dominated by t0000.
    const planned = [await commitTrial('mo-front', 0, 0.9, 9000), await commitTrial('mo-front', 1, 0.8, 3000), await commitTrial('mo-front', 2, 0.85, 9500)];
    const summary = await finalizeSweep({ store, trials: trialLife, doc, metric: METRIC, objectives: OBJECTIVES, planned, cancelled: false });
    expect(summary.front).toEqual({ trialIds: ['t0000', 't0001'] });
    expect(summary.best).toEqual({ trialId: 't0000', value: 0.9, values: [0.9, 9000] });
    expect(await bestKeys('mo-front')).toEqual(['README.md', 'front.json', ...modelFiles('t0000/'), ...modelFiles('t0001/')].sort());
    const front = (await store.getJson<FrontModelsInfo>(`${layout.bestPrefix('mo-front')}front.json`))!;
    expect(front.trials).toEqual([
      { trialId: 't0000', values: { val_accuracy: 0.9, model_bytes: 9000 }, folder: 't0000/' },
      { trialId: 't0001', values: { val_accuracy: 0.8, model_bytes: 3000 }, folder: 't0001/' },
    ]);
    // Each folder is a complete model of its own trial.
    expect(await store.get(`${layout.bestPrefix('mo-front')}t0001/weights.bin`)).toEqual(new Uint8Array([1, 1, 2, 3]));
    const info = (await store.getJson<BestModelInfo>(`${layout.bestPrefix('mo-front')}t0001/best.json`))!;
    expect(info.objectives).toEqual([
      { name: 'val_accuracy', goal: 'maximize', value: 0.8 },
      { name: 'model_bytes', goal: 'minimize', value: 3000 },
    ]);
    expect(info.rule).toBeUndefined();
    expect(await store.getText(`${layout.bestPrefix('mo-front')}t0001/README.md`)).toContain('node predict.mjs ./best/t0001');
    const readme = (await store.getText(`${layout.bestPrefix('mo-front')}README.md`))!;
    expect(readme).toContain('| [`t0001`](t0001/README.md) | 0.8 | 3000 |');
    const rec = (await life.read('mo-front'))!;
    expect(rec.front).toEqual({ trialIds: ['t0000', 't0001'] });
    const lb = (await store.getJson<Leaderboard>(layout.leaderboardJson('mo-front')))!;
    expect(lb.rows.map((r) => [r.trialId, r.front])).toEqual([
      ['t0000', 0],
      ['t0001', 0],
      ['t0002', 1],
    ]);

    // Extended: t0003 beats t0001 on both objectives, t0004 joins the front; t0001's folder goes.
    await life.extend('mo-front', 5);
    const doc2 = await runningDoc('mo-front');
    planned.push(await commitTrial('mo-front', 3, 0.82, 2500), await commitTrial('mo-front', 4, 0.7, 500));
    const again = await finalizeSweep({ store, trials: trialLife, doc: doc2, metric: METRIC, objectives: OBJECTIVES, planned, cancelled: false });
    expect(again.front).toEqual({ trialIds: ['t0000', 't0003', 't0004'] });
    expect(await bestKeys('mo-front')).toEqual(['README.md', 'front.json', ...modelFiles('t0000/'), ...modelFiles('t0003/'), ...modelFiles('t0004/')].sort());
    const front2 = (await store.getJson<FrontModelsInfo>(`${layout.bestPrefix('mo-front')}front.json`))!;
    expect(front2.trials.map((t) => t.trialId)).toEqual(['t0000', 't0003', 't0004']);
    expect((await life.read('mo-front'))!.state).toBe(SweepState.Completed);
  });

  it('with a rule: best/ is the pick, as for one metric, and best.json names the rule and the front', async () => {
    await life.submit({ sweepId: 'mo-rule', specText: SPEC });
    const doc = await runningDoc('mo-rule');
    const planned = [await commitTrial('mo-rule', 0, 0.9, 9000), await commitTrial('mo-rule', 1, 0.896, 4000), await commitTrial('mo-rule', 2, 0.7, 100)];
    const rule = { pick: 'model_bytes', within: { val_accuracy: 0.005 } } as const;
    const summary = await finalizeSweep({ store, trials: trialLife, doc, metric: METRIC, objectives: OBJECTIVES, bestRule: rule, planned, cancelled: false });
    expect(summary.best).toEqual({ trialId: 't0001', value: 0.896, values: [0.896, 4000] });
    expect(summary.front).toEqual({ trialIds: ['t0000', 't0001', 't0002'], pick: 't0001' });
    expect(await bestKeys('mo-rule')).toEqual(modelFiles(''));
    expect(await store.get(`${layout.bestPrefix('mo-rule')}weights.bin`)).toEqual(new Uint8Array([1, 1, 2, 3]));
    const info = (await store.getJson<BestModelInfo>(`${layout.bestPrefix('mo-rule')}best.json`))!;
    expect(info.trialId).toBe('t0001');
    expect(info.rule).toEqual({ ...rule, text: "lowest model_bytes within 0.005 of the front's best val_accuracy" });
    expect(info.front?.map((t) => t.trialId)).toEqual(['t0000', 't0001', 't0002']);
    expect(await store.getText(`${layout.bestPrefix('mo-rule')}README.md`)).toContain("by the spec's `best:` rule: lowest model_bytes within 0.005 of the front's best val_accuracy.");
    const rec: SweepRecord = (await life.read('mo-rule'))!;
    expect(rec.best?.trialId).toBe('t0001');
    expect((await store.getJson<Leaderboard>(layout.leaderboardJson('mo-rule')))!.pick).toBe('t0001');
  });
});
