import * as tf from '@tensorflow/tfjs';
import type { Logger } from '@sweepq/runtime';
import { DivergedError, ModelError } from './errors.js';
import { mixSeed, seededPermutation } from './random.js';

/** Metrics of one finished epoch (Keras `History` names). */
export interface EpochLog {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's samples (the loss of each batch before its update, as Keras reports). */
  loss: number;
  /** Mean training accuracy over the epoch's samples. */
  accuracy: number;
  /** Validation loss after the epoch. */
  val_loss: number;
  /** Validation accuracy after the epoch. */
  val_accuracy: number;
  /** Wall-clock seconds of the epoch, validation included. */
  seconds: number;
  /** Training samples per second (training batches only, validation excluded). */
  samplesPerSec: number;
}

/** Encoded examples: `x` is row-major `[n, maxLen]` token ids, `y` the labels `0..k-1`. */
export interface TrainData {
  x: Int32Array;
  y: Int32Array;
  n: number;
  maxLen: number;
}

/** Progress of one training batch. */
export interface BatchInfo {
  /** 1-based epoch. */
  epoch: number;
  /** 0-based batch index within the epoch. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Loss of this batch. */
  loss: number;
}

/** Options for {@link trainModel}. */
export interface TrainOptions {
  /** A compiled model (from `buildModel`, or `deserializeModel` of a model saved with its training config). */
  model: tf.LayersModel;
  train: TrainData;
  validation: TrainData;
  /** Total number of epochs, counting those already done (`startEpoch`). */
  epochs: number;
  batchSize: number;
  /** Seeds the per-epoch shuffle and the dropout masks; epoch k's batches depend only on (seed, k). */
  seed: number;
  /** Epochs already completed (0-based count), for resuming from a checkpoint; default 0. */
  startEpoch?: number;
  /** Checked between batches; when aborted, training returns `{ aborted: true }` without finishing the epoch. */
  signal?: AbortSignal;
  /** Awaited after each completed epoch (write metrics and checkpoints here). */
  onEpochEnd?: (log: EpochLog) => Promise<void> | void;
  /** Awaited after each batch. */
  onBatchEnd?: (info: BatchInfo) => Promise<void> | void;
  /** Logger for per-epoch debug lines; default: none. */
  logger?: Logger;
}

/** Result of {@link trainModel}. */
export interface TrainResult {
  /** Logs of the epochs completed by this call (not those before `startEpoch`). */
  history: EpochLog[];
  /** True when the signal stopped training before `epochs` were done; the current epoch is then incomplete. */
  aborted: boolean;
}

/** Default batch size of {@link evaluate} and {@link predictProbabilities}. */
export const DEFAULT_EVAL_BATCH_SIZE = 128;
/** Clipping of probabilities in the loss, as tfjs-layers and Keras do (`epsilon()`). */
const EPSILON = 1e-7;

const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

function checkData(name: string, d: TrainData, maxLen?: number): void {
  if (!Number.isInteger(d.n) || d.n < 0 || !Number.isInteger(d.maxLen) || d.maxLen < 1) {
    throw new ModelError('INVALID_DATA', `${name}: expected integer n >= 0 and maxLen >= 1, got n=${d.n}, maxLen=${d.maxLen}`);
  }
  if (d.x.length !== d.n * d.maxLen) {
    throw new ModelError('INVALID_DATA', `${name}.x: expected ${d.n}x${d.maxLen}=${d.n * d.maxLen} ids, got ${d.x.length}`);
  }
  if (d.y.length !== d.n) throw new ModelError('INVALID_DATA', `${name}.y: expected ${d.n} labels, got ${d.y.length}`);
  if (maxLen != null && d.maxLen !== maxLen) {
    throw new ModelError('INVALID_DATA', `${name}.maxLen: the model expects sequences of ${maxLen}, got ${d.maxLen}`);
  }
}

function modelMaxLen(model: tf.LayersModel): number | undefined {
  const shape = model.inputs[0]?.shape;
  const len = shape?.[1];
  return typeof len === 'number' ? len : undefined;
}

function gatherRows(d: TrainData, order: ArrayLike<number>, start: number, count: number): { xb: Int32Array; yb: Float32Array } {
  const xb = new Int32Array(count * d.maxLen);
  const yb = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const row = order[start + i] as number;
    xb.set(d.x.subarray(row * d.maxLen, (row + 1) * d.maxLen), i * d.maxLen);
    yb[i] = d.y[row] as number;
  }
  return { xb, yb };
}

type DropoutFunc = (x: tf.Tensor, rate: number) => tf.Tensor;
interface DropoutLayerLike {
  seed?: number;
}
interface RnnLayerLike {
  cell?: { dropoutFunc?: DropoutFunc };
}

