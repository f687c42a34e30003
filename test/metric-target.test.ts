import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { createWorld, type TestWorld } from './helpers/env.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

let world: TestWorld;
let uri: string;

beforeAll(async () => {
  world = await createWorld();
  uri = await uploadToyDataset(world, 600);
  world.start('coordinator', 'coordinator');
  world.start('worker', 'worker', { WORKER_ID: 'w' });
});
afterAll(async () => {
  await world?.cleanup();
});

describe('metric.target (W&B)', () => {
  it('once a trial reaches the target no new trial starts, running ones finish, and the sweep completes with that reason', async () => {
    // W&B's own shape: metric with goal and target; 8 trials, one worker, so most have not started when one reaches it.
    const sweepId = await submitYaml(world, [
      'name: target',
      'method: grid',
      'metric:',
      '  name: val_accuracy',
      '  goal: maximize',
      '  target: 0.2',
      'parameters:',
      '  learning_rate: {values: [0.01, 0.011, 0.012, 0.013, 0.014, 0.015, 0.016, 0.017]}',
      '  embedding_dim: {value: 8}',
      '  lstm_units: {value: 8}',
      '  max_words: {value: 60}',
      '  max_len: {value: 30}',
      '  batch_size: {value: 16}',
      '  epochs: {value: 1}',
      'dataset:',
      `  uri: ${uri}`,
    ]);
    const record = await waitForSweep(world, sweepId);
    expect(record.state).toBe('completed');
    expect(record.endReason).toMatch(/^metric target reached: t0000 val_accuracy [\d.]+ >= 0\.2$/);
    const results: TrialResult[] = [];
    for (let i = 0; i < 8; i++) results.push((await world.store.getJson<TrialResult>(layout.result(sweepId, `t000${i}`)))!);
    const completed = results.filter((r) => r.state === 'completed');
    const notStarted = results.filter((r) => r.state === 'cancelled');
    expect(completed.length + notStarted.length).toBe(8);
    expect(completed[0]!.trialId).toBe('t0000');
    // The trial a worker had already taken may finish; the rest never start.
    expect(notStarted.length).toBeGreaterThanOrEqual(5);
    for (const r of notStarted) expect(r.error).toMatch(/^not started: metric target reached/);
    expect(record.trials).toMatchObject({ total: 8, completed: completed.length, cancelled: notStarted.length });
  });
});
