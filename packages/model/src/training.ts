import * as tf from '@tensorflow/tfjs';
import type { Logger } from '@sweepq/runtime';
import type { EpochLog } from '@sweepq/sweep-config';
import { DivergedError, ModelError } from './errors.js';
import { mixSeed, seededPermutation } from '@sweepq/runtime/random';

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
  /** Columns (time steps) the batch was fed with: the data's `maxLen`, or less when trimmed (see {@link trainModel}). */
  seqLen: number;
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
  // A model without a fixed input length takes any maxLen; the shape checks above still tie x, y, n and maxLen.
  if (maxLen != null && d.maxLen !== maxLen) {
    throw new ModelError('INVALID_DATA', `${name}.maxLen: the model expects sequences of ${maxLen}, got ${d.maxLen}`);
  }
}

function modelMaxLen(model: tf.LayersModel): number | undefined {
  const shape = model.inputs[0]?.shape;
  const len = shape?.[1];
  return typeof len === 'number' ? len : undefined;
}

/**
 * Whether batches of `model` may be cut to their longest row: its first layer is an `Embedding` with
 * `maskZero: true` and its input length is not fixed. Such a model ignores leading padding exactly: the recurrent
 * layers start from a zero state and carry it unchanged through masked steps (a backward direction carries its
 * state through them at the end), so dropping columns that are 0 in every row of a batch changes no output.
 */
function masksPadding(model: tf.LayersModel): boolean {
  if (modelMaxLen(model) !== undefined) return false;
  const first = model.layers.find((l) => l.getClassName() !== 'InputLayer');
  return first?.getClassName() === 'Embedding' && first.getConfig().maskZero === true;
}

/** Per row, the columns it needs once its leading padding (id 0) is cut: `maxLen` minus its leading zeros. */
function rowLengths(x: Int32Array, n: number, maxLen: number): Int32Array {
  const lengths = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const base = r * maxLen;
    let t = 0;
    while (t < maxLen && x[base + t] === 0) t++;
    lengths[r] = maxLen - t;
  }
  return lengths;
}

/** `rows` sorted by length, shortest first; stable (`Array.prototype.sort` is), so ties keep their order. */
function sortByLength(rows: ArrayLike<number>, lengths: Int32Array): number[] {
  return Array.from(rows).sort((a, b) => (lengths[a] as number) - (lengths[b] as number));
}

/**
 * Fewest columns a trimmed batch is fed. tfjs-layers cannot train a recurrent layer on a single time step (the
 * gradient of its per-step `unstack` fails: "Argument tensors passed to stack must be a `Tensor[]`", tensorflow/tfjs
 * issues 1529 and 3550), so batches of rows with at most one token keep (or get) a leading padding column, which a
 * masking model ignores like any other.
 */
const MIN_SEQ_LEN = 2;

/** Columns a trimmed batch of `rows` is fed: their longest length, at least {@link MIN_SEQ_LEN}. */
function longest(rows: ArrayLike<number>, lengths: Int32Array): number {
  let len = MIN_SEQ_LEN;
  for (let i = 0; i < rows.length; i++) len = Math.max(len, lengths[rows[i] as number] as number);
  return len;
}

/** One training batch: which rows, and how many trailing columns of each the model is fed. */
export interface EpochBatch {
  rows: Uint32Array;
  seqLen: number;
}

/**
 * Rows per bucketing chunk, in batches. Bigger chunks give batches of more uniform length (less padding fed);
 * smaller ones keep more of the shuffle's randomness in which rows share a batch (a row's batch-mates come from a
 * fresh random chunk each epoch; sorting a whole epoch would pair mostly the same rows every time). On SMS-like
 * lengths (mean 19.7, median 15, tail to 100; `bench/mask-bench.ts` prints this) the columns fed per sample are 70.8
 * with trimmed but unbucketed batches, 25.8 with chunks of 10 batches, 21.9 with 25, 20.7 with 50, 20.2 with 100
 * and 19.8 with the whole epoch sorted: 50 is within 5% of the least work. (torchtext's `BucketIterator` pools 100.)
 * Datasets of fewer rows than one chunk are sorted whole each epoch; ties keep the epoch's shuffle.
 */
export const BUCKET_CHUNK_BATCHES = 50;

/** Options of {@link epochBatches}. */
export interface EpochBatchesOptions {
  /** Rows in the data. */
  n: number;
  batchSize: number;
  /** The training seed. */
  seed: number;
  /** 0-based epoch. */
  epoch: number;
  /** Columns of the data. */
  maxLen: number;
  /** Per row, its length without leading padding; given for a model that masks padding (then batches are bucketed). */
  lengths?: Int32Array;
  /** Batches' worth of rows per bucketing chunk; default {@link BUCKET_CHUNK_BATCHES}. */
  chunkBatches?: number;
}

