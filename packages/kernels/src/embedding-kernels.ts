import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';

/** Kernel name of the op behind the embedding (gather) gradient. */
const KERNEL = 'UnsortedSegmentSum';
/** Backends whose stock kernel is missing (wasm) or unusably slow (cpu). */
const BACKENDS = ['cpu', 'wasm'] as const;

type NumericArray = Float32Array | Int32Array | Uint8Array;

/** What the kernel needs from the cpu backend (public methods of `MathBackendCPU`). */
interface CpuBackendLike {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** What the kernel needs from the wasm backend (public methods of `BackendWasm`). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): NumericArray;
}

/** Stock kernels replaced by {@link registerEmbeddingKernels}, kept so tests can compare against them. */
const replaced = new Map<string, KernelConfig>();
let registered = false;

/**
 * Scatter-add with the exact semantics of tfjs-backend-cpu's stock `UnsortedSegmentSum`:
 * `segmentIds` has shape `x.shape[0..r)` (r = 1, or r = rank of x as the stock kernel allows), the output has shape `[numSegments, ...x.shape.slice(1)]` and
 * dtype float32 (also for int32 `x`, as stock), and
 * `out[s, j, ...] = sum_i x[i, j, ...] * (segmentIds[i, j..] == s)`. Ids outside `[0, numSegments)` contribute
 * nothing. Sums are accumulated in float64 in row order and rounded to float32 once, as the stock `Sum` does,
 * so results are bit-identical for finite inputs.
 */
export function scatterAdd(
  x: ArrayLike<number>,
  xShape: readonly number[],
  ids: ArrayLike<number>,
  idsShape: readonly number[],
  numSegments: number,
  out: Float32Array,
): void {
  const rows = xShape[0] ?? 1;
  const rowSize = rows === 0 ? 0 : sizeOf(xShape) / rows;
  const idsPerRow = rows === 0 ? 0 : sizeOf(idsShape) / rows;
  const inner = idsPerRow === 0 ? 0 : rowSize / idsPerRow;
  // Accumulate only the (segment, column block) pairs that occur, in a compact float64 buffer (at most x's size),
  // instead of a float64 copy of the whole output (5 MB for a 10,000 x 64 table) per call. The buffers are kept
  // between calls: allocating them afresh each step (1.6 MB for the seed shape) made a call cost 0.9-4.5 ms through
  // garbage collection, against about 0.3 ms with reuse.
  const keys = numSegments * idsPerRow;
  if (scratch.slotOf.length < keys) scratch.slotOf = new Int32Array(keys).fill(-1);
  if (scratch.dstOf.length < rows * idsPerRow) scratch.dstOf = new Int32Array(rows * idsPerRow);
  if (scratch.keyOf.length < rows * idsPerRow) scratch.keyOf = new Int32Array(rows * idsPerRow);
  if (scratch.acc.length < rows * idsPerRow * inner) scratch.acc = new Float64Array(rows * idsPerRow * inner);
  const { slotOf, dstOf, keyOf, acc } = scratch;
  let slots = 0;
  for (let i = 0; i < rows; i++) {
    const xRow = i * rowSize;
    for (let k = 0; k < idsPerRow; k++) {
      const s = ids[i * idsPerRow + k] as number;
      if (!(s >= 0 && s < numSegments)) continue;
      const key = s * idsPerRow + k;
      const src = xRow + k * inner;
      let slot = slotOf[key] as number;
      if (slot < 0) {
        // First occurrence: the accumulator starts as this row (no zeroing pass).
        slot = slots++;
        slotOf[key] = slot;
        keyOf[slot] = key;
        dstOf[slot] = s * rowSize + k * inner;
        const a = slot * inner;
        for (let t = 0; t < inner; t++) acc[a + t] = 0 + (x[src + t] as number); // 0 + : -0 sums to +0, as stock
        continue;
      }
      const a = slot * inner;
      for (let t = 0; t < inner; t++) acc[a + t] = (acc[a + t] as number) + (x[src + t] as number);
    }
  }
  out.fill(0);
  for (let slot = 0; slot < slots; slot++) {
    const dst = dstOf[slot] as number;
    const a = slot * inner;
    for (let t = 0; t < inner; t++) out[dst + t] = acc[a + t] as number;
    slotOf[keyOf[slot] as number] = -1; // leave the map empty for the next call
  }
}

