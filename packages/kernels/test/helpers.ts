import * as tf from '@tensorflow/tfjs';
import { initKernels, loadWasmBackend } from '../src/index.js';

/** Make `name` the active tfjs backend with sweepq's kernels registered and compiled (what `initBackend` does for it). */
export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  await initKernels();
  if (name === 'wasm') await loadWasmBackend();
  if (!(await tf.setBackend(name)) || tf.getBackend() !== name) throw new Error(`tfjs backend ${name} did not initialise`);
  await tf.ready();
}

/**
 * Turn on relaxed SIMD in this process's V8 where it is behind a flag (Node 20; on by default from Node 22), so that
 * the tests reach the relaxed-SIMD edition of the own matmul as well as the plain one. Call before anything compiles.
 */
export async function enableRelaxedSimd(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) >= 22) return;
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}
