export { initBackend, type BackendName, type BackendPreference, type BackendInfo, type InitBackendOptions } from './backend.js';
export { buildModel, makeOptimizer, modelParamsFromTrial, makeLazyAdam, embeddingVariableNames, type ModelParams } from './model.js';
export { LazyAdamOptimizer, LAZY_CONFIG_KEY } from './lazy-adam.js';
export { FastDropout, fastDropout, FAST_DROPOUT_CLASS_NAME } from './fast-dropout.js';
export {
  trainModel,
  evaluate,
  predictProbabilities,
  predictSource,
  asBlockSource,
  epochGroups,
  GROUP_BLOCKS,
  DEFAULT_EVAL_BATCH_SIZE,
  type BlockSource,
  type DataSource,
  type TrainData,
  type TrainOptions,
  type TrainResult,
  type BatchInfo,
} from './training.js';
export type { EpochLog } from '@sweepq/sweep-config';
export {
  serializeModel,
  deserializeModel,
  getOptimizerState,
  setOptimizerState,
  WEIGHTS_FILE,
  type ModelArtifactsFiles,
  type OptimizerState,
} from './serialization.js';
export { DivergedError, ModelError } from './errors.js';
export { LATENCY_RUNS, LATENCY_WARMUP, median, medianLatencyMs, paramCount, savedBytes } from './costs.js';
export {
  FusedLSTM,
  FusedGRU,
  FusedBidirectional,
  fusedLstm,
  fusedGru,
  fusedBidirectional,
  FUSED_LSTM_CLASS_NAME,
  FUSED_CLASS_NAMES,
  type FusedLstmArgs,
} from './fused-layers.js';
export {
  registerEmbeddingKernels,
  registerFastCpuKernels,
  gemmStatus,
  registerFastKernels,
  fastKernelsRegistered,
  wasmFastPathStatus,
  wasmInternalsStatus,
  PINNED_TFJS_VERSION,
  type GemmKind,
  type InternalsStatus,
} from '@sweepq/kernels';
export * as tf from '@tensorflow/tfjs';
