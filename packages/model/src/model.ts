import {
  CELLS,
  MODEL_FIELDS,
  OPTIMIZERS,
  type CellName,
  type ModelFieldOf,
  type ModelParameterName,
  type OptimizerName,
  type ParameterName,
  type TrialParams,
} from '@sweepq/sweep-config';
import * as tf from '@tensorflow/tfjs';
import { ModelError } from './errors.js';
import { fastDropout } from './fast-dropout.js';
import { LazyAdamOptimizer } from './lazy-adam.js';
import { bidirectionalLayer, recurrentLayer, type RecurrentArgs } from './recurrent-layers.js';

/** Hyperparameters of the classic Keras text classifier. */
export interface ModelParams {
  /** Vocabulary size (Keras `max_words`); token ids must be in `[0, maxWords)`. */
  maxWords: number;
  /** Sequence length (Keras `input_length` / `max_len`). */
  maxLen: number;
  /** Embedding width. */
  embeddingDim: number;
  /** Units of each recurrent layer (of each direction when {@link ModelParams.bidirectional}). */
  lstmUnits: number;
  /** Dropout rate in `[0, 1)`: a Dropout layer after the Embedding (only when > 0) and every recurrent layer's input dropout. */
  dropout: number;
  /** Recurrent dropout rate in `[0, 1)` of every recurrent layer. */
  recurrentDropout: number;
  /** Optimizer learning rate (> 0). */
  learningRate: number;
  /** Optimizer, with tfjs defaults for everything but the learning rate. */
  optimizer: OptimizerName;
  /** Number of classes (>= 2); labels are `0..numClasses-1`. */
  numClasses: number;
  /** Seed for the weight initialisers; default: unseeded (`Math.random`). */
  seed?: number;
  /** Stacked recurrent layers, an integer >= 1 (the spec allows 1..4); all but the last return sequences. Default 1. */
  lstmLayers?: number;
  /** Wrap each recurrent layer in Keras `Bidirectional(merge_mode='concat')`, doubling its output width. Default false. */
  bidirectional?: boolean;
  /**
   * Recurrent cell: `lstm` (Keras `LSTM`) or `gru` (Keras `GRU` with `reset_after=False`, the only form tfjs-layers
   * has: it throws on `resetAfter: true`). Default `lstm`.
   */
  cell?: CellName;
  /**
   * `Embedding(mask_zero=True)`: steps whose token is 0 (padding) are skipped, the recurrent state carried through
   * them, and the model takes sequences of any length (input shape `[null, null]`), so batches can be trimmed to their
   * longest row. Default false: a fixed input length of `maxLen` and no mask.
   */
  maskZero?: boolean;
  /**
   * Gate activation of the recurrent cells; default `sigmoid` (modern Keras). tfjs-layers' own default is
   * `hardSigmoid` (old Keras).
   */
  recurrentActivation?: 'sigmoid' | 'hardSigmoid';
}

/**
 * How {@link buildModelWith} implements the model, for tests and benchmarks (exported from `@sweepq/model/testing`,
 * not the main entry): the defaults are what {@link buildModel} builds, and a sweep trial never sets them.
 */
export interface ImplementationOptions {
  /**
   * `fused` (default): the recurrent layers train with sweepq's fused implementations ({@link FusedLSTM},
   * {@link FusedGRU}, {@link FusedBidirectional}: one input-projection matmul, wasm SIMD gate math,
   * hand-written BPTT), about 10x faster on wasm. `stock`: `tf.layers.lstm`, `gru` and `bidirectional`.
   * Either way the saved model names the standard classes with identical weights. `fused` also uses
   * {@link FastDropout} for the Dropout layer (same semantics, masks from a fast seeded generator instead of
   * `tf.randomUniform`); `stock` uses stock layers only.
   */
  lstmImplementation?: 'fused' | 'stock';
  /**
   * How Adam updates the embedding table. `lazy` (the default with `optimizer: 'adam'`): only the rows the batch
   * touched (non-zero gradient rows) get their moments and weights updated, as TensorFlow's `LazyAdamOptimizer` does
   * ({@link LazyAdamOptimizer}); touched rows get exactly dense Adam's update, untouched rows stay as they are
   * (dense Adam would decay their moments and keep moving them by stale momentum). It saves a dozen passes over the
   * whole `maxWords x embeddingDim` table per step (about 7 ms of a 70-120 ms wasm step at the seed shape, 40% of a
   * cpu step) and is the common choice for large sparse embeddings. `dense`: tfjs' (and Keras') plain Adam on every
   * row. Only Adam has a lazy form: with another optimizer, `lazy` is rejected and the default is `dense`.
   * Recorded in the saved optimizer config, so {@link deserializeModel} restores it; stock tfjs ignores the key. When
   * loading (`deserializeModelWith`), the default is as saved.
   */
  embeddingOptimizer?: 'dense' | 'lazy';
}

