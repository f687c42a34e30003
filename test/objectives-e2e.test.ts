import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BestModelInfo, FrontModelsInfo } from '@sweepq/report';
import { objectiveValues, type Leaderboard, type TrialResult } from '@sweepq/results';
import { dominates } from '@sweepq/sweep-config';
import { layout } from '@sweepq/storage';
import { SweepqClient } from '../services/cli/src/client/index.js';
import { createWorld, type TestWorld } from './helpers/env.js';
import { runCli } from './helpers/cli.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

// Several objectives end to end: CLI -> Redis -> coordinator -> 2 worker processes -> bucket, with val_accuracy
// against model_bytes. The front and the rule's pick are recomputed here from the trials' result.json by brute force,
// not with the code under test.
let world: TestWorld;
let uri: string;

beforeAll(async () => {
  world = await createWorld();
  uri = await uploadToyDataset(world, 240);
  world.start('coordinator', 'coordinator');
  world.start('worker', 'worker-a', { WORKER_ID: 'a' });
  world.start('worker', 'worker-b', { WORKER_ID: 'b' });
});
afterAll(async () => {
  await world?.cleanup();
});

const OBJECTIVES = [
  { name: 'val_accuracy', goal: 'maximize' },
  { name: 'model_bytes', goal: 'minimize' },
] as const;
const GOALS = OBJECTIVES.map((o) => o.goal);

/** A grid of 4 models of different sizes, 1 epoch each on the toy data; `extra` lines go before `parameters:`. */
const spec = (name: string, extra: string[] = []): string[] => [
  `name: ${name}`,
  'method: grid',
  'metric:',
  '  - {name: val_accuracy, goal: maximize}',
  '  - {name: model_bytes, goal: minimize}',
  ...extra,
  'parameters:',
  '  embedding_dim: {values: [4, 16]}',
  '  lstm_units: {values: [4, 12]}',
  '  learning_rate: {value: 0.02}',
  '  max_words: {value: 40}',
  '  max_len: {value: 12}',
  '  batch_size: {value: 32}',
  '  epochs: {value: 1}',
  'dataset:',
  `  uri: ${uri}`,
  '  validation_split: 0.25',
  '  test_split: 0.1',
];

async function results(sweepId: string): Promise<TrialResult[]> {
  const keys = (await world.store.list(layout.trialsPrefix(sweepId))).filter((k) => /\/trials\/t\d+\/result\.json$/.test(k));
  return Promise.all(keys.map(async (k) => (await world.store.getJson<TrialResult>(k))!));
}

/** The non-dominated trials by definition: no other trial is at least as good on both objectives and better on one. */
function bruteFront(all: readonly TrialResult[]): string[] {
  const pts = all.map((r) => objectiveValues(r, OBJECTIVES));
  return all.filter((_, i) => !pts.some((q, j) => j !== i && dominates(q, pts[i]!, GOALS))).map((r) => r.trialId).sort();
}