/**
 * The batches of 0-based epoch `epoch`, a function of (`seed`, `epoch`) only, so a resumed run sees the same
 * batches. Every row is in exactly one batch, and there are `ceil(n / batchSize)` of them.
 *
 * Without `lengths`: the seeded permutation cut into consecutive batches, each fed whole (`seqLen` = `maxLen`).
 * With `lengths` (rows' lengths without leading padding, for a model that masks it): bucketed like torchtext's
 * `BucketIterator` — the same permutation is taken in chunks of `chunkBatches` batches' worth of rows, each chunk
 * sorted by length (stable: ties keep the permutation's order) and cut into batches, then the batch order shuffled
 * with a second seeded permutation; each batch is fed only its longest row's trailing columns (at least
 * {@link MIN_SEQ_LEN}).
 */
export function epochBatches(o: EpochBatchesOptions): EpochBatch[] {
  const { n, batchSize, seed, epoch, maxLen, lengths, chunkBatches = BUCKET_CHUNK_BATCHES } = o;
  const order = seededPermutation(n, mixSeed(seed, epoch, 0x5eed));
  const batches: EpochBatch[] = [];
  if (lengths == null) {
    for (let start = 0; start < n; start += batchSize) batches.push({ rows: order.subarray(start, Math.min(n, start + batchSize)), seqLen: maxLen });
    return batches;
  }
  const chunkRows = chunkBatches * batchSize;
  for (let c = 0; c < n; c += chunkRows) {
    const sorted = Uint32Array.from(sortByLength(order.subarray(c, Math.min(n, c + chunkRows)), lengths));
    for (let start = 0; start < sorted.length; start += batchSize) {
      const rows = sorted.subarray(start, Math.min(sorted.length, start + batchSize));
      batches.push({ rows, seqLen: longest(rows, lengths) });
    }
  }
  const shuffle = seededPermutation(batches.length, mixSeed(seed, epoch, 0xb0c7));
  return Array.from(shuffle, (i) => batches[i] as EpochBatch);
}

/**
 * `x`'s `rows` as one `[rows, seqLen]` array, each row's last `seqLen` columns (pre-padding sits in front); when
 * `seqLen > maxLen` (see {@link MIN_SEQ_LEN}) the extra leading columns are padding.
 */
function gatherColumns(x: Int32Array, maxLen: number, rows: ArrayLike<number>, seqLen: number): Int32Array {
  const out = new Int32Array(rows.length * seqLen);
  const width = Math.min(seqLen, maxLen);
  for (let i = 0; i < rows.length; i++) {
    const end = ((rows[i] as number) + 1) * maxLen;
    out.set(x.subarray(end - width, end), (i + 1) * seqLen - width);
  }
  return out;
}

type DropoutFunc = (x: tf.Tensor, rate: number) => tf.Tensor;
interface DropoutLayerLike {
  seed?: number;
}
interface RnnLayerLike {
  cell?: { dropoutFunc?: DropoutFunc };
}
interface BidirectionalLike {
  forwardLayer?: RnnLayerLike;
  backwardLayer?: RnnLayerLike;
}

/** The cells of `layer`'s recurrent layers: its own, or both directions' of a `Bidirectional` wrapper. */
function recurrentCells(layer: tf.layers.Layer): Array<{ dropoutFunc?: DropoutFunc }> {
  const className = layer.getClassName();
  const rnns: Array<RnnLayerLike | undefined> =
    className === 'Bidirectional'
      ? [(layer as unknown as BidirectionalLike).forwardLayer, (layer as unknown as BidirectionalLike).backwardLayer]
      : className === 'LSTM' || className === 'GRU' || className === 'SimpleRNN'
        ? [layer as unknown as RnnLayerLike]
        : [];
  return rnns.flatMap((r) => (r?.cell != null ? [r.cell] : []));
}

/**
 * Make every dropout mask a function of (seed, epoch, batch, call index) instead of `Math.random`, so a trial is
 * reproducible and a resumed epoch sees the same masks. Uses two hooks of the stock layers: the `seed` field of
 * `Dropout` and the `dropoutFunc` of RNN cells (also inside `Bidirectional`); both are restored afterwards (neither
 * appears in the saved configuration then).
 */