function check(p: ModelParams): void {
  const issues: string[] = [];
  const posInt = (k: keyof ModelParams, min = 1): void => {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      issues.push(`${k}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
  };
  posInt('maxWords');
  posInt('maxLen');
  posInt('embeddingDim');
  posInt('lstmUnits');
  posInt('numClasses', 2);
  if (p.lstmLayers != null) posInt('lstmLayers');
  for (const k of ['bidirectional', 'maskZero'] as const) {
    const v = p[k];
    if (v != null && typeof v !== 'boolean') issues.push(`${k}: expected true or false, got ${JSON.stringify(v)}`);
  }
  if (p.cell != null && !(CELLS as readonly string[]).includes(p.cell)) {
    issues.push(`cell: expected one of ${CELLS.join(', ')}, got ${JSON.stringify(p.cell)}`);
  }
  for (const k of ['dropout', 'recurrentDropout'] as const) {
    const v = p[k];
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) issues.push(`${k}: expected a number in [0, 1), got ${JSON.stringify(v)}`);
  }
  if (typeof p.learningRate !== 'number' || !(p.learningRate > 0) || !Number.isFinite(p.learningRate)) {
    issues.push(`learningRate: expected a finite number > 0, got ${JSON.stringify(p.learningRate)}`);
  }
  if (!(OPTIMIZERS as readonly string[]).includes(p.optimizer)) {
    issues.push(`optimizer: expected one of ${OPTIMIZERS.join(', ')}, got ${JSON.stringify(p.optimizer)}`);
  }
  if (p.seed != null && !Number.isFinite(p.seed)) issues.push(`seed: expected a finite number, got ${JSON.stringify(p.seed)}`);
  if (p.recurrentActivation != null && p.recurrentActivation !== 'sigmoid' && p.recurrentActivation !== 'hardSigmoid') {
    issues.push(`recurrentActivation: expected "sigmoid" or "hardSigmoid", got ${JSON.stringify(p.recurrentActivation)}`);
  }
  if (issues.length > 0) throw new ModelError('INVALID_MODEL_PARAMS', `invalid model parameters: ${issues.join('; ')}`);
}

function checkImplementation(impl: ImplementationOptions, optimizer: ModelParams['optimizer']): void {
  const issues: string[] = [];
  if (impl.lstmImplementation != null && impl.lstmImplementation !== 'fused' && impl.lstmImplementation !== 'stock') {
    issues.push(`lstmImplementation: expected "fused" or "stock", got ${JSON.stringify(impl.lstmImplementation)}`);
  }
  if (impl.embeddingOptimizer != null && impl.embeddingOptimizer !== 'dense' && impl.embeddingOptimizer !== 'lazy') {
    issues.push(`embeddingOptimizer: expected "dense" or "lazy", got ${JSON.stringify(impl.embeddingOptimizer)}`);
  } else if (impl.embeddingOptimizer === 'lazy' && optimizer !== 'adam') {
    issues.push(`embeddingOptimizer: "lazy" needs optimizer "adam", got ${JSON.stringify(optimizer)}`);
  }
  if (issues.length > 0) throw new ModelError('INVALID_MODEL_PARAMS', `invalid implementation options: ${issues.join('; ')}`);
}

/** Build the tfjs optimizer named by `p.optimizer`. */
export function makeOptimizer(name: ModelParams['optimizer'], learningRate: number): tf.Optimizer {
  switch (name) {
    case 'adam':
      return tf.train.adam(learningRate);
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate);
    case 'adagrad':
      return tf.train.adagrad(learningRate);
  }
}

/** Names of the embedding tables of `model` (the variables {@link LazyAdamOptimizer} updates by rows). */
export function embeddingVariableNames(model: tf.LayersModel): string[] {
  return model.layers.filter((l) => l.getClassName() === 'Embedding').flatMap((l) => l.trainableWeights.map((w) => (w.read() as tf.Variable).name));
}

/** tfjs' Adam (default betas and epsilon) with lazy row updates of `model`'s embedding tables. */
export function makeLazyAdam(learningRate: number, model: tf.LayersModel, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null): LazyAdamOptimizer {
  return new LazyAdamOptimizer(learningRate, beta1, beta2, epsilon, embeddingVariableNames(model));
}

/**
 * Seeds of the kernel and recurrent-kernel initialisers of recurrent layer `layer`, direction `direction` (0 forward,
 * 1 backward). The first layer's forward direction keeps the seeds it had before stacking existed, so a default
 * model's initial weights are unchanged; every other one gets its own, distinct from the embedding's (1) and the
 * Dense layer's (4).
 */
function recurrentSeeds(s: (k: number) => number | undefined, layer: number, direction: 0 | 1): [number | undefined, number | undefined] {
  const j = 2 * layer + direction;
  return j === 0 ? [s(2), s(3)] : [s(3 + 2 * j), s(4 + 2 * j)];
}

/** Fields of a stock (or fused) RNN layer's cell: the kernels {@link redrawBackward} re-initialises. */
interface RnnWithCell {
  cell: { kernel: tf.LayerVariable; recurrentKernel: tf.LayerVariable };
}

/**
 * Draws the backward direction's kernel and recurrent kernel of a built `Bidirectional` layer again with seeds of its
 * own. tfjs' Bidirectional, like Keras' (when no `backward_layer` is given), makes the backward layer from the wrapped
 * layer's config, initialiser seeds included, so seeded initialisers start both directions from identical weights
 * (Keras too, whenever seeds are set; unseeded, each direction draws its own). The saved config keeps the one
 * wrapped-layer config Keras' format has; the weights file holds what each direction really starts from. The bias
 * (zeros, with the LSTM's unit forget bias) is the same for both directions by design.
 */
function redrawBackward(bidirectional: tf.layers.Layer, kernelSeed: number | undefined, recurrentSeed: number | undefined): void {
  const { cell } = (bidirectional as unknown as { backwardLayer: RnnWithCell }).backwardLayer;
  tf.tidy(() => {
    cell.kernel.write(tf.initializers.glorotUniform({ seed: kernelSeed }).apply(cell.kernel.shape));
    cell.recurrentKernel.write(tf.initializers.orthogonal({ gain: 1, seed: recurrentSeed }).apply(cell.recurrentKernel.shape));
  });
}

/**
 * Build and compile
 * `Embedding(maxWords, embeddingDim, inputLength=maxLen) -> [Dropout(dropout) if dropout > 0] ->
 * lstmLayers x [Bidirectional(] LSTM|GRU(lstmUnits, dropout, recurrentDropout, recurrentActivation='sigmoid') [)] ->
 * Dense(numClasses, softmax)` (every recurrent layer but the last with `returnSequences`; the recurrent layers are
 * sweepq's fused implementations, see `recurrent-layers.ts`) with sparse
 * categorical cross-entropy and accuracy, using standard layer classes only (so the saved model loads with stock
 * `tf.loadLayersModel`). With `maskZero` the Embedding masks token 0 and has no fixed input length.
 *
 * Initialisers follow Keras defaults (uniform ±0.05 embeddings, Glorot-uniform kernels, orthogonal recurrent
 * kernels, zero biases with unit forget bias for the LSTM; the GRU has none); with `seed` each gets a distinct seed
 * derived from it, so the initial weights are reproducible, and the two directions of a Bidirectional layer start
 * from different weights (see {@link redrawBackward}). Dropout masks are not seeded here; {@link trainModel} seeds
 * them per batch.
 *
 * @throws ModelError `INVALID_MODEL_PARAMS` naming every bad field.
 */
export function buildModel(p: ModelParams): tf.LayersModel {
  return buildModelWith(p, {});
}

/**
 * {@link buildModel} with the implementation chosen by `impl` (tests and benchmarks, through `@sweepq/model/testing`).
 *
 * @throws ModelError `INVALID_MODEL_PARAMS` naming every bad field.
 */
export function buildModelWith(p: ModelParams, impl: ImplementationOptions): tf.LayersModel {
  check(p);
  checkImplementation(impl, p.optimizer);
  const seed = p.seed;
  const s = (k: number): number | undefined => (seed == null ? undefined : seed * 7919 + k);
  const maskZero = p.maskZero ?? false;
  const model = tf.sequential();
  model.add(
    tf.layers.embedding({
      inputDim: p.maxWords,
      outputDim: p.embeddingDim,
      // Masked: any length, so the training loop can trim a batch to its longest row (padding costs nothing then).
      inputLength: maskZero ? undefined : p.maxLen,
      ...(maskZero ? { maskZero: true } : {}),
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: s(1) }),
    }),
  );
  const fused = (impl.lstmImplementation ?? 'fused') === 'fused';
  // Both Dropout classes pass the Embedding's mask on (supportsMasking, computeMask returns the input mask).
  if (p.dropout > 0) model.add(fused ? fastDropout({ rate: p.dropout }) : tf.layers.dropout({ rate: p.dropout }));
  const cell = p.cell ?? 'lstm';
  const layers = p.lstmLayers ?? 1;
  const bidirectional = p.bidirectional ?? false;
  const wrapped: Array<{ layer: tf.layers.Layer; index: number }> = [];
  for (let i = 0; i < layers; i++) {
    const [kernelSeed, recurrentSeed] = recurrentSeeds(s, i, 0);
    const args: RecurrentArgs = {
      units: p.lstmUnits,
      dropout: p.dropout,
      recurrentDropout: p.recurrentDropout,
      activation: 'tanh',
      recurrentActivation: p.recurrentActivation ?? 'sigmoid',
      ...(cell === 'lstm' ? { unitForgetBias: true } : {}),
      kernelInitializer: tf.initializers.glorotUniform({ seed: kernelSeed }),
      recurrentInitializer: tf.initializers.orthogonal({ gain: 1, seed: recurrentSeed }),
      biasInitializer: 'zeros',
      ...(i < layers - 1 ? { returnSequences: true } : {}),
    };
    const layer = bidirectional ? bidirectionalLayer(recurrentLayer(cell, args, fused), fused) : recurrentLayer(cell, args, fused);
    model.add(layer);
    if (bidirectional) wrapped.push({ layer, index: i });
  }
  for (const { layer, index } of wrapped) redrawBackward(layer, ...recurrentSeeds(s, index, 1));
  model.add(
    tf.layers.dense({
      units: p.numClasses,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: s(4) }),
      biasInitializer: 'zeros',
    }),
  );
  const lazy = p.optimizer === 'adam' && (impl.embeddingOptimizer ?? 'lazy') === 'lazy';
  model.compile({
    optimizer: lazy ? makeLazyAdam(p.learningRate, model) : makeOptimizer(p.optimizer, p.learningRate),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}

/** What the parameter table feeds the model: `ModelParams` field -> the type of the trial value it takes. */
type TableFields = { [K in ModelParameterName as ModelFieldOf<K>]: TrialParams[K] };

/**
 * {@link TableFields} when every field a row of the table names is a `ModelParams` field that takes the trial's value,
 * else `never`, so {@link modelParamsFromTrial} stops compiling when a row names a missing field or one of another type.
 */
type CheckedTableFields = [keyof TableFields] extends [keyof ModelParams]
  ? TableFields extends Pick<ModelParams, keyof TableFields & keyof ModelParams>
    ? TableFields
    : never
  : never;

/**
 * The model settings of one sweep trial: every parameter whose row in `@sweepq/sweep-config`'s table names a model field
 * (`MODEL_FIELDS`), the dataset's class count and the trial seed. A new parameter reaches the model by naming its
 * field in the table; nothing here lists parameters.
 */
export function modelParamsFromTrial(params: TrialParams, numClasses: number, seed: number): ModelParams {
  const fromTable = Object.fromEntries(
    Object.entries(MODEL_FIELDS).map(([name, field]) => [field, params[name as ParameterName]]),
  ) as CheckedTableFields;
  return { ...fromTable, numClasses, seed };
}