describe('several objectives end to end', () => {
  it('without a rule: the leaderboard front is the non-dominated set, results --json shows it, best/ holds every front model', async () => {
    const sweepId = await submitYaml(world, spec('mo-front'));
    const record = await waitForSweep(world, sweepId);
    expect(record.state, record.error).toBe('completed');
    const all = await results(sweepId);
    expect(all).toHaveLength(4);
    // Every trial recorded its model's size: the bytes of model.json + weights.bin + vocab.json as saved.
    for (const r of all) {
      const model = layout.resultModelPrefix(r);
      const sizes = await Promise.all(['model.json', 'weights.bin', 'vocab.json'].map(async (f) => (await world.store.head(`${model}${f}`))!.size));
      expect(r.costs?.model_bytes, r.trialId).toBe(sizes.reduce((a, b) => a + b, 0));
    }
    const front = bruteFront(all);
    expect(front.length).toBeGreaterThan(0);

    const lb = (await world.store.getJson<Leaderboard>(layout.leaderboardJson(sweepId)))!;
    expect([...lb.front!].sort()).toEqual(front);
    expect(lb.objectives).toEqual(OBJECTIVES);
    for (const row of lb.rows) expect(row.front === 0, row.trialId).toBe(front.includes(row.trialId));

    const cli = await runCli(['results', sweepId, '--json'], world.env);
    expect(cli.status, cli.stderr).toBe(0);
    const printed = JSON.parse(cli.stdout) as Leaderboard;
    expect([...printed.front!].sort()).toEqual(front);
    expect(printed.rows.filter((r) => r.front === 0).map((r) => r.trialId).sort()).toEqual(front);
    expect(printed.rows[0]!.values).toEqual(objectiveValues(all.find((r) => r.trialId === printed.rows[0]!.trialId)!, OBJECTIVES));
    const table = await runCli(['results', sweepId], world.env);
    expect(table.stdout).toMatch(/^#\s+trial\s+state\s+front\s+val_accuracy\s+model_bytes/m);
    expect(table.stdout).toContain(`Pareto front (front 0): ${front.length} trial${front.length === 1 ? '' : 's'} on val_accuracy (maximize), model_bytes (minimize)`);

    const best = layout.bestPrefix(sweepId);
    const info = (await world.store.getJson<FrontModelsInfo>(`${best}front.json`))!;
    expect(info.trials.map((t) => t.trialId).sort()).toEqual(front);
    expect(await world.store.exists(`${best}model.json`)).toBe(false);
    for (const t of front) {
      const r = all.find((x) => x.trialId === t)!;
      expect(await world.store.get(`${best}${t}/weights.bin`), t).toEqual(await world.store.get(`${layout.resultModelPrefix(r)}weights.bin`));
      expect((await world.store.getJson<BestModelInfo>(`${best}${t}/best.json`))!.trialId).toBe(t);
    }
    const dominated = all.filter((r) => !front.includes(r.trialId));
    for (const r of dominated) expect(await world.store.exists(`${best}${r.trialId}/model.json`), r.trialId).toBe(false);
    expect(record.front?.trialIds.slice().sort()).toEqual(front);
    // The client API finds the model of the trial sweep.json names best, in its front folder, with the front.
    const client = await SweepqClient.connect({ env: world.env });
    try {
      const model = await client.sweep(sweepId).bestModel();
      expect(model?.key).toBe(`${best}${record.best!.trialId}/`);
      expect(model?.info.trialId).toBe(record.best!.trialId);
      expect(model?.front?.trials.map((t) => t.trialId).sort()).toEqual(front);
    } finally {
      await client.close();
    }

    const status = await runCli(['status', sweepId], world.env);
    expect(status.stdout).toContain('objectives val_accuracy (maximize), model_bytes (minimize)');
    expect(status.stdout).toMatch(new RegExp(`front +${front.length} trials? on the Pareto front`));
  }, 300_000);

  it('with a best rule: best/ holds the rule pick', async () => {
    const sweepId = await submitYaml(world, spec('mo-rule', ['best: {pick: model_bytes, within: {val_accuracy: 0.1}}']));
    const record = await waitForSweep(world, sweepId);
    expect(record.state, record.error).toBe('completed');
    const all = await results(sweepId);
    const front = all.filter((r) => bruteFront(all).includes(r.trialId));
    const top = Math.max(...front.map((r) => r.metric.value!));
    // The smallest model within 0.1 of the front's best accuracy (a small tolerance for the subtraction's rounding).
    const candidates = front.filter((r) => r.metric.value! >= top - 0.1 - 1e-9).sort((a, b) => a.costs!.model_bytes - b.costs!.model_bytes || a.index - b.index);
    const pick = candidates[0]!;

    const lb = (await world.store.getJson<Leaderboard>(layout.leaderboardJson(sweepId)))!;
    expect(lb.pick).toBe(pick.trialId);
    expect(record.best?.trialId).toBe(pick.trialId);
    const best = layout.bestPrefix(sweepId);
    const info = (await world.store.getJson<BestModelInfo>(`${best}best.json`))!;
    expect(info.trialId).toBe(pick.trialId);
    expect(info.rule?.pick).toBe('model_bytes');
    expect(info.front?.map((t) => t.trialId).sort()).toEqual(front.map((r) => r.trialId).sort());
    expect(await world.store.get(`${best}weights.bin`)).toEqual(await world.store.get(`${layout.resultModelPrefix(pick)}weights.bin`));
    expect(await world.store.exists(`${best}front.json`)).toBe(false);

    const cli = await runCli(['results', sweepId], world.env);
    expect(cli.stdout).toMatch(new RegExp(`${pick.trialId}\\s+completed\\s+0 pick`));
    const json = JSON.parse((await runCli(['results', sweepId, '--json'], world.env)).stdout) as Leaderboard;
    expect(json.pick).toBe(pick.trialId);
    expect(json.bestRule).toEqual({ pick: 'model_bytes', within: { val_accuracy: 0.1 } });
  }, 300_000);
});
