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

/**
 * Encoded examples in blocks that are loaded when needed (the shards of a prepared dataset): rows are numbered across
 * blocks in order, block `b` holding `blockRows[b]` of them. Training and evaluation hold a few blocks at a time, not
 * the whole set.
 */
export interface BlockSource {
  /** Rows per block, in row order. */
  readonly blockRows: readonly number[];
  /** Columns of every row. */
  readonly maxLen: number;
  /** Block `b` encoded: `x` row-major `[blockRows[b], maxLen]`, `y` its labels. May be called again for a block. */
  load(block: number): Promise<{ x: Int32Array; y: Int32Array }>;
  /** A hint: these blocks are needed next, in this order (fetch them ahead). */
  prefetch?(blocks: readonly number[]): void;
}

/** Training or evaluation data: whole arrays, or blocks loaded on demand. */
export type DataSource = TrainData | BlockSource;

function isBlockSource(d: DataSource): d is BlockSource {
  return 'blockRows' in d;
}

/** `d` as a {@link BlockSource}: whole arrays are one block. */
export function asBlockSource(d: DataSource): BlockSource {
  if (isBlockSource(d)) return d;
  return { blockRows: d.n > 0 ? [d.n] : [], maxLen: d.maxLen, load: () => Promise.resolve({ x: d.x, y: d.y }) };
}

/** Rows of `d`. */
export function sourceRows(d: DataSource): number {
  return isBlockSource(d) ? d.blockRows.reduce((a, b) => a + b, 0) : d.n;
}

/**
 * Blocks whose rows an epoch shuffles together. Each group is loaded whole, so a group of 4 shards of 65,536 rows
 * and 100 columns holds about 100 MB; the first batch waits only for the first group's blocks.
 */
export const GROUP_BLOCKS = 4;

/**
 * The groups of blocks of 0-based epoch `epoch`, in the order it visits them: all blocks in row order as one group
 * when there are at most `groupBlocks` (then the epoch's batches are exactly those of {@link epochBatches} over the
 * whole data), otherwise a seeded permutation of the blocks cut into groups of `groupBlocks`.
 */
export function epochGroups(blocks: number, seed: number, epoch: number, groupBlocks: number = GROUP_BLOCKS): number[][] {
  if (blocks <= groupBlocks) return [Array.from({ length: blocks }, (_, b) => b)];
  const order = Array.from(seededPermutation(blocks, mixSeed(seed, epoch, 0xb10c)));
  const groups: number[][] = [];
  for (let i = 0; i < order.length; i += groupBlocks) groups.push(order.slice(i, i + groupBlocks));
  return groups;
}

/** The rows of `blocks` as one array (no copy for a single block). */
async function loadGroup(source: BlockSource, blocks: readonly number[]): Promise<TrainData> {
  const parts = await Promise.all(blocks.map((b) => source.load(b)));
  const { maxLen } = source;
  parts.forEach((p, i) => {
    const rows = source.blockRows[blocks[i] as number] as number;
    if (p.y.length !== rows || p.x.length !== rows * maxLen) {
      throw new ModelError('INVALID_DATA', `block ${blocks[i]}: expected ${rows} rows of ${maxLen} ids, got ${p.y.length} labels and ${p.x.length} ids`);
    }
  });
  if (parts.length === 1) {
    const p = parts[0] as { x: Int32Array; y: Int32Array };
    return { x: p.x, y: p.y, n: p.y.length, maxLen };
  }
  const n = parts.reduce((a, p) => a + p.y.length, 0);
  const x = new Int32Array(n * maxLen);
  const y = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    x.set(p.x, at * maxLen);
    y.set(p.y, at);
    at += p.y.length;
  }
  return { x, y, n, maxLen };
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
  /** Whole arrays, or blocks (see {@link epochGroups} for the order a source of many blocks is visited in). */
  train: DataSource;
  validation: DataSource;
  /** Blocks shuffled together (see {@link epochGroups}); default {@link GROUP_BLOCKS}. Part of the batch order. */
  groupBlocks?: number;
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

