import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, connectProducer, redisKeys } from '@sweepq/queue';
import type { Leaderboard, TrialResult } from '@sweepq/results';
import { paramsKey } from '@sweepq/search';
import { layout } from '@sweepq/storage';
import { REDIS_URL, createWorld, type TestWorld } from './helpers/env.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

describe('bayes + hyperband over two workers', () => {
  it('proposes exactly run_cap distinct trials, stops some early at rungs, and ranks every trial', async () => {
    const uri = await uploadToyDataset(world, 600);
    world.start('coordinator', 'coordinator');
    world.start('worker', 'worker-1', { WORKER_ID: 'b1' });
    world.start('worker', 'worker-2', { WORKER_ID: 'b2' });
    const RUN_CAP = 8;
    const sweepId = await submitYaml(world, [
      'name: bayes-hyperband',
      'method: bayes',
      `run_cap: ${RUN_CAP}`,
      'seed: 3',
      'max_in_flight: 2',
      'bayes: {n_startup_trials: 4, multivariate: true}',
      'metric: {name: val_accuracy, goal: maximize}',
      'early_terminate: {type: hyperband, min_iter: 1, eta: 2}',
      'parameters:',
      '  optimizer: {values: [adam, sgd]}',
      '  learning_rate: {distribution: log_uniform_values, min: 0.0003, max: 0.05}',
      '  lstm_units: {values: [4, 8]}',
      '  recurrent_dropout:',
      '    distribution: uniform',
      '    min: 0.0',
      '    max: 0.3',
      '    condition: {lstm_units: {values: [8]}}',
      '  embedding_dim: {value: 8}',
      '  max_words: {value: 40}',
      '  max_len: {value: 12}',
      '  batch_size: {value: 32}',
      '  epochs: {value: 4}',
      'dataset:',
      `  uri: ${uri}`,
    ]);
    const record = await waitForSweep(world, sweepId, 300_000);
    expect(record.state, record.error).toBe('completed');
    expect(record.trials!.total).toBe(RUN_CAP);
    expect(record.trials!.completed + record.trials!.stopped).toBe(RUN_CAP);

    // Exactly run_cap trial jobs, with deterministic ids and distinct configurations.
    const redis = await connectProducer(REDIS_URL);
    const trials = new Queue(QueueName.Trials, { connection: redis, prefix: world.prefix });
    const jobs = await trials.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
    await trials.close();
    const rungKeys = await redis.keys(`${world.prefix}:sweepq:rung:${sweepId}*`);
    const done = await redis.hlen(redisKeys(world.prefix).done(sweepId));
    redis.disconnect();
    expect(jobs.map((j) => j.id).sort()).toEqual(Array.from({ length: RUN_CAP }, (_, i) => `${sweepId}--t${String(i).padStart(4, '0')}`));
    expect(done).toBe(RUN_CAP);
    expect(rungKeys).toEqual([]); // the rung store is cleared when the sweep ends

    const results: TrialResult[] = [];
    for (let i = 0; i < RUN_CAP; i++) results.push((await world.store.getJson<TrialResult>(layout.result(sweepId, `t000${i}`)))!);
    expect(new Set(results.map((r) => paramsKey(r.params))).size).toBe(RUN_CAP);
    // Conditional parameter: recurrent_dropout only applies with 8 units; otherwise it keeps its default 0.
    for (const r of results) if (r.params.lstm_units !== 8) expect(r.params.recurrent_dropout).toBe(0);

    // Early-stopped trials keep their metrics, weights and a place in the leaderboard.
    const stopped = results.filter((r) => r.state === 'stopped');
    expect(stopped.length).toBe(record.trials!.stopped);
    for (const r of stopped) {
      expect(r.reason).toBe('early_terminated');
      expect(r.stoppedAtEpoch).toBeLessThan(4);
      expect(r.epochs).toBe(r.stoppedAtEpoch);
      const lines = (await world.store.getText(layout.metrics(sweepId, r.trialId)))!.trim().split('\n');
      expect(lines).toHaveLength(r.stoppedAtEpoch!);
      expect(await world.store.exists(`${layout.resultModelPrefix(r)}weights.bin`)).toBe(true);
    }
    // With eta 2 and 8 trials some trial is always below the top half at rung 1 or 2.
    expect(stopped.length).toBeGreaterThan(0);
    const lb = (await world.store.getJson<Leaderboard>(layout.leaderboardJson(sweepId)))!;
    expect(lb.rows).toHaveLength(RUN_CAP);
    expect(lb.rows.every((r) => r.rank !== null)).toBe(true);
    const epochs = results.reduce((a, r) => a + r.epochs, 0);
    console.log(`bayes+hyperband: ${RUN_CAP} trials, ${stopped.length} stopped early, ${epochs} epochs trained of ${RUN_CAP * 4} without early stopping; best ${lb.rows[0]!.trialId} val_accuracy ${lb.rows[0]!.metric}`);
  });
});
