import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { encodeForTrial, encodeTexts, type TrialVocabulary } from '@sweepq/data';
import { QueueName, connectProducer } from '@sweepq/queue';
import type { Leaderboard, SweepRecord, TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { openContext, loadCliEnv, readSpecFile, submitSweep } from '@sweepq/cli';
import { REDIS_URL, createWorld, waitFor, writeToyCsv, type TestWorld } from './helpers/env.js';
import { runCli } from './helpers/cli.js';
import { testSplit } from './helpers/prepared.js';

let world: TestWorld;

beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

/**
 * The trial's saved model loads with stock tfjs straight from the bucket over HTTP and reproduces the probabilities the
 * worker computed before saving, for the same held-out examples. Returns the loaded model.
 */
async function expectStockModelReproduces(sweepId: string, record: SweepRecord, result: TrialResult): Promise<tf.LayersModel> {
  const evaluation = result.evaluation!;
  const model = await tf.loadLayersModel(`${world.s3.endpoint}/${world.store.bucket}/${layout.resultModelPrefix(result)}model.json`);
  const p = result.params;
  const enc = encodeForTrial(await testSplit(world, record), { maxWords: p.max_words, maxLen: p.max_len });
  const k = evaluation.classes.length;
  const probs = tf.tidy(() => (model.predict(tf.tensor2d(enc.x, [enc.n, p.max_len], 'int32')) as tf.Tensor).dataSync());
  expect(evaluation.samples.length).toBeGreaterThan(0);
  for (const sample of evaluation.samples) {
    expect(enc.y[sample.index]).toBe(sample.label);
    const got = Array.from(probs.subarray(sample.index * k, (sample.index + 1) * k));
    got.forEach((v, j) => expect(v).toBeCloseTo(sample.probabilities[j]!, 5));
  }
  return model;
}

/**
 * Every trial that saved a model records what it costs: model_bytes is the bytes of its three files in the bucket,
 * param_count the parameters of the model stock tfjs loads from there, latency_ms a positive median.
 */
async function expectCosts(result: TrialResult): Promise<void> {
  const dir = layout.resultModelPrefix(result);
  let bytes = 0;
  for (const f of ['model.json', 'weights.bin', 'vocab.json']) bytes += (await world.store.head(`${dir}${f}`))!.size;
  expect(result.costs?.model_bytes).toBe(bytes);
  const model = await tf.loadLayersModel(`${world.s3.endpoint}/${world.store.bucket}/${dir}model.json`);
  expect(result.costs?.param_count).toBe(model.countParams());
  // Embedding 40 x 8, the recurrent layer's 4 gates over 8 inputs + u units, a softmax over the 3 classes.
  const u = result.params.lstm_units;
  expect(result.costs?.param_count).toBe(40 * 8 + 4 * (u * (8 + u) + u) + (u * 3 + 3));
  model.dispose();
  expect(result.costs?.latency_ms).toBeGreaterThan(0);
  expect(Number.isFinite(result.costs?.latency_ms)).toBe(true);
}

/** The spec lines both sweeps share: small sizes and the toy CSV in the bucket. */
const TOY_TAIL = (): string[] => [
  '  embedding_dim: {value: 8}',
  '  max_words: {value: 40}',
  '  max_len: {value: 12}',
  '  batch_size: {value: 32}',
  '  epochs: {value: 2}',
  'dataset:',
  `  uri: s3://${world.store.bucket}/inputs/toy.csv`,
  '  validation_split: 0.25',
  '  test_split: 0.1',
  '',
];

/** Submit the spec at `specPath` and wait for the sweep to end; returns its id and final record. */
async function runSweep(specPath: string): Promise<{ sweepId: string; record: SweepRecord }> {
  const ctx = await openContext(loadCliEnv(world.env));
  let sweepId: string;
  try {
    const { text, spec } = await readSpecFile(specPath);
    sweepId = await submitSweep(ctx, text, spec);
  } finally {
    await ctx.close();
  }
  const record = await waitFor(
    'the sweep to finish',
    async () => {
      const r = await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
      return r && ['completed', 'failed', 'cancelled'].includes(r.state) ? r : undefined;
    },
    300_000,
  );
  return { sweepId, record };
}

describe('a sweep end to end: CLI -> Redis -> coordinator -> 2 worker processes -> bucket', () => {
  it('rejects a broken spec with exit code 2 and enqueues nothing', async () => {
    const bad = join(world.dir, 'bad.yaml');
    await writeFile(bad, 'method: grid\nparameters:\n  learning_rate:\n    min: fast\n    max: 0.1\n  lstm_unitz:\n    values: [8]\n');
    const r = await runCli(['submit', bad], world.env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/learning_rate/);
    expect(r.stderr).toMatch(/lstm_unitz/);
    const redis = await connectProducer(REDIS_URL);
    const q = new Queue(QueueName.Sweeps, { connection: redis, prefix: world.prefix });
    const counts = await q.getJobCounts();
    await q.close();
    redis.disconnect();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await world.store.list('sweeps/')).toEqual([]);
  });

  it('runs 4 trials over 2 workers and writes the whole bucket layout', async () => {
    const csv = join(world.dir, 'toy.csv');
    await writeToyCsv(csv, 240);
    await world.store.put('inputs/toy.csv', await readFile(csv), 'text/csv');
    const specPath = join(world.dir, 'sweep.yaml');
    await writeFile(
      specPath,
      [
        'name: e2e toy',
        'method: grid',
        'metric: {name: val_accuracy, goal: maximize}',
        'parameters:',
        '  lstm_units: {values: [4, 8]}',
        '  learning_rate: {values: [0.001, 0.02]}',
        ...TOY_TAIL(),
      ].join('\n'),
    );

    world.start('coordinator', 'coordinator');
    world.start('worker', 'worker-1', { WORKER_ID: 'w1' });
    world.start('worker', 'worker-2', { WORKER_ID: 'w2' });

    const { sweepId, record } = await runSweep(specPath);
    expect(record.state, record.error).toBe('completed');
    expect(record.trials).toMatchObject({ total: 4, completed: 4, failed: 0 });
    expect(record.dataset?.classes).toEqual(['finance', 'sport', 'weather']);

    // Every file of the layout, for every trial.
    const keys = new Set(await world.store.list(layout.sweepPrefix(sweepId)));
    for (const k of ['spec.yaml', 'sweep.json', 'leaderboard.json', 'leaderboard.csv', 'report.html', 'best/model.json', 'best/weights.bin', 'best/vocab.json', 'best/README.md', 'best/best.json']) {
      expect(keys.has(`${layout.sweepPrefix(sweepId)}${k}`), k).toBe(true);
    }
    const results: TrialResult[] = [];
    const workers = new Set<string>();
    for (const t of ['t0000', 't0001', 't0002', 't0003']) {
      const committed = (await world.store.getJson<TrialResult>(layout.result(sweepId, t)))!;
      // The model lives in the folder of the attempt that committed the result, which the result names.
      expect(committed.attemptKey).toMatch(/^\d+-[0-9a-f]{8}$/);
      const modelDir = layout.resultModelPrefix(committed);
      for (const key of [layout.params(sweepId, t), layout.metrics(sweepId, t), `${modelDir}model.json`, `${modelDir}weights.bin`, `${modelDir}vocab.json`, layout.result(sweepId, t)]) {
        expect(keys.has(key), key).toBe(true);
      }
      const metrics = (await world.store.getText(layout.metrics(sweepId, t)))!.trim().split('\n');
      expect(metrics).toHaveLength(2);
      const r = (await world.store.getJson<TrialResult>(layout.result(sweepId, t)))!;
      expect(r.state).toBe('completed');
      expect(['wasm', 'cpu', 'tensorflow']).toContain(r.backend);
      await expectCosts(r);
      workers.add(r.worker);
      results.push(r);
    }
    // Both worker processes took part.
    expect(workers.size).toBe(2);

    // Leaderboard sorted by the metric's goal.
    const lb = (await world.store.getJson<Leaderboard>(layout.leaderboardJson(sweepId)))!;
    expect(lb.rows).toHaveLength(4);
    const values = lb.rows.map((r) => r.metric as number);
    expect([...values].sort((a, b) => b - a)).toEqual(values);
    expect(lb.rows[0]!.rank).toBe(1);
    expect(record.best?.trialId).toBe(lb.rows[0]!.trialId);
    const csvText = (await world.store.getText(layout.leaderboardCsv(sweepId)))!;
    expect(csvText.split('\n')[1]).toMatch(new RegExp(`^1,${lb.rows[0]!.trialId},completed`));

    // The best model loads with stock tfjs straight from the bucket over HTTP and reproduces the
    // probabilities the worker computed before saving, for the same held-out examples.
    const best = lb.rows[0]!.trialId;
    const bestResult = results.find((r) => r.trialId === best)!;
    const evaluation = bestResult.evaluation!;
    expect(evaluation.split).toBe('test');
    expect(evaluation.confusion.flat().reduce((a, b) => a + b, 0)).toBe(record.dataset!.sizes.test);
    expect(evaluation.perClass.map((c) => c.label)).toEqual(['finance', 'sport', 'weather']);
    const model = await expectStockModelReproduces(sweepId, record, bestResult);
    // vocab.json alone is enough to preprocess new text the way training did.
    const vocab = (await world.store.getJson<TrialVocabulary>(`${layout.resultModelPrefix(bestResult)}vocab.json`))!;
    expect(vocab.classes).toEqual(['finance', 'sport', 'weather']);
    const raw = (await readFile(csv, 'utf8')).split('\n').slice(1, 4).map((l) => l.slice(1, l.lastIndexOf('"')));
    const fromVocab = encodeTexts(vocab, raw);
    expect(fromVocab).toHaveLength(3 * vocab.max_len);
    model.dispose();
  });

  it('trains stacked, bidirectional, GRU and masked models whose saved files name stock classes and reproduce in stock tfjs', async () => {
    const specPath = join(world.dir, 'arch.yaml');
    await writeFile(
      specPath,
      [
        'name: e2e architectures',
        'method: grid',
        'metric: {name: val_accuracy, goal: maximize}',
        'parameters:',
        '  cell: {values: [lstm, gru]}',
        '  bidirectional: {value: true}',
        '  lstm_layers: {value: 2}',
        '  mask_zero: {value: true}',
        '  lstm_units: {value: 4}',
        ...TOY_TAIL(),
      ].join('\n'),
    );
    const { sweepId, record } = await runSweep(specPath);
    expect(record.state, record.error).toBe('completed');
    expect(record.trials).toMatchObject({ total: 2, completed: 2, failed: 0 });
    for (const [t, cell] of [['t0000', 'LSTM'], ['t0001', 'GRU']] as const) {
      const r = (await world.store.getJson<TrialResult>(layout.result(sweepId, t)))!;
      expect(r.params).toMatchObject({ cell: cell.toLowerCase(), bidirectional: true, lstm_layers: 2, mask_zero: true });
      const json = (await world.store.getJson<{ modelTopology: { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } } }>(`${layout.resultModelPrefix(r)}model.json`))!;
      const layers = json.modelTopology.config.layers;
      expect(layers.map((l) => l.class_name)).toEqual(['Embedding', 'Bidirectional', 'Bidirectional', 'Dense']);
      expect(layers[0]!.config['mask_zero']).toBe(true);
      expect((layers[1]!.config['layer'] as { class_name: string }).class_name).toBe(cell);
      const model = await expectStockModelReproduces(sweepId, record, r);
      model.dispose();
    }
  });
});