function checkSource(name: string, d: DataSource, maxLen?: number): void {
  if (!isBlockSource(d)) return checkData(name, d, maxLen);
  if (!Number.isInteger(d.maxLen) || d.maxLen < 1) throw new ModelError('INVALID_DATA', `${name}.maxLen: expected an integer >= 1, got ${d.maxLen}`);
  if (d.blockRows.some((r) => !Number.isInteger(r) || r < 1)) throw new ModelError('INVALID_DATA', `${name}.blockRows: expected integers >= 1`);
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
 * batches after a resume. A {@link BlockSource} of more than `groupBlocks` blocks is shuffled a group of blocks at a
 * time ({@link epochGroups}): only that group is in memory, and the first batch needs only the first group; per batch `model.trainOnBatch` with tensors created and disposed in the step; a yield to
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
  checkSource('train', train, maxLen);
  checkSource('validation', validation, maxLen);
  const trainRows = sourceRows(train);
  if (trainRows === 0) throw new ModelError('INVALID_DATA', 'train: expected at least one example, got n=0');
  const groupBlocks = o.groupBlocks ?? GROUP_BLOCKS;
  if (!Number.isInteger(groupBlocks) || groupBlocks < 1) throw new ModelError('INVALID_OPTIONS', `groupBlocks: expected an integer >= 1, got ${groupBlocks}`);
  const source = asBlockSource(train);
  const masked = masksPadding(model);

  const history: EpochLog[] = [];
  const dropout = seedDropout(model);
  try {
    for (let e = startEpoch; e < epochs; e++) {
      const epoch = e + 1;
      const t0 = performance.now();
      const groups = epochGroups(source.blockRows.length, seed, e, groupBlocks);
      const groupRows = groups.map((g) => g.reduce((a, b) => a + (source.blockRows[b] as number), 0));
      // A partial batch ends each group, so an epoch of several groups may have a few more batches than n / batchSize.
      const batches = groupRows.reduce((a, r) => a + Math.ceil(r / batchSize), 0);
      let lossSum = 0;
      let accSum = 0;
      let seqLenSum = 0;
      let b = 0;
      for (let g = 0; g < groups.length; g++) {
        // Fetch this group's blocks and the next group's while this one trains.
        source.prefetch?.([...(groups[g] as number[]), ...(groups[g + 1] ?? [])]);
        const data = await loadGroup(source, groups[g] as number[]);
        const lengths = masked ? rowLengths(data.x, data.n, data.maxLen) : undefined;
        // One group: the seed as before sources had blocks, so whole arrays train on the same batches as ever.
        const groupSeed = groups.length === 1 ? seed : mixSeed(seed, 0x6709, g);
        const plan = epochBatches({ n: data.n, batchSize, seed: groupSeed, epoch: e, maxLen: data.maxLen, lengths });
        for (const { rows, seqLen } of plan) {
          if (signal?.aborted) {
            logger?.info({ epoch, batch: b, batches }, 'training aborted between batches');
            return { history, aborted: true };
          }
          const count = rows.length;
          dropout.setBatch(mixSeed(seed, e, b, 0xd20f));
          const xs = tf.tensor2d(gatherColumns(data.x, data.maxLen, rows, seqLen), [count, seqLen], 'int32');
          const ys = tf.tensor2d(Float32Array.from(rows, (r) => data.y[r] as number), [count, 1], 'float32');
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
          b++;
          await yieldToEventLoop();
        }
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      const val = await evaluate(model, validation);
      if (sourceRows(validation) > 0 && !Number.isFinite(val.loss)) throw new DivergedError(epoch, batches, val.loss, 'validation loss');
      const log: EpochLog = {
        epoch,
        loss: lossSum / trainRows,
        accuracy: accSum / trainRows,
        val_loss: val.loss,
        val_accuracy: val.accuracy,
        seconds: (performance.now() - t0) / 1000,
        samplesPerSec: trainRows / trainSeconds,
      };
      if (masked) log.meanSeqLen = seqLenSum / trainRows;
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
  data: DataSource,
  batchSize: number = DEFAULT_EVAL_BATCH_SIZE,
): Promise<{ loss: number; accuracy: number }> {
  checkSource('data', data, modelMaxLen(model));
  let lossSum = 0;
  let correct = 0;
  const n = await forEachBlock(data, async (block) => {
    await predictBatches(model, block.x, block.n, block.maxLen, batchSize, (probs, count, rowOf, k) => {
      for (let i = 0; i < count; i++) {
        const label = block.y[rowOf(i)] as number;
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
  });
  return { loss: lossSum / n, accuracy: correct / n };
}

/**
 * Visit `data` a block at a time, in row order (whole arrays are one block), fetching the next block while one is
 * visited; `first` is the block's first row. Returns the rows visited.
 */
async function forEachBlock(data: DataSource, visit: (block: TrainData, first: number) => Promise<void>): Promise<number> {
  const source = asBlockSource(data);
  let first = 0;
  for (let b = 0; b < source.blockRows.length; b++) {
    source.prefetch?.([b, b + 1].filter((x) => x < source.blockRows.length));
    const block = await loadGroup(source, [b]);
    await visit(block, first);
    first += block.n;
  }
  return first;
}

/**
 * Class probabilities of every row of `data`, row-major `[n, numClasses]` in row order, with the labels: like
 * {@link predictProbabilities}, but a block at a time (the rows are never one array).
 */
export async function predictSource(
  model: tf.LayersModel,
  data: DataSource,
  batchSize: number = DEFAULT_EVAL_BATCH_SIZE,
): Promise<{ probabilities: Float32Array; labels: Int32Array; n: number }> {
  checkSource('data', data, modelMaxLen(model));
  const n = sourceRows(data);
  const labels = new Int32Array(n);
  let out = new Float32Array(0);
  await forEachBlock(data, async (block, first) => {
    labels.set(block.y, first);
    await predictBatches(model, block.x, block.n, block.maxLen, batchSize, (probs, count, rowOf, k) => {
      if (out.length !== n * k) out = new Float32Array(n * k);
      for (let i = 0; i < count; i++) out.set(probs.subarray(i * k, (i + 1) * k), (first + rowOf(i)) * k);
    });
  });
  return { probabilities: out, labels, n };
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