function seedDropout(model: tf.LayersModel): { setBatch(seed: number): void; restore(): void } {
  let batchSeed = 1;
  let calls = 0;
  const nextSeed = (): number => mixSeed(batchSeed, ++calls) || 1;
  const restores: Array<() => void> = [];
  const dropoutFunc: DropoutFunc = (x, rate) => tf.dropout(x, rate, undefined, nextSeed());
  const dropoutLayers: DropoutLayerLike[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'Dropout') {
      const d = layer as unknown as DropoutLayerLike;
      const original = d.seed;
      dropoutLayers.push(d);
      restores.push(() => {
        d.seed = original;
      });
    }
    for (const cell of recurrentCells(layer)) {
      const original = cell.dropoutFunc;
      cell.dropoutFunc = dropoutFunc;
      restores.push(() => {
        cell.dropoutFunc = original;
      });
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
 * A model that masks padding (first layer an `Embedding` with `maskZero: true`, no fixed input length) trains on
 * length-bucketed batches, each cut to its longest row ({@link epochBatches}); its outputs are the same as on the
 * uncut rows, at a fraction of the work on short texts. Data must then be pre-padded (Keras' default) to gain:
 * only leading columns that are padding in every row of a batch are cut. Other models train on the plain
 * seeded permutation, fed whole.
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

  const lengths = masksPadding(model) ? rowLengths(train.x, train.n, train.maxLen) : undefined;

  const history: EpochLog[] = [];
  const batches = Math.ceil(train.n / batchSize);
  const dropout = seedDropout(model);
  try {
    for (let e = startEpoch; e < epochs; e++) {
      const epoch = e + 1;
      const t0 = performance.now();
      const plan = epochBatches({ n: train.n, batchSize, seed, epoch: e, maxLen: train.maxLen, lengths });
      let lossSum = 0;
      let accSum = 0;
      let seqLenSum = 0;
      for (let b = 0; b < batches; b++) {
        if (signal?.aborted) {
          logger?.info({ epoch, batch: b, batches }, 'training aborted between batches');
          return { history, aborted: true };
        }
        const { rows, seqLen } = plan[b] as EpochBatch;
        const count = rows.length;
        dropout.setBatch(mixSeed(seed, e, b, 0xd20f));
        const xs = tf.tensor2d(gatherColumns(train.x, train.maxLen, rows, seqLen), [count, seqLen], 'int32');
        const ys = tf.tensor2d(Float32Array.from(rows, (r) => train.y[r] as number), [count, 1], 'float32');
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
        seqLenSum += seqLen * count;
        if (o.onBatchEnd) await o.onBatchEnd({ epoch, batch: b, batches, loss, seqLen });
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
      if (lengths != null) log.meanSeqLen = seqLenSum / train.n;
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

/**
 * Run `model.predict` over `n` rows in batches, handing each batch's probabilities to `visit` with `rowOf(i)`, the
 * input row of its `i`-th row. A model that masks padding ({@link masksPadding}) gets its rows grouped by length
 * (shortest first) and each batch cut to its longest row, which saves most of the work on short texts; any other
 * model gets consecutive rows, fed whole.
 */
async function predictBatches(
  model: tf.LayersModel,
  x: Int32Array,
  n: number,
  maxLen: number,
  batchSize: number,
  visit: (probs: Float32Array, count: number, rowOf: (i: number) => number, k: number) => void,
): Promise<void> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ModelError('INVALID_OPTIONS', `batchSize: expected an integer >= 1, got ${batchSize}`);
  }
  const lengths = masksPadding(model) ? rowLengths(x, n, maxLen) : undefined;
  const order = lengths && Uint32Array.from(sortByLength(Array.from({ length: n }, (_, i) => i), lengths));
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const rows = order?.subarray(start, start + count);
    const probsT = tf.tidy(() => {
      let xs: tf.Tensor2D;
      if (rows == null || lengths == null) {
        xs = tf.tensor2d(x.subarray(start * maxLen, (start + count) * maxLen), [count, maxLen], 'int32');
      } else {
        const seqLen = longest(rows, lengths);
        xs = tf.tensor2d(gatherColumns(x, maxLen, rows, seqLen), [count, seqLen], 'int32');
      }
      return model.predict(xs, { batchSize: count }) as tf.Tensor;
    });
    try {
      const k = probsT.shape[probsT.shape.length - 1] ?? 1;
      const rowOf = rows == null ? (i: number) => start + i : (i: number) => rows[i] as number;
      visit((await probsT.data()) as Float32Array, count, rowOf, k);
    } finally {
      probsT.dispose();
    }
    await yieldToEventLoop();
  }
}

/**
 * Loss (sparse categorical cross-entropy, computed like tfjs-layers: probabilities renormalised and clipped to
 * `[1e-7, 1 - 1e-7]`) and accuracy of `model` on `data`, in batches of `batchSize` (default
 * {@link DEFAULT_EVAL_BATCH_SIZE}) with inference behaviour (no dropout). Empty data gives NaN for both. A model that
 * masks padding is evaluated on rows grouped by length, each batch cut to its longest row (same figures, less work).
 */
export async function evaluate(
  model: tf.LayersModel,
  data: TrainData,
  batchSize: number = DEFAULT_EVAL_BATCH_SIZE,
): Promise<{ loss: number; accuracy: number }> {
  checkData('data', data, modelMaxLen(model));
  let lossSum = 0;
  let correct = 0;
  await predictBatches(model, data.x, data.n, data.maxLen, batchSize, (probs, count, rowOf, k) => {
    for (let i = 0; i < count; i++) {
      const label = data.y[rowOf(i)] as number;
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
 * Class probabilities for `n` rows of `maxLen` ids, row-major `[n, numClasses]` in input order, predicted in batches
 * of `batchSize` (default {@link DEFAULT_EVAL_BATCH_SIZE}; grouped by length and trimmed for a model that masks
 * padding, as in {@link evaluate}).
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
  await predictBatches(model, x, n, maxLen, batchSize, (probs, count, rowOf, k) => {
    if (out.length !== n * k) out = new Float32Array(n * k);
    for (let i = 0; i < count; i++) out.set(probs.subarray(i * k, (i + 1) * k), rowOf(i) * k);
  });
  return out;
}
