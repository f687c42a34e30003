import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  deserializeModel,
  DivergedError,
  evaluate,
  getOptimizerState,
  initBackend,
  ModelError,
  predictProbabilities,
  serializeModel,
  setOptimizerState,
  tf,
  trainModel,
  type EpochLog,
} from '../src/index.js';
import { TINY, separable } from './helpers.js';

const train = separable(128, TINY.maxLen, TINY.maxWords, 1);
const validation = separable(64, TINY.maxLen, TINY.maxWords, 2);

function weightsOf(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`trainModel on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
    });

    it('learns a separable task well above chance', async () => {
      const model = buildModel({ ...TINY, learningRate: 0.05 });
      const before = await evaluate(model, validation);
      const { history, aborted } = await trainModel({ model, train, validation, epochs: 5, batchSize: 16, seed: 1 });
      expect(aborted).toBe(false);
      expect(history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5]);
      const last = history.at(-1)!;
      expect(last.val_accuracy).toBeGreaterThan(0.85);
      expect(last.val_accuracy).toBeGreaterThan(before.accuracy + 0.2);
      expect(last.loss).toBeLessThan(history[0]!.loss);
      expect(last.samplesPerSec).toBeGreaterThan(0);
      // The validation numbers are those of evaluate() on the final weights.
      const after = await evaluate(model, validation, 7);
      expect(after.loss).toBeCloseTo(last.val_loss, 5);
      expect(after.accuracy).toBe(last.val_accuracy);
      model.dispose();
    });

    it('does not leak tensors across epochs, batches or validation', async () => {
      const model = buildModel({ ...TINY, dropout: 0.2, recurrentDropout: 0.2 });
      const perEpoch: number[] = [];
      const perBatch: number[] = [];
      await trainModel({
        model,
        train,
        validation,
        epochs: 3,
        batchSize: 32,
        seed: 3,
        onBatchEnd: ({ epoch, batch }) => {
          if (epoch > 1 || batch > 0) perBatch.push(tf.memory().numTensors);
        },
        onEpochEnd: () => {
          perEpoch.push(tf.memory().numTensors);
        },
      });
      expect(new Set(perEpoch).size).toBe(1);
      expect(new Set(perBatch).size).toBe(1);
      const after = tf.memory().numTensors;
      await predictProbabilities(model, validation.x, validation.n, validation.maxLen, 10);
      await evaluate(model, validation, 9);
      expect(tf.memory().numTensors).toBe(after);
      model.dispose();
    });

    it('is deterministic for a seed (shuffle, dropout masks, initial weights)', async () => {
      const run = async (): Promise<{ history: EpochLog[]; weights: number[][] }> => {
        const model = buildModel({ ...TINY, dropout: 0.3, recurrentDropout: 0.2 });
        const { history } = await trainModel({ model, train, validation, epochs: 2, batchSize: 16, seed: 11 });
        const weights = weightsOf(model);
        model.dispose();
        return { history: history.map((h) => ({ ...h, seconds: 0, samplesPerSec: 0 })), weights };
      };
      const a = await run();
      const b = await run();
      expect(b.history).toEqual(a.history);
      expect(b.weights).toEqual(a.weights);
      // A different training seed changes the batch order and masks.
      const model = buildModel({ ...TINY, dropout: 0.3, recurrentDropout: 0.2 });
      const c = await trainModel({ model, train, validation, epochs: 2, batchSize: 16, seed: 12 });
      expect(c.history[0]!.loss).not.toBe(a.history[0]!.loss);
      model.dispose();
    });

    it('stops between batches when the signal aborts, without finishing the epoch', async () => {
      const model = buildModel(TINY);
      const controller = new AbortController();
      const seen: Array<[number, number]> = [];
      const epochs: number[] = [];
      const result = await trainModel({
        model,
        train,
        validation,
        epochs: 3,
        batchSize: 16,
        seed: 1,
        signal: controller.signal,
        onBatchEnd: ({ epoch, batch, batches }) => {
          expect(batches).toBe(8);
          seen.push([epoch, batch]);
          if (epoch === 2 && batch === 2) controller.abort();
        },
        onEpochEnd: (log) => {
          epochs.push(log.epoch);
        },
      });
      expect(result.aborted).toBe(true);
      expect(result.history.map((h) => h.epoch)).toEqual([1]);
      expect(epochs).toEqual([1]);
      expect(seen.at(-1)).toEqual([2, 2]);
      expect(seen).toHaveLength(8 + 3);
      model.dispose();
    });

    it('keeps the event loop running during training', async () => {
      const model = buildModel(TINY);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      await trainModel({ model, train, validation, epochs: 1, batchSize: 8, seed: 1 });
      clearInterval(timer);
      expect(ticks).toBeGreaterThan(2);
      model.dispose();
    });

    it('throws DivergedError on a non-finite loss', async () => {
      const model = buildModel(TINY);
      // Poison the output layer: the very first batch has a NaN loss.
      const weights = model.getWeights();
      const poisoned = weights.map((w, i) => (i === weights.length - 2 ? tf.fill(w.shape, Number.NaN) : w.clone()));
      model.setWeights(poisoned);
      tf.dispose(poisoned);
      const err = await trainModel({ model, train, validation, epochs: 1, batchSize: 16, seed: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DivergedError);
      expect(err).toMatchObject({ code: 'DIVERGED', epoch: 1, batch: 0 });
      model.dispose();
    });
  });
}

describe('trainModel (wasm only)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('throws DivergedError with an absurd SGD learning rate', async () => {
    const model = buildModel({ ...TINY, optimizer: 'sgd', learningRate: 1e38 });
    const err = await trainModel({ model, train, validation, epochs: 5, batchSize: 16, seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergedError);
    expect((err as DivergedError).message).toMatch(/learning_rate/);
    model.dispose();
  });

  it('resumes from model + optimizer state to the same weights as an uninterrupted run', async () => {
    const params = { ...TINY, dropout: 0.2, recurrentDropout: 0.1, learningRate: 0.01 };
    const full = buildModel(params);
    const fullRun = await trainModel({ model: full, train, validation, epochs: 2, batchSize: 16, seed: 5 });

    const first = buildModel(params);
    await trainModel({ model: first, train, validation, epochs: 1, batchSize: 16, seed: 5 });
    const files = await serializeModel(first);
    const state = await getOptimizerState(first);
    expect(state.names[0]).toBe('iter');
    expect(state.names).toHaveLength(1 + 2 * first.getWeights().length);
    first.dispose();

    const resumed = await deserializeModel({ modelJson: JSON.parse(JSON.stringify(files.modelJson)) as Record<string, unknown>, weights: files.weights.slice() });
    await setOptimizerState(resumed, state);
    const restored = await getOptimizerState(resumed);
    expect(restored.names).toEqual(state.names);
    expect(Array.from(restored.weights)).toEqual(Array.from(state.weights));
    const rest = await trainModel({ model: resumed, train, validation, epochs: 2, startEpoch: 1, batchSize: 16, seed: 5 });
    expect(rest.history.map((h) => h.epoch)).toEqual([2]);
    expect(rest.history[0]!.loss).toBeCloseTo(fullRun.history[1]!.loss, 5);

    const a = weightsOf(full);
    const b = weightsOf(resumed);
    expect(b.length).toBe(a.length);
    let maxDiff = 0;
    a.forEach((w, i) => w.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - (b[i]![j] as number))))));
    expect(maxDiff).toBeLessThan(1e-5);
    full.dispose();
    resumed.dispose();
  });

  it('predictProbabilities returns [n, numClasses] rows that sum to 1', async () => {
    const model = buildModel({ ...TINY, numClasses: 4 });
    const probs = await predictProbabilities(model, validation.x.subarray(0, 10 * validation.maxLen), 10, validation.maxLen, 3);
    expect(probs).toHaveLength(40);
    for (let i = 0; i < 10; i++) expect(probs.subarray(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    model.dispose();
  });

  it('rejects data that does not fit the model', async () => {
    const model = buildModel(TINY);
    const bad = { ...train, maxLen: 5, x: train.x.subarray(0, train.n * 5) };
    await expect(trainModel({ model, train: bad, validation, epochs: 1, batchSize: 8, seed: 1 })).rejects.toThrow(ModelError);
    await expect(trainModel({ model, train, validation, epochs: 1, batchSize: 0, seed: 1 })).rejects.toThrow(/batchSize/);
    model.dispose();
  });
});
