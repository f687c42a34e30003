/**
 * `@sweepq/kernels/testing`: switches for tests and benchmarks, kept out of the package's main entry. They force a
 * slower or stock path (to test the fallbacks against the fast ones, or to benchmark against stock tfjs), undo kernel
 * registrations, and time the fused op's parts. Production code never imports this entry.
 */
export { forceJsGateMath } from './recurrent-gates.js';
export { forceTfjsMatmuls } from './gemm-wasm.js';
export { forcePublicWasmPath, unregisterFastKernels } from './fast-kernels.js';
export { unregisterFastCpuKernels } from './cpu-kernels.js';
export { releaseOutstandingPasses, MAX_OUTSTANDING_PASSES } from './heap.js';
export { profileTimes, setProfiling, profiling } from './profile.js';
