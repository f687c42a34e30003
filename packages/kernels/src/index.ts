/**
 * `@sweepq/kernels`: what makes sweepq's classifier fast on TensorFlow.js, with no knowledge of the classifier. The
 * fused recurrent ops (forward and hand-written backpropagation through time), sweepq's own wasm matmul, the wasm
 * SIMD gate math, the embedding-gradient and cpu kernels, the fast wasm-backend kernels and lazy Adam's in-place update.
 * `@sweepq/model` builds its layers and training on these.
 */
export { initKernels, loadWasmBackend, DEFAULT_WASM_THREADS, type LoadWasmOptions } from './setup.js';
export { registerEmbeddingKernels, scatterAdd, stockKernel } from './embedding-kernels.js';
export { registerFastCpuKernels, unregisterFastCpuKernels } from './cpu-kernels.js';
export {
  fusedLstmLastOutput,
  fusedLstmLastPath,
  type FusedLstmOptions,
  type FusedLstmPath,
} from './fused-lstm.js';
export { type RecurrentActivation } from './lstm-math.js';
export { releaseOutstandingPasses, MAX_OUTSTANDING_PASSES } from './heap.js';
export { fusedRecurrent, fusedRecurrentAvailable, gatesPerUnit, type CellKind, type FusedRecurrentOptions } from './fused-rnn.js';
export { forceJsGateMath, forceOwnMemoryGates, giveGateWorkspace, initLstmGates, lstmGatesStatus, takeGateWorkspace } from './lstm-gates.js';
export { gemmStatus, forceTfjsMatmuls, initGemm, heapGemm, relaxedSimdSupported, type Gemm, type GemmKind } from './gemm-wasm.js';
export { wasmAdam, wasmAdamStatus, initWasmAdam, type AdamConstants, type WasmAdam } from './adam-wasm.js';
export { profileTimes, setProfiling, profiling } from './profile.js';
export {
  registerFastKernels,
  unregisterFastKernels,
  fastKernelsRegistered,
  wasmFastPathStatus,
  wasmInternalsStatus,
  forcePublicWasmPath,
  setFastPathWarningSink,
  warnOnce,
  PINNED_TFJS_VERSION,
  type InternalsStatus,
} from './fast-kernels.js';
