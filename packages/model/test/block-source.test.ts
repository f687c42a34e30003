import { beforeAll, describe, expect, it } from 'vitest';
import type { tf} from '../src/index.js';
import { buildModel, epochGroups, evaluate, initBackend, predictProbabilities, predictSource, trainModel, type BlockSource, type TrainData } from '../src/index.js';
import { TINY, separable, variableLength } from './helpers.js';

/** `d` cut into blocks of `rows` rows; `events` records each load and, from the test, each batch. */
function blocks(d: TrainData, rows: number, events: string[] = []): BlockSource {
  const sizes: number[] = [];
  for (let s = 0; s < d.n; s += rows) sizes.push(Math.min(rows, d.n - s));
  return {
    blockRows: sizes,
    maxLen: d.maxLen,
    load: (b) => {
      events.push(`load ${b}`);
      const first = b * rows;
      const n = sizes[b] as number;
      return Promise.resolve({ x: d.x.slice(first * d.maxLen, (first + n) * d.maxLen), y: d.y.slice(first, first + n) });
    },
  };
}

function weightsOf(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('training from blocks', () => {
  it('blocks that fit in one group train on exactly the batches of the whole arrays', async () => {
    const train = separable(96, TINY.maxLen, TINY.maxWords, 1);
    const validation = separable(32, TINY.maxLen, TINY.maxWords, 2);
    const a = buildModel({ ...TINY, seed: 3 });
    const b = buildModel({ ...TINY, seed: 3 });
    const ra = await trainModel({ model: a, train, validation, epochs: 2, batchSize: 16, seed: 9 });
    const rb = await trainModel({ model: b, train: blocks(train, 30), validation: blocks(validation, 10), epochs: 2, batchSize: 16, seed: 9 });
    expect(weightsOf(b)).toEqual(weightsOf(a));
    expect(rb.history.map((h) => [h.loss, h.val_loss])).toEqual(ra.history.map((h) => [h.loss, h.val_loss]));
  });

  it('many blocks: a group at a time, the first batch before the last block is loaded; deterministic; every row once per epoch', async () => {
    const train = variableLength(200, TINY.maxLen, TINY.maxWords, 4);
    const validation = separable(20, TINY.maxLen, TINY.maxWords, 5);
    const run = async (): Promise<{ events: string[]; weights: number[][] }> => {
      const events: string[] = [];
      const model = buildModel({ ...TINY, seed: 1, maskZero: true });
      await trainModel({
        model,
        train: blocks(train, 20, events),
        validation,
        epochs: 1,
        batchSize: 8,
        seed: 2,
        groupBlocks: 2,
        onBatchEnd: ({ batch }) => void events.push(`batch ${batch}`),
      });
      const weights = weightsOf(model);
      model.dispose();
      return { events, weights };
    };
    const first = await run();
    const firstBatch = first.events.indexOf('batch 0');
    const loadsBefore = first.events.slice(0, firstBatch).filter((e) => e.startsWith('load'));
    expect(loadsBefore).toHaveLength(2);
    expect(first.events.filter((e) => e.startsWith('load'))).toHaveLength(10);
    // Each group's batches: 40 rows in batches of 8.
    expect(first.events.filter((e) => e.startsWith('batch'))).toHaveLength(25);
    const second = await run();
    expect(second.events).toEqual(first.events);
    expect(second.weights).toEqual(first.weights);
    const groups = epochGroups(10, 2, 0, 2);
    expect(groups.flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(loadsBefore).toEqual((groups[0] as number[]).map((b) => `load ${b}`));
    expect(epochGroups(10, 2, 1, 2)).not.toEqual(groups);
  });

  it('evaluate and predictSource over blocks give the figures of the whole arrays', async () => {
    const data = variableLength(50, TINY.maxLen, TINY.maxWords, 6);
    const model = buildModel({ ...TINY, seed: 4 });
    const whole = await evaluate(model, data, 7);
    const byBlocks = await evaluate(model, blocks(data, 12), 7);
    expect(byBlocks.accuracy).toBe(whole.accuracy);
    expect(byBlocks.loss).toBeCloseTo(whole.loss, 5);
    const probs = await predictProbabilities(model, data.x, data.n, data.maxLen, 7);
    const src = await predictSource(model, blocks(data, 12), 7);
    expect(src.n).toBe(50);
    expect(Array.from(src.labels)).toEqual(Array.from(data.y));
    expect(Array.from(src.probabilities).map((p) => Math.round(p * 1e5))).toEqual(Array.from(probs).map((p) => Math.round(p * 1e5)));
    model.dispose();
  });
});