/**
 * Make every dropout mask a function of (seed, epoch, batch, call index) instead of `Math.random`, so a trial is
 * reproducible and a resumed epoch sees the same masks. Uses two hooks of the stock layers: the `seed` field of
 * `Dropout` and the `dropoutFunc` of RNN cells; both are restored afterwards (neither appears in the saved
 * configuration then).
 */
function seedDropout(model: tf.LayersModel): { setBatch(seed: number): void; restore(): void } {
  let batchSeed = 1;
  let calls = 0;
  const nextSeed = (): number => mixSeed(batchSeed, ++calls) || 1;
  const restores: Array<() => void> = [];
  const dropoutFunc: DropoutFunc = (x, rate) => tf.dropout(x, rate, undefined, nextSeed());
  const dropoutLayers: DropoutLayerLike[] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'Dropout') {
      const d = layer as unknown as DropoutLayerLike;
      const original = d.seed;
      dropoutLayers.push(d);
      restores.push(() => {
        d.seed = original;
      });
    } else if (className === 'LSTM' || className === 'GRU' || className === 'SimpleRNN') {
      const cell = (layer as unknown as RnnLayerLike).cell;
      if (cell != null) {
        const original = cell.dropoutFunc;
        cell.dropoutFunc = dropoutFunc;
        restores.push(() => {
          cell.dropoutFunc = original;
        });
      }
    }
  }
  return {
    setBatch(seed: number) {
      batchSeed = seed;
      calls = 0;
      // The stock Dropout layer reuses its seed on every call; a fresh one per batch gives fresh masks.
      for (const d of dropoutLayers) d.seed = nextSeed();
    },
    restore() {
      for (const r of restores) r();
    },
  };
}

/**
 * Train with an own loop (not `model.fit`): per epoch a shuffle seeded by (seed, epoch), so epoch k has the same
 * batches after a resume; per batch `model.trainOnBatch` with tensors created and disposed in the step; a yield to
 * the event loop after every batch (lock renewal, signals); `signal` checked between batches. Validation runs in
 * batches after each epoch.
 *
 * @returns the logs of the epochs completed here, and whether the signal stopped training early.
 * @throws DivergedError when a batch loss (or the validation loss) is not finite.
 * @throws ModelError `INVALID_DATA` / `INVALID_OPTIONS` / `NOT_COMPILED` for bad inputs.
 */
