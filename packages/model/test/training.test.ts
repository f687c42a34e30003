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
import { mixSeed, seededPermutation } from '@sweepq/runtime/random';
import { epochBatches, type EpochBatch } from '../src/training.js';
import { deserializeModelWith } from '../src/testing.js';
import { TINY, separable, variableLength } from './helpers.js';

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

/** Leading padding a row has: the columns a trimmed batch may drop. */
function lengthsOf(d: { x: Int32Array; n: number; maxLen: number }): Int32Array {
  return Int32Array.from({ length: d.n }, (_, r) => {
    const row = d.x.subarray(r * d.maxLen, (r + 1) * d.maxLen);
    const first = row.findIndex((v) => v !== 0);
    return first < 0 ? 0 : d.maxLen - first;
  });
}

type MaskedKind = 'lstm' | 'gru' | 'bilstm';

/**
 * A stock tfjs model that masks padding: `Embedding(maskZero, no input length) -> LSTM | GRU | Bidirectional(LSTM) ->
 * Dense softmax`, seeded initialisers, compiled as buildModel compiles. `inputLength` makes the same model with a
 * fixed input length (still masking, so never trimmed: the untrimmed reference).
 */
function maskedModel(kind: MaskedKind, o: { dropout?: number; recurrentDropout?: number; inputLength?: number } = {}): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.embedding({
      inputDim: 50,
      outputDim: 8,
      maskZero: true,
      ...(o.inputLength != null ? { inputLength: o.inputLength } : {}),
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 1 }),
    }),
  );
  const args = {
    units: 6,
    dropout: o.dropout ?? 0,
    recurrentDropout: o.recurrentDropout ?? 0,
    recurrentActivation: 'sigmoid',
    kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    recurrentInitializer: tf.initializers.orthogonal({ gain: 1, seed: 3 }),
  } as const;
  const rnn = kind === 'gru' ? tf.layers.gru(args) : tf.layers.lstm(args);
  model.add(kind === 'bilstm' ? tf.layers.bidirectional({ layer: rnn, mergeMode: 'concat' }) : rnn);
  model.add(tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
  model.compile({ optimizer: tf.train.adam(0.02), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

describe('epochBatches', () => {
  const data = variableLength(300, 12, 50, 7);
  const lengths = lengthsOf(data);
  const plan = (epoch: number, seed = 3): EpochBatch[] => epochBatches({ n: data.n, batchSize: 8, seed, epoch, maxLen: data.maxLen, lengths, chunkBatches: 4 });

  it('without lengths: the seeded permutation in consecutive batches, fed whole', () => {
    const order = seededPermutation(data.n, mixSeed(3, 1, 0x5eed));
    const batches = epochBatches({ n: data.n, batchSize: 8, seed: 3, epoch: 1, maxLen: data.maxLen });
    expect(batches).toHaveLength(Math.ceil(data.n / 8));
    expect(batches.flatMap((b) => Array.from(b.rows))).toEqual(Array.from(order));
    expect(batches.every((b) => b.seqLen === data.maxLen)).toBe(true);
  });

  it('covers every row once per epoch, in batches of batchSize, each cut to its longest row', () => {
    const batches = plan(0);
    expect(batches).toHaveLength(Math.ceil(data.n / 8));
    // Only the last chunk (300 = 9 x 32 + 12 rows) can end in a short batch.
    expect(batches.filter((b) => b.rows.length !== 8).map((b) => b.rows.length)).toEqual([4]);
    const seen = batches.flatMap((b) => Array.from(b.rows)).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: data.n }, (_, i) => i));
    for (const b of batches) {
      // At least 2 columns: tfjs cannot train a recurrent layer on one step.
      expect(b.seqLen).toBe(Math.max(2, ...Array.from(b.rows, (r) => lengths[r] as number)));
    }
    // The batches are really cut: far fewer columns than maxLen.
    const fed = batches.reduce((acc, b) => acc + b.seqLen * b.rows.length, 0);
    expect(fed / data.n).toBeLessThan(0.7 * data.maxLen);
  });

  it('sorts each chunk of the permutation by length, stably, and shuffles the batch order', () => {
    const order = seededPermutation(data.n, mixSeed(3, 0, 0x5eed));
    const position = new Map(Array.from(order, (row, i) => [row, i]));
    const chunkOf = (row: number): number => Math.floor((position.get(row) as number) / 32);
    const batches = plan(0);
    for (const b of batches) {
      const rows = Array.from(b.rows);
      expect(new Set(rows.map(chunkOf)).size).toBe(1);
      const byLengthThenPosition = [...rows].sort((p, q) => (lengths[p] as number) - (lengths[q] as number) || (position.get(p) as number) - (position.get(q) as number));
      expect(rows).toEqual(byLengthThenPosition);
    }
    // The chunks' batches are interleaved, not in chunk order.
    const chunks = batches.map((b) => chunkOf(b.rows[0] as number));
    expect(chunks).not.toEqual([...chunks].sort((a, b) => a - b));
  });

  it('is a function of (seed, epoch) only', () => {
    const rows = (bs: EpochBatch[]): number[][] => bs.map((b) => Array.from(b.rows));
    expect(rows(plan(2))).toEqual(rows(plan(2)));
    expect(rows(plan(2))).not.toEqual(rows(plan(3)));
    expect(rows(plan(2, 4))).not.toEqual(rows(plan(2)));
  });
});

