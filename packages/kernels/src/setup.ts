/**
 * Loading and initialising the kernels: the wasm backend's binaries, the compiled wasm modules (gate math, matmul,
 * Adam) and the kernel registrations. Which backend a process uses is the classifier's choice (`@sweepq/model`'s
 * `initBackend`); this module only makes each backend ready with sweepq's kernels.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { initWasmAdam } from './adam-wasm.js';
import { registerFastCpuKernels } from './cpu-kernels.js';
import { registerEmbeddingKernels } from './embedding-kernels.js';
import { registerFastKernels, setFastPathWarningSink } from './fast-kernels.js';
import { initGemm } from './gemm-wasm.js';
import { initRecurrentGates } from './recurrent-gates.js';

/** Threads of the wasm backend unless told otherwise (see `@sweepq/model`'s `InitBackendOptions.wasmThreads`). */
export const DEFAULT_WASM_THREADS = 1;

/** Options of {@link loadWasmBackend}. */
export interface LoadWasmOptions {
  /** Threads for the wasm backend; default {@link DEFAULT_WASM_THREADS}. Only the first load's value counts. */
  wasmThreads?: number;
  /** Directory (ending in a path separator) or URL prefix of the `tfjs-backend-wasm*.wasm` binaries; default the package's `dist/`. */
  wasmPaths?: string;
}

/** Default location of the wasm binaries: `<tfjs-backend-wasm>/dist/`, resolved from this module. */
function defaultWasmPaths(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(pkgJson), 'dist') + path.sep;
}

let wasmLoaded: Promise<void> | undefined;

/**
 * Register the tfjs wasm backend (binaries from `wasmPaths`) and sweepq's wasm kernels on it; does not activate it.
 * Imported lazily: the module registers the wasm backend factory at a priority above cpu, so a static import would make
 * wasm the default for every importer even when it never asks for it.
 */
export async function loadWasmBackend(opts: LoadWasmOptions = {}): Promise<void> {
  wasmLoaded ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(opts.wasmPaths ?? defaultWasmPaths());
    wasm.setThreadsCount(opts.wasmThreads ?? DEFAULT_WASM_THREADS);
  })();
  try {
    await wasmLoaded;
  } catch (err) {
    wasmLoaded = undefined;
    throw err;
  }
  registerFastKernels();
}

/**
 * Register the backend-independent kernels (embedding gradients on cpu and wasm, faster cpu gather and transpose) and
 * compile the wasm modules: the recurrent cells' SIMD gate math, lazy Adam's in-place update and the own matmul. Never
 * throws: a module that does not compile or fails its self-test leaves the slower path in use, with one warning to
 * `warn` (default: `console.warn`).
 */
export async function initKernels(warn?: (message: string) => void): Promise<void> {
  registerEmbeddingKernels();
  registerFastCpuKernels();
  if (warn != null) setFastPathWarningSink(warn);
  await initRecurrentGates();
  await initWasmAdam();
  await initGemm();
}
