/**
 * `@sweepq/kernels`: what makes sweepq's classifier fast on TensorFlow.js, with no knowledge of the classifier. The
 * fused recurrent op (forward and hand-written backpropagation through time), sweepq's own wasm matmul, the wasm
 * SIMD gate math, the embedding-gradient and cpu kernels, the fast wasm-backend kernels and lazy Adam's in-place update.
 * `@sweepq/model` builds its layers and training on these. Test and profiling switches are in `@sweepq/kernels/testing`.
 */
export { initKernels, loadWasmBackend, DEFAULT_WASM_THREADS, type LoadWasmOptions } from './setup.js';
export { registerEmbeddingKernels, scatterAdd, stockKernel } from './embedding-kernels.js';
export { registerFastCpuKernels } from './cpu-kernels.js';
export { type RecurrentActivation } from './activations.js';
export { fusedRecurrent, fusedRecurrentAvailable, gatesPerUnit, type CellKind, type FusedRecurrentOptions } from './fused-recurrent.js';
export { initRecurrentGates, recurrentGatesStatus } from './recurrent-gates.js';
export { gemmStatus, initGemm, heapGemm, relaxedSimdSupported, type Gemm, type GemmKind } from './gemm-wasm.js';
export { wasmAdam, wasmAdamStatus, initWasmAdam, type AdamConstants, type WasmAdam } from './adam-wasm.js';
export {
  registerFastKernels,
  fastKernelsRegistered,
  wasmFastPathStatus,
  wasmInternalsStatus,
  setFastPathWarningSink,
  warnOnce,
  PINNED_TFJS_VERSION,
  type InternalsStatus,
} from './fast-kernels.js';
