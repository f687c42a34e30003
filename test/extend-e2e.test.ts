import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepRecord, TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { createWorld, waitFor, type TestWorld } from './helpers/env.js';
import { runCli } from './helpers/cli.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

// W&B cannot add runs to a finished sweep (wandb/wandb#10225); `sweepq extend` can.
let world: TestWorld;
let uri: string;
/** The bayes sweep of the second test, warm-starting the third. */
let bayesSweep = '';

beforeAll(async () => {
  world = await createWorld();
  uri = await uploadToyDataset(world, 300);
  world.start('coordinator', 'coordinator');
  world.start('worker', 'worker-a', { WORKER_ID: 'a' });
  world.start('worker', 'worker-b', { WORKER_ID: 'b' });
});
afterAll(async () => {
  await world?.cleanup();
});

const common = ['  embedding_dim: {value: 8}', '  max_words: {value: 60}', '  max_len: {value: 20}', '  batch_size: {value: 32}', '  epochs: {value: 1}', 'dataset:'];

async function results(sweepId: string): Promise<TrialResult[]> {
  const keys = (await world.store.list(layout.trialsPrefix(sweepId))).filter((k) => /\/trials\/t\d+\/result\.json$/.test(k));
  return Promise.all(keys.map(async (k) => (await world.store.getJson<TrialResult>(k))!));
}
const configKey = (r: TrialResult) => JSON.stringify(r.params);

describe('sweepq extend', () => {
  it('continues a finished random sweep without repeating a configuration, and stops when the space is used up', async () => {
    // 4 configurations in all; the first 2 trials are kept as they were.
    const sweepId = await submitYaml(world, [
      'name: ext-random',
      'method: random',
      'run_cap: 2',
      'seed: 3',
      'parameters:',
      '  lstm_units: {values: [8, 16]}',
      '  learning_rate: {values: [0.01, 0.02]}',
      ...common,
      `  uri: ${uri}`,
    ]);
    await waitForSweep(world, sweepId);
    const before = await results(sweepId);
    const ext = await runCli(['extend', sweepId, '--run-cap', '10', '--json'], world.env);
    expect(ext.status, ext.stderr).toBe(0);
    expect(JSON.parse(ext.stdout)).toMatchObject({ from: 2, runCap: 10 });
    const record = await waitFor(
      'the extended sweep to finish',
      async () => {
        const r = await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
        return r && r.state === 'completed' && r.extensions ? r : undefined;
      },
      180_000,
    );
    const after = await results(sweepId);
    const distinctBefore = new Set(before.map(configKey)).size;
    // Only the configurations not tried yet were added, each once; the space then ran out (4 configurations).
    expect(after).toHaveLength(2 + (4 - distinctBefore));
    expect(new Set(after.map(configKey)).size).toBe(4);
    for (const r of before) expect(after.find((a) => a.trialId === r.trialId)?.finishedAt).toBe(r.finishedAt);
    expect(record.trials?.total).toBe(after.length);
  });

  it("continues a bayes sweep whose TPE is fitted on every earlier trial; a grid is refused with the reason", async () => {
    const sweepId = await submitYaml(world, [
      'name: ext-bayes',
      'method: bayes',
      'run_cap: 20',
      'max_in_flight: 2',
      'bayes: {n_startup_trials: 5}',
      'parameters:',
      '  learning_rate: {distribution: log_uniform_values, min: 0.001, max: 0.1}',
      '  lstm_units: {values: [8, 16]}',
      ...common,
      `  uri: ${uri}`,
    ]);
    await waitForSweep(world, sweepId);
    bayesSweep = sweepId;
    const ext = await runCli(['extend', sweepId, '--run-cap', '40'], world.env);
    expect(ext.status, ext.stderr).toBe(0);
    await waitFor(
      'the extended sweep to finish',
      async () => {
        const r = await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
        return r && r.state === 'completed' && r.extensions ? r : undefined;
      },
      180_000,
    );
    const all = await results(sweepId);
    expect(all.map((r) => r.trialId).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `t${String(i).padStart(4, '0')}`));
    expect(new Set(all.map(configKey)).size).toBe(40);
    // The coordinator's first proposals after the extension (t0020, t0021) are fitted on all 20 earlier trials.
    const log = await readFile(join(world.dir, 'coordinator.log'), 'utf8');
    const proposal = log
      .split('\n')
      .map((l) => (l.includes('"proposed trials"') && l.includes(sweepId) ? (JSON.parse(l) as { trials: string[]; observations: number }) : undefined))
      .find((p) => p?.trials.includes('t0020'));
    expect(proposal?.observations).toBe(20);

    const grid = await submitYaml(world, ['name: ext-grid', 'method: grid', 'parameters:', '  lstm_units: {values: [8]}', ...common, `  uri: ${uri}`]);
    await waitForSweep(world, grid);
    const refused = await runCli(['extend', grid, '--run-cap', '5'], world.env);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/cannot extend sweep .*: a grid plans every combination of its values up front/);
  });

  it('prior_sweeps warm-starts TPE from an earlier sweep; a missing sweep or a space with none of its trials is refused, naming why', async () => {
    expect(bayesSweep).not.toBe('');
    const space = (lstm: string) => [
      'method: bayes',
      'run_cap: 2',
      'bayes: {n_startup_trials: 3}',
      `prior_sweeps: [${bayesSweep}]`,
      'parameters:',
      '  learning_rate: {distribution: log_uniform_values, min: 0.001, max: 0.1}',
      `  lstm_units: ${lstm}`,
      ...common,
      `  uri: ${uri}`,
    ];
    const warm = await submitYaml(world, ['name: warm', ...space('{values: [8, 16]}')]);
    const record = await waitForSweep(world, warm);
    expect(record.state).toBe('completed');
    const log = await readFile(join(world.dir, 'coordinator.log'), 'utf8');
    expect(log).toContain(`warm start: 40 of 40 trials of ${bayesSweep}`);
    // The first proposal already models all 40 earlier trials (no random start-up trials).
    const first = log
      .split('\n')
      .map((l) => (l.includes('"proposed trials"') && l.includes(warm) ? (JSON.parse(l) as { trials: string[]; observations: number }) : undefined))
      .find((p) => p?.trials.includes('t0000'));
    expect(first?.observations).toBe(40);
    const earlier = new Set((await results(bayesSweep)).map(configKey));
    for (const r of await results(warm)) expect(earlier.has(configKey(r))).toBe(false);

    const narrow = await submitYaml(world, ['name: narrow', ...space('{value: 32}')]);
    const failed = await waitForSweep(world, narrow);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/prior_sweeps: none of the 40 finished trials of .* lies inside this sweep's search space; parameters outside it: lstm_units \(40\)/);
    const missing = await submitYaml(world, ['name: missing', ...space('{values: [8, 16]}').map((l) => (l.startsWith('prior_sweeps') ? 'prior_sweeps: [no-such-sweep]' : l))]);
    expect((await waitForSweep(world, missing)).error).toMatch(/prior_sweeps: no sweep "no-such-sweep" in s3:\/\//);
  });
});