describe('trainModel with a model that masks padding (wasm)', () => {
  const maxLen = 12;
  const mtrain = variableLength(96, maxLen, 50, 11);
  const mval = variableLength(40, maxLen, 50, 12);

  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('trains on the bucketed batches, each fed only its longest row, without leaking tensors', async () => {
    const model = maskedModel('lstm', { dropout: 0.2, recurrentDropout: 0.1 });
    const fed: Array<[number, number]> = [];
    const trainOnBatch = model.trainOnBatch.bind(model);
    model.trainOnBatch = (x, y) => {
      const shape = (x as tf.Tensor).shape;
      fed.push([shape[0] as number, shape[1] as number]);
      return trainOnBatch(x, y);
    };
    const infos: Array<{ epoch: number; seqLen: number }> = [];
    const tensors: number[] = [];
    const { history } = await trainModel({
      model,
      train: mtrain,
      validation: mval,
      epochs: 2,
      batchSize: 8,
      seed: 5,
      onBatchEnd: ({ epoch, batch, seqLen }) => {
        infos.push({ epoch, seqLen });
        if (epoch > 1 || batch > 0) tensors.push(tf.memory().numTensors);
      },
    });
    const lengths = lengthsOf(mtrain);
    const expected = [0, 1].flatMap((e) => epochBatches({ n: mtrain.n, batchSize: 8, seed: 5, epoch: e, maxLen, lengths }));
    expect(fed).toEqual(expected.map((b) => [b.rows.length, b.seqLen]));
    expect(infos.map((i) => i.seqLen)).toEqual(expected.map((b) => b.seqLen));
    expect(new Set(tensors).size).toBe(1);
    for (const [e, log] of history.entries()) {
      const own = expected.slice(e * 12, (e + 1) * 12);
      expect(log.meanSeqLen).toBeCloseTo(own.reduce((acc, b) => acc + b.seqLen * b.rows.length, 0) / mtrain.n, 10);
      expect(log.meanSeqLen).toBeLessThan(maxLen);
    }
    model.dispose();
  });

  for (const kind of ['lstm', 'bilstm'] as const) {
    it(`${kind}: a run resumed at epoch 2 ends with the same weights as an uninterrupted one`, async () => {
      const opts = { dropout: 0.2, recurrentDropout: 0.1 };
      const full = maskedModel(kind, opts);
      const fullRun = await trainModel({ model: full, train: mtrain, validation: mval, epochs: 3, batchSize: 8, seed: 9 });

      const first = maskedModel(kind, opts);
      await trainModel({ model: first, train: mtrain, validation: mval, epochs: 2, batchSize: 8, seed: 9 });
      const files = await serializeModel(first);
      const state = await getOptimizerState(first);
      first.dispose();
      const resumed = await deserializeModelWith(files, { lstmImplementation: 'stock' });
      await setOptimizerState(resumed, state);
      const rest = await trainModel({ model: resumed, train: mtrain, validation: mval, epochs: 3, startEpoch: 2, batchSize: 8, seed: 9 });
      expect(rest.history.map((h) => h.epoch)).toEqual([3]);
      // The reloaded model still masks (its batches are trimmed) and trained on epoch 3's batches.
      expect(rest.history[0]!.meanSeqLen).toBe(fullRun.history[2]!.meanSeqLen);
      expect(rest.history[0]!.loss).toBeCloseTo(fullRun.history[2]!.loss, 6);
      const a = weightsOf(full);
      const b = weightsOf(resumed);
      expect(b.length).toBe(a.length);
      expect(Math.max(...a.map((w, i) => maxAbsDiff(w, b[i]!)))).toBeLessThan(1e-6);
      full.dispose();
      resumed.dispose();
    });
  }

  for (const kind of ['lstm', 'gru', 'bilstm'] as const) {
    it(`${kind}: trimmed, length-grouped predictions equal the untrimmed forward pass`, async () => {
      const model = maskedModel(kind);
      // Train a little so the weights are not the symmetric initial ones.
      await trainModel({ model, train: mtrain, validation: mval, epochs: 1, batchSize: 16, seed: 1 });
      const widths: number[] = [];
      const predict = model.predict.bind(model);
      const full = tf.tidy(() => (predict(tf.tensor2d(mval.x, [mval.n, maxLen], 'int32')) as tf.Tensor).dataSync());
      model.predict = (x, args) => {
        widths.push((x as tf.Tensor).shape[1] as number);
        return predict(x, args);
      };
      const trimmed = await predictProbabilities(model, mval.x, mval.n, maxLen, 7);
      expect(Math.min(...widths)).toBeLessThan(maxLen);
      expect(maxAbsDiff(trimmed, full)).toBeLessThan(1e-5);
      // Predictions differ between rows, so rows out of input order could not match.
      expect(new Set(Array.from(full, (v) => v.toFixed(4))).size).toBeGreaterThan(mval.n);
      model.dispose();
    });
  }

  it('trains and predicts rows of at most one token (fed with a leading padding column)', async () => {
    const short = variableLength(24, 1, 50, 3);
    const model = maskedModel('gru');
    const seqLens = new Set<number>();
    const { history } = await trainModel({ model, train: short, validation: short, epochs: 1, batchSize: 8, seed: 1, onBatchEnd: (b) => void seqLens.add(b.seqLen) });
    expect(seqLens).toEqual(new Set([2]));
    expect(Number.isFinite(history[0]!.loss)).toBe(true);
    const whole = tf.tidy(() => (model.predict(tf.tensor2d(short.x, [short.n, 1], 'int32')) as tf.Tensor).dataSync());
    expect(maxAbsDiff(await predictProbabilities(model, short.x, short.n, 1, 5), whole)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('evaluate gives the loss and accuracy of an untrimmed evaluation', async () => {
    const model = maskedModel('bilstm');
    await trainModel({ model, train: mtrain, validation: mval, epochs: 2, batchSize: 8, seed: 2 });
    const fixed = maskedModel('bilstm', { inputLength: maxLen });
    fixed.setWeights(model.getWeights());
    const trimmed = await evaluate(model, mval, 6);
    const whole = await evaluate(fixed, mval, 6);
    expect(trimmed.loss).toBeCloseTo(whole.loss, 6);
    expect(trimmed.accuracy).toBe(whole.accuracy);
    model.dispose();
    fixed.dispose();
  });

  it('does not trim a masking model with a fixed input length, nor an unmasked one without', async () => {
    const seqLens = async (model: tf.LayersModel): Promise<Set<number>> => {
      const seen = new Set<number>();
      const { history } = await trainModel({ model, train: mtrain, validation: mval, epochs: 1, batchSize: 8, seed: 1, onBatchEnd: (b) => void seen.add(b.seqLen) });
      expect(history[0]!.meanSeqLen).toBeUndefined();
      model.dispose();
      return seen;
    };
    expect(await seqLens(maskedModel('lstm', { inputLength: maxLen }))).toEqual(new Set([maxLen]));
    const unmasked = tf.sequential({ layers: [tf.layers.embedding({ inputDim: 50, outputDim: 4 }), tf.layers.lstm({ units: 4 }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
    unmasked.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    expect(await seqLens(unmasked)).toEqual(new Set([maxLen]));
  });

  it('an unmasked model trains on the plain seeded permutation, as before bucketing', async () => {
    const params = { ...TINY, seed: 8 };
    const model = buildModel(params);
    const losses: number[] = [];
    await trainModel({ model, train, validation, epochs: 2, batchSize: 16, seed: 4, onBatchEnd: ({ loss }) => void losses.push(loss) });
    // The loop trainModel ran before bucketing existed: whole rows, consecutive slices of the epoch's permutation.
    const reference = buildModel(params);
    const refLosses: number[] = [];
    for (let e = 0; e < 2; e++) {
      const order = seededPermutation(train.n, mixSeed(4, e, 0x5eed));
      for (let start = 0; start < train.n; start += 16) {
        const rows = Array.from(order.subarray(start, start + 16));
        const x = rows.flatMap((r) => Array.from(train.x.subarray(r * train.maxLen, (r + 1) * train.maxLen)));
        const xs = tf.tensor2d(x, [rows.length, train.maxLen], 'int32');
        const ys = tf.tensor2d(rows.map((r) => train.y[r] as number), [rows.length, 1]);
        const out = await reference.trainOnBatch(xs, ys);
        tf.dispose([xs, ys]);
        refLosses.push((out as number[])[0] as number);
      }
    }
    expect(losses).toEqual(refLosses);
    expect(weightsOf(model)).toEqual(weightsOf(reference));
    model.dispose();
    reference.dispose();
  });
});
