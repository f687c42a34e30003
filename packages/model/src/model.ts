import { OPTIMIZERS, type OptimizerName, type TrialParams } from '@sweepq/spec';
import * as tf from '@tensorflow/tfjs';
import { ModelError } from './errors.js';
import { fastDropout } from './fast-dropout.js';
import { fusedLstm } from './fused-layers.js';
import { LazyAdamOptimizer } from './lazy-adam.js';

/** Hyperparameters of the classic Keras text classifier. */
export interface ModelParams {
  /** Vocabulary size (Keras `max_words`); token ids must be in `[0, maxWords)`. */
  maxWords: number;
  /** Sequence length (Keras `input_length` / `max_len`). */
  maxLen: number;
  /** Embedding width. */
  embeddingDim: number;
  /** LSTM units. */
  lstmUnits: number;
  /** Dropout rate in `[0, 1)`: a Dropout layer after the Embedding (only when > 0) and the LSTM input dropout. */
  dropout: number;
  /** LSTM recurrent dropout rate in `[0, 1)`. */
  recurrentDropout: number;
  /** Optimizer learning rate (> 0). */
  learningRate: number;
  /** Optimizer, with tfjs defaults for everything but the learning rate. */
  optimizer: OptimizerName;
  /** Number of classes (>= 2); labels are `0..numClasses-1`. */
  numClasses: number;
  /** Seed for the weight initialisers; default: unseeded (`Math.random`). */
  seed?: number;
  /**
   * `fused` (default): the LSTM trains with sweepq's fused implementation ({@link FusedLSTM}: one input-projection
   * matmul, gate math on typed arrays, hand-written BPTT), about 10x faster on wasm. `stock`: `tf.layers.lstm`.
   * Either way the saved model names the standard `LSTM` class with identical weights. `fused` also uses
   * {@link FastDropout} for the Dropout layer (same semantics, masks from a fast seeded generator instead of
   * `tf.randomUniform`); `stock` uses stock layers only.
   */
  lstmImplementation?: 'fused' | 'stock';
  /**
   * LSTM gate activation; default `sigmoid` (modern Keras). tfjs-layers' own default is `hardSigmoid` (old Keras).
   */
  recurrentActivation?: 'sigmoid' | 'hardSigmoid';
  /**
   * How Adam updates the embedding table. `lazy` (the default with `optimizer: 'adam'`): only the rows the batch
   * touched (non-zero gradient rows) get their moments and weights updated, as TensorFlow's `LazyAdamOptimizer` does
   * ({@link LazyAdamOptimizer}); touched rows get exactly dense Adam's update, untouched rows stay as they are
   * (dense Adam would decay their moments and keep moving them by stale momentum). It saves a dozen passes over the
   * whole `maxWords x embeddingDim` table per step (about 7 ms of a 70-120 ms wasm step at the seed shape, 40% of a
   * cpu step) and is the common choice for large sparse embeddings. `dense`: tfjs' (and Keras') plain Adam on every
   * row. Only Adam has a lazy form: with another optimizer, `lazy` is rejected and the default is `dense`.
   * Recorded in the saved optimizer config, so {@link deserializeModel} restores it; stock tfjs ignores the key.
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
  if (p.lstmImplementation != null && p.lstmImplementation !== 'fused' && p.lstmImplementation !== 'stock') {
    issues.push(`lstmImplementation: expected "fused" or "stock", got ${JSON.stringify(p.lstmImplementation)}`);
  }
  if (p.recurrentActivation != null && p.recurrentActivation !== 'sigmoid' && p.recurrentActivation !== 'hardSigmoid') {
    issues.push(`recurrentActivation: expected "sigmoid" or "hardSigmoid", got ${JSON.stringify(p.recurrentActivation)}`);
  }
  if (p.embeddingOptimizer != null && p.embeddingOptimizer !== 'dense' && p.embeddingOptimizer !== 'lazy') {
    issues.push(`embeddingOptimizer: expected "dense" or "lazy", got ${JSON.stringify(p.embeddingOptimizer)}`);
  } else if (p.embeddingOptimizer === 'lazy' && p.optimizer !== 'adam') {
    issues.push(`embeddingOptimizer: "lazy" needs optimizer "adam", got ${JSON.stringify(p.optimizer)}`);
  }
  if (issues.length > 0) throw new ModelError('INVALID_MODEL_PARAMS', `invalid model parameters: ${issues.join('; ')}`);
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
 * Build and compile
 * `Embedding(maxWords, embeddingDim, inputLength=maxLen) -> [Dropout(dropout) if dropout > 0] ->
 * LSTM(lstmUnits, dropout, recurrentDropout, recurrentActivation='sigmoid') -> Dense(numClasses, softmax)`
 * (the LSTM is sweepq's fused implementation unless `lstmImplementation: 'stock'`)
 * with sparse categorical cross-entropy and accuracy, using standard layer classes only (so the saved model loads
 * with stock `tf.loadLayersModel`).
 *
 * Initialisers follow Keras defaults (uniform ±0.05 embeddings, Glorot-uniform kernels, orthogonal recurrent
 * kernel, zero biases with unit forget bias); with `seed` each gets a distinct seed derived from it, so the
 * initial weights are reproducible. Dropout masks are not seeded here; {@link trainModel} seeds them per batch.
 *
 * @throws ModelError `INVALID_MODEL_PARAMS` naming every bad field.
 */
export function buildModel(p: ModelParams): tf.LayersModel {
  check(p);
  const seed = p.seed;
  const s = (k: number): number | undefined => (seed == null ? undefined : seed * 7919 + k);
  const model = tf.sequential();
  model.add(
    tf.layers.embedding({
      inputDim: p.maxWords,
      outputDim: p.embeddingDim,
      inputLength: p.maxLen,
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: s(1) }),
    }),
  );
  const fused = (p.lstmImplementation ?? 'fused') === 'fused';
  if (p.dropout > 0) model.add(fused ? fastDropout({ rate: p.dropout }) : tf.layers.dropout({ rate: p.dropout }));
  const lstmArgs = {
    units: p.lstmUnits,
    dropout: p.dropout,
    recurrentDropout: p.recurrentDropout,
    activation: 'tanh',
    recurrentActivation: p.recurrentActivation ?? 'sigmoid',
    unitForgetBias: true,
    kernelInitializer: tf.initializers.glorotUniform({ seed: s(2) }),
    recurrentInitializer: tf.initializers.orthogonal({ gain: 1, seed: s(3) }),
    biasInitializer: 'zeros',
  } as const;
  model.add(fused ? fusedLstm(lstmArgs) : tf.layers.lstm(lstmArgs));
  model.add(
    tf.layers.dense({
      units: p.numClasses,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: s(4) }),
      biasInitializer: 'zeros',
    }),
  );
  const lazy = p.optimizer === 'adam' && (p.embeddingOptimizer ?? 'lazy') === 'lazy';
  model.compile({
    optimizer: lazy ? makeLazyAdam(p.learningRate, model) : makeOptimizer(p.optimizer, p.learningRate),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}

/** The model settings of one sweep trial: its parameters (W&B-style names), the dataset's class count and the trial seed. */
export function modelParamsFromTrial(params: TrialParams, numClasses: number, seed: number): ModelParams {
  return {
    maxWords: params.max_words,
    maxLen: params.max_len,
    embeddingDim: params.embedding_dim,
    lstmUnits: params.lstm_units,
    dropout: params.dropout,
    recurrentDropout: params.recurrent_dropout,
    learningRate: params.learning_rate,
    optimizer: params.optimizer,
    numClasses,
    seed,
  };
}