/** Buffers of {@link scatterAdd}, reused between calls; `slotOf` is all -1 between calls. */
const scratch = { slotOf: new Int32Array(0), dstOf: new Int32Array(0), keyOf: new Int32Array(0), acc: new Float64Array(0) };

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkArgs(x: TensorInfo, segmentIds: TensorInfo, numSegments: number): number[] {
  const r = segmentIds.shape.length;
  if (r < 1 || r > x.shape.length || segmentIds.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(
      `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape.join(',')}] must be a prefix of x shape [${x.shape.join(',')}]`,
    );
  }
  if (r !== 1 && r !== x.shape.length) {
    // The stock kernel expands such ids at the wrong axis (it throws or broadcasts oddly); the embedding gradient
    // only ever uses 1-d ids.
    throw new Error(
      `UnsortedSegmentSum: segmentIds must be 1-d or have the rank of x; got shapes [${segmentIds.shape.join(',')}] and [${x.shape.join(',')}]`,
    );
  }
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`UnsortedSegmentSum: numSegments must be an integer >= 0, got ${String(numSegments)}`);
  }
  if (x.dtype === 'complex64' || x.dtype === 'string') {
    throw new Error(`UnsortedSegmentSum: x dtype ${x.dtype} is not supported`);
  }
  return [numSegments, ...x.shape.slice(1)];
}

interface KernelArgs {
  inputs: { x?: TensorInfo; segmentIds?: TensorInfo };
  attrs?: { numSegments?: number };
}

function unpack(args: KernelArgs): { x: TensorInfo; ids: TensorInfo; numSegments: number } {
  const { x, segmentIds } = args.inputs;
  if (x == null || segmentIds == null) throw new Error('UnsortedSegmentSum: inputs x and segmentIds are required');
  const numSegments = Number(args.attrs?.numSegments);
  return { x, ids: segmentIds, numSegments };
}

function cpuKernel(args: KernelArgs & { backend: unknown }): TensorInfo {
  const backend = args.backend as CpuBackendLike;
  const { x, ids, numSegments } = unpack(args);
  const outShape = checkArgs(x, ids, numSegments);
  const out = new Float32Array(sizeOf(outShape));
  const xv = backend.readSync(x.dataId) as NumericArray;
  const iv = backend.readSync(ids.dataId) as NumericArray;
  scatterAdd(xv, x.shape, iv, ids.shape, numSegments, out);
  return backend.makeTensorInfo(outShape, 'float32', out);
}

function wasmKernel(args: KernelArgs & { backend: unknown }): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, ids, numSegments } = unpack(args);
  const outShape = checkArgs(x, ids, numSegments);
  // Allocate first: a heap growth during malloc would detach views taken earlier.
  const outInfo = backend.makeOutput(outShape, 'float32');
  const out = backend.typedArrayFromHeap(outInfo) as Float32Array;
  // Views straight onto the wasm heap: no copies of the (large) gradient in or out.
  const xv = backend.typedArrayFromHeap(x);
  const iv = backend.typedArrayFromHeap(ids);
  scatterAdd(xv, x.shape, iv, ids.shape, numSegments, out);
  return outInfo;
}

/**
 * Register a plain scatter-add `UnsortedSegmentSum` kernel (the gradient of the Embedding gather) for the `cpu`
 * and `wasm` backends. The stock cpu kernel issues tensor ops once per segment (about 42 s per batch with a
 * 10,000-word vocabulary) and wasm has none, so training an Embedding fails there.
 *
 * A kernel already registered for a backend is unregistered first (and kept, see {@link stockKernel}).
 * Idempotent: only the first call does anything. Safe to call before the wasm backend is loaded.
 */
export function registerEmbeddingKernels(): void {
  if (registered) return;
  for (const backendName of BACKENDS) {
    const existing = tf.getKernel(KERNEL, backendName) as KernelConfig | undefined;
    if (existing != null) {
      replaced.set(backendName, existing);
      tf.unregisterKernel(KERNEL, backendName);
    }
    tf.registerKernel({
      kernelName: KERNEL,
      backendName,
      kernelFunc: (backendName === 'cpu' ? cpuKernel : wasmKernel) as unknown as KernelConfig['kernelFunc'],
    });
  }
  registered = true;
}

/**
 * The kernel that was registered for `backendName` before {@link registerEmbeddingKernels} replaced it
 * (for parity tests), or undefined if there was none.
 */
export function stockKernel(backendName: string): KernelConfig | undefined {
  return replaced.get(backendName);
}
