/**
 * Tensors on the tfjs wasm backend's heap, for the fused recurrent ops that run sweepq's own matmul and gate math over
 * it (tfjs-backend-wasm 4.22.0's `BackendWasm`; the fast paths check the version, see `fast-kernels.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';

/** What the heap paths need from `BackendWasm`. */
interface HeapBackend {
  wasm: { asm?: { memory?: { buffer: ArrayBuffer } } };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

const backend = (): HeapBackend => tf.backend() as unknown as HeapBackend;

/** Byte address of a tensor's data on the wasm backend's heap. */
export function heapAddr(t: tf.Tensor): number {
  return backend().dataIdMap.get(t.dataId)!.memoryOffset;
}

/** A new float tensor on the wasm heap, uninitialised (the caller writes every element). */
export function heapTensor(shape: number[]): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(backend().makeOutput(shape, 'float32'));
}

/** A float view of one heap tensor (made now: an allocation may have grown the heap and detached older views). */
export function heapView(t: tf.Tensor): Float32Array {
  return backend().typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: 'float32' });
}

/** A float view of the whole heap (made now; element index = byte address / 4). */
export function heapFloats(): Float32Array {
  return new Float32Array(backend().wasm.asm!.memory!.buffer);
}

/** Whether a gradient tape records the op whose forward function is running now (tfjs-core 4.22's `isTapeOn`). */
export function recordingGradient(): boolean {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: unknown; kernelDepth?: unknown } }).state;
  // Inside a kernel's forward function kernelDepth is 1 for an op called at top level (0 when it was called).
  return typeof state?.gradientDepth === 'number' && state.gradientDepth > 0 && state.kernelDepth === 1;
}

/**
 * Heap passes whose gradient has not run yet. A pass recorded on a tape whose gradient is never taken would keep its
 * tensors for ever; past this many outstanding, the oldest is freed (its gradient, if it ever came, would throw).
 * Each entry's `dispose` removes it from this set.
 */
export const outstanding = new Set<{ dispose(): void }>();
export const MAX_OUTSTANDING_PASSES = 32;

/** Record a pass waiting for its gradient, freeing the oldest beyond the limit. */
export function trackOutstanding(entry: { dispose(): void }): void {
  outstanding.add(entry);
  if (outstanding.size > MAX_OUTSTANDING_PASSES) {
    const oldest = outstanding.values().next().value as { dispose(): void };
    oldest.dispose();
  }
}

/** Free the memory of every recorded heap pass still waiting for its gradient (tests); returns how many there were. */
export function releaseOutstandingPasses(): number {
  const n = outstanding.size;
  for (const e of [...outstanding]) e.dispose();
  return n;
}