export async function trainModel(o: TrainOptions): Promise<TrainResult> {
  const { model, train, validation, epochs, batchSize, seed, signal, logger } = o;
  const startEpoch = o.startEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 0) throw new ModelError('INVALID_OPTIONS', `epochs: expected an integer >= 0, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ModelError('INVALID_OPTIONS', `batchSize: expected an integer >= 1, got ${batchSize}`);
  }
  if (!Number.isInteger(startEpoch) || startEpoch < 0) {
    throw new ModelError('INVALID_OPTIONS', `startEpoch: expected an integer >= 0, got ${startEpoch}`);
  }
  if (!Number.isFinite(seed)) throw new ModelError('INVALID_OPTIONS', `seed: expected a finite number, got ${seed}`);
  if (model.optimizer == null) throw new ModelError('NOT_COMPILED', 'model is not compiled; build it with buildModel or load one saved with its training config');
  const maxLen = modelMaxLen(model);
  checkData('train', train, maxLen);
  checkData('validation', validation, maxLen);
  if (train.n === 0) throw new ModelError('INVALID_DATA', 'train: expected at least one example, got n=0');

  const history: EpochLog[] = [];
  const batches = Math.ceil(train.n / batchSize);
  const dropout = seedDropout(model);
  try {
    for (let e = startEpoch; e < epochs; e++) {
      const epoch = e + 1;
      const t0 = performance.now();
      const order = seededPermutation(train.n, mixSeed(seed, e, 0x5eed));
      let lossSum = 0;
      let accSum = 0;
      for (let b = 0; b < batches; b++) {
        if (signal?.aborted) {
          logger?.info({ epoch, batch: b, batches }, 'training aborted between batches');
          return { history, aborted: true };
        }
        const start = b * batchSize;
        const count = Math.min(batchSize, train.n - start);
        const { xb, yb } = gatherRows(train, order, start, count);
        dropout.setBatch(mixSeed(seed, e, b, 0xd20f));
        const xs = tf.tensor2d(xb, [count, train.maxLen], 'int32');
        const ys = tf.tensor2d(yb, [count, 1], 'float32');
        let out: number | number[];
        try {
          out = await model.trainOnBatch(xs, ys);
        } finally {
          xs.dispose();
          ys.dispose();
        }
        const loss = Array.isArray(out) ? (out[0] as number) : out;
        const acc = Array.isArray(out) ? (out[1] ?? Number.NaN) : Number.NaN;
        if (!Number.isFinite(loss)) throw new DivergedError(epoch, b, loss);
        if (!outputWeightsFinite(model)) throw new DivergedError(epoch, b, loss, 'weights');
        lossSum += loss * count;
        accSum += acc * count;
        if (o.onBatchEnd) await o.onBatchEnd({ epoch, batch: b, batches, loss });
        await yieldToEventLoop();
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      const val = await evaluate(model, validation);
      if (validation.n > 0 && !Number.isFinite(val.loss)) throw new DivergedError(epoch, batches, val.loss, 'validation loss');
      const log: EpochLog = {
        epoch,
        loss: lossSum / train.n,
        accuracy: accSum / train.n,
        val_loss: val.loss,
        val_accuracy: val.accuracy,
        seconds: (performance.now() - t0) / 1000,
        samplesPerSec: train.n / trainSeconds,
      };
      history.push(log);
      logger?.debug({ ...log }, 'epoch done');
      if (o.onEpochEnd) await o.onEpochEnd(log);
    }
  } finally {
    dropout.restore();
  }
  return { history, aborted: false };
}

/**
 * Whether the last layer's weights are finite. Any NaN/Inf upstream reaches them through the gradient within a step,
 * and they are small, so this is a cheap per-batch divergence check; the loss alone is not enough because the
 * wasm backend's clip turns NaN probabilities into finite losses.
 */
function outputWeightsFinite(model: tf.LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  if (last == null || last.trainableWeights.length === 0) return true;
  const total = tf.tidy(() => tf.addN(last.trainableWeights.map((w) => tf.sum(tf.abs(w.read())))));
  try {
    return Number.isFinite(total.dataSync()[0]);
  } finally {
    total.dispose();
  }
}

/** Run `model.predict` over `n` rows in batches, handing each batch's probabilities to `visit`. */
async function predictBatches(
  model: tf.LayersModel,
  x: Int32Array,
  n: number,
  maxLen: number,
  batchSize: number,
  visit: (probs: Float32Array, start: number, count: number, k: number) => void,
): Promise<void> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ModelError('INVALID_OPTIONS', `batchSize: expected an integer >= 1, got ${batchSize}`);
  }
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const probsT = tf.tidy(() => {
      const xs = tf.tensor2d(x.subarray(start * maxLen, (start + count) * maxLen), [count, maxLen], 'int32');
      return model.predict(xs, { batchSize: count }) as tf.Tensor;
    });
    try {
      const k = probsT.shape[probsT.shape.length - 1] ?? 1;
      visit((await probsT.data()) as Float32Array, start, count, k);
    } finally {
      probsT.dispose();
    }
    await yieldToEventLoop();
  }
}

/**
 * Loss (sparse categorical cross-entropy, computed like tfjs-layers: probabilities renormalised and clipped to
 * `[1e-7, 1 - 1e-7]`) and accuracy of `model` on `data`, in batches of `batchSize` (default
 * {@link DEFAULT_EVAL_BATCH_SIZE}) with inference behaviour (no dropout). Empty data gives NaN for both.
 */
export async function evaluate(
  model: tf.LayersModel,
  data: TrainData,
  batchSize: number = DEFAULT_EVAL_BATCH_SIZE,
): Promise<{ loss: number; accuracy: number }> {
  checkData('data', data, modelMaxLen(model));
  let lossSum = 0;
  let correct = 0;
  await predictBatches(model, data.x, data.n, data.maxLen, batchSize, (probs, start, count, k) => {
    for (let i = 0; i < count; i++) {
      const label = data.y[start + i] as number;
      let total = 0;
      let best = 0;
      for (let c = 0; c < k; c++) {
        const p = probs[i * k + c] as number;
        total += p;
        if (p > (probs[i * k + best] as number)) best = c;
      }
      const py = label >= 0 && label < k ? (probs[i * k + label] as number) / total : 0;
      lossSum += -Math.log(Math.min(Math.max(py, EPSILON), 1 - EPSILON));
      if (best === label) correct++;
    }
  });
  return { loss: lossSum / data.n, accuracy: correct / data.n };
}

/**
 * Class probabilities for `n` rows of `maxLen` ids, row-major `[n, numClasses]`, predicted in batches of
 * `batchSize` (default {@link DEFAULT_EVAL_BATCH_SIZE}).
 */
export async function predictProbabilities(
  model: tf.LayersModel,
  x: Int32Array,
  n: number,
  maxLen: number,
  batchSize: number = DEFAULT_EVAL_BATCH_SIZE,
): Promise<Float32Array> {
  checkData('x', { x, y: new Int32Array(n), n, maxLen }, modelMaxLen(model));
  const lastDim = model.outputs[0]?.shape[1];
  let out = new Float32Array(typeof lastDim === 'number' ? n * lastDim : 0);
  await predictBatches(model, x, n, maxLen, batchSize, (probs, start, count, k) => {
    if (out.length !== n * k) out = new Float32Array(n * k);
    out.set(probs.subarray(0, count * k), start * k);
  });
  return out;
}
