export { initBackend, type BackendName, type BackendPreference, type BackendInfo, type InitBackendOptions } from './backend.js';
export { registerEmbeddingKernels } from './embedding-kernels.js';
export { buildModel, makeOptimizer, type ModelParams } from './model.js';
export {
  trainModel,
  evaluate,
  predictProbabilities,
  DEFAULT_EVAL_BATCH_SIZE,
  type EpochLog,
  type TrainData,
  type TrainOptions,
  type TrainResult,
  type BatchInfo,
} from './training.js';
export {
  serializeModel,
  deserializeModel,
  getOptimizerState,
  setOptimizerState,
  WEIGHTS_FILE,
  type DeserializeOptions,
  type ModelArtifactsFiles,
  type OptimizerState,
} from './serialization.js';
export { DivergedError, ModelError } from './errors.js';
export { FusedLSTM, fusedLstm, fusedLstmLastOutput, FUSED_LSTM_CLASS_NAME, type FusedLstmArgs, type FusedLstmOptions } from './fused-lstm.js';
export {
  registerFastKernels,
  unregisterFastKernels,
  fastKernelsRegistered,
  wasmFastPathStatus,
  wasmInternalsStatus,
  PINNED_TFJS_VERSION,
  type InternalsStatus,
} from './fast-kernels.js';
export * as tf from '@tensorflow/tfjs';
