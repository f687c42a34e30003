import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';

/**
 * The tfjs version whose wasm backend internals the fast paths here were written and checked against. Anything that
 * reaches below tfjs' public op API (kernel functions called directly, the wasm heap read in place) is enabled only
 * on this exact version and after a functional self-test; otherwise the public path is used and a warning issued.
 */
export const PINNED_TFJS_VERSION = '4.22.0';

/** The members of tfjs-backend-wasm's `BackendWasm` the fast paths use. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

type KernelFunc = (args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }) => TensorInfo;

let warnSink: (message: string) => void = (message) => process.emitWarning(message, { code: 'SWEEPQ_TFJS_INTERNALS' });

/** Where warnings about disabled fast paths go; default `process.emitWarning` (code `SWEEPQ_TFJS_INTERNALS`). */
export function setFastPathWarningSink(sink: (message: string) => void): void {
  warnSink = sink;
}

const warned = new Set<string>();
/** Issue `message` to the warning sink (see {@link setFastPathWarningSink}) unless it was issued before. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  warnSink(message);
}

/** Result of {@link wasmInternalsStatus}. */
export type InternalsStatus = { ok: true } | { ok: false; reason: string };

/**
 * Whether the wasm fast paths may be used with `backend` under tfjs `version`: the version must be
 * {@link PINNED_TFJS_VERSION}, the backend must have the members used, and the stock kernels wrapped must exist.
 * Pure check (no side effects), exported so tests can detect a tfjs upgrade that silently disables the fast paths.
 */
export function wasmInternalsStatus(backend: unknown, version: string = tf.version.tfjs): InternalsStatus {
  if (version !== PINNED_TFJS_VERSION) {
    return { ok: false, reason: `tfjs ${version} is not the version the wasm fast paths are pinned to (${PINNED_TFJS_VERSION})` };
  }
  const b = backend as Partial<Record<keyof WasmBackendLike, unknown>> | null | undefined;
  if (b == null) return { ok: false, reason: 'no wasm backend instance' };
  for (const m of ['makeOutput', 'typedArrayFromHeap', 'disposeData', 'incRef'] as const) {
    if (typeof b[m] !== 'function') return { ok: false, reason: `wasm backend has no ${m}() method` };
  }
  if (b.dataIdMap == null || typeof (b.dataIdMap as { get?: unknown }).get !== 'function') {
    return { ok: false, reason: 'wasm backend has no dataIdMap' };
  }
  for (const k of ['BatchMatMul', 'Transpose', 'Slice', 'GatherV2']) {
    if (stockKernelFunc(k) == null) return { ok: false, reason: `wasm backend has no ${k} kernel` };
  }
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------------------------
// The guard of the paths that read and write the wasm heap in place.

let wasmSelfTest: InternalsStatus | undefined;
let forcePublic = false;

/** Force the public path on wasm (the fused recurrent op off), for tests of the fallback; returns the previous setting. */
export function forcePublicWasmPath(on: boolean): boolean {
  const prev = forcePublic;
  forcePublic = on;
  return prev;
}

/** Whether the wasm fast paths are active for the current backend (version pinned, members present, self-test ok). */
export function wasmFastPathStatus(): InternalsStatus {
  if (tf.getBackend() !== 'wasm') return { ok: false, reason: `active backend is ${tf.getBackend()}, not wasm` };
  if (forcePublic) return { ok: false, reason: 'public path forced' };
  const backend = tf.backend();
  const s = wasmInternalsStatus(backend);
  if (!s.ok) return s;
  wasmSelfTest ??= selfTest(backend as unknown as WasmBackendLike);
  return wasmSelfTest;
}

/**
 * What the heap paths assume of the backend, tried once: a tensor made with `makeOutput` and written through
 * `typedArrayFromHeap` reads back through the public API, and lies in the heap memory at its `memoryOffset`.
 */
function selfTest(backend: WasmBackendLike): InternalsStatus {
  try {
    const memory = (backend as unknown as { wasm?: { asm?: { memory?: { buffer?: unknown } } } }).wasm?.asm?.memory;
    if (!(memory?.buffer instanceof ArrayBuffer)) return { ok: false, reason: 'wasm backend exposes no heap memory' };
    const info = backend.makeOutput([6], 'float32');
    const t = tf.engine().makeTensorFromTensorInfo(info);
    try {
      (backend.typedArrayFromHeap(info) as Float32Array).set([8, 10, 12, 3, 3, 3]);
      const at = backend.dataIdMap.get(info.dataId)?.memoryOffset ?? -1;
      const inPlace = Array.from(new Float32Array(memory.buffer, at, 6));
      const read = Array.from(t.dataSync());
      if (read.join() !== '8,10,12,3,3,3' || inPlace.join() !== read.join()) {
        return { ok: false, reason: `self-test read [${read.join(',')}] and [${inPlace.join(',')}] at its heap address` };
      }
      return { ok: true };
    } finally {
      t.dispose();
    }
  } catch (err) {
    return { ok: false, reason: `self-test failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Replacement wasm kernels.

const replacedWasm = new Map<string, KernelConfig>();
let fastKernelsOn = false;

function stockKernelFunc(name: string): KernelFunc | undefined {
  const cfg = replacedWasm.get(name) ?? (tf.getKernel(name, 'wasm') as KernelConfig | undefined);
  return cfg?.kernelFunc as unknown as KernelFunc | undefined;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/**
 * Slice without the stock kernel's full copy of the input (`readSync` copies the whole tensor out of the heap for
 * every slice): reads the heap in place, copying contiguous runs of the innermost dimension.
 */
function sliceKernel(args: { inputs: { x: TensorInfo }; attrs: { begin: number | number[]; size: number | number[] }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  const backend = args.backend as WasmBackendLike;
  if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return stockKernelFunc('Slice')!(args as never);
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, args.attrs.begin, args.attrs.size) as [number[], number[]];
  const out = backend.makeOutput(size, x.dtype as 'float32');
  const total = sizeOf(size);
  if (total === 0) return out;
  const outV = backend.typedArrayFromHeap(out);
  const xV = backend.typedArrayFromHeap(x);
  const rank = x.shape.length;
  const xs = strides(x.shape);
  const inner = rank === 0 ? 1 : size[rank - 1]!;
  const rows = total / inner;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  for (let r = 0; r < rows; r++) {
    let off = rank === 0 ? 0 : begin[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) off += (begin[d]! + idx[d]!) * xs[d]!;
    outV.set(xV.subarray(off, off + inner), r * inner);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < size[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Gather along axis 0 (the embedding lookup) as row copies on the heap; other cases go to the stock kernel. */
function gatherKernel(args: { inputs: { x: TensorInfo; indices: TensorInfo }; attrs: { axis: number; batchDims: number }; backend: unknown }): TensorInfo {
  const { x, indices } = args.inputs;
  const { axis, batchDims } = args.attrs;
  const backend = args.backend as WasmBackendLike;
  const ax = axis < 0 ? axis + x.shape.length : axis;
  if (ax !== 0 || (batchDims ?? 0) !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') {
    return stockKernelFunc('GatherV2')!(args as never);
  }
  const rows = x.shape[0] ?? 0;
  const row = rows === 0 ? 0 : sizeOf(x.shape) / rows;
  const outShape = [...indices.shape, ...x.shape.slice(1)];
  const out = backend.makeOutput(outShape, x.dtype);
  const outV = backend.typedArrayFromHeap(out);
  const xV = backend.typedArrayFromHeap(x);
  const iV = backend.typedArrayFromHeap(indices);
  // Row copies as memmoves inside one 4-byte view of the heap (both dtypes are 4 bytes wide): no subarray per row.
  const heap = new Int32Array(outV.buffer);
  const outAt = outV.byteOffset >> 2;
  const xAt = xV.byteOffset >> 2;
  for (let i = 0; i < iV.length; i++) {
    const r = iV[i]!;
    if (r < 0 || r >= rows) {
      backend.disposeData(out.dataId);
      throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
    }
    heap.copyWithin(outAt + i * row, xAt + r * row, xAt + r * row + row);
  }
  return out;
}

/**
 * BatchMatMul with transposeA/transposeB as an explicit transpose followed by the plain kernel: the wasm kernel's
 * transposed variants are about 10x slower than a plain matmul, and every matmul gradient uses them.
 */
function batchMatMulKernel(args: { inputs: { a: TensorInfo; b: TensorInfo }; attrs: { transposeA: boolean; transposeB: boolean }; backend: unknown }): TensorInfo {
  const { a, b } = args.inputs;
  const { transposeA, transposeB } = args.attrs;
  const mm = stockKernelFunc('BatchMatMul')!;
  if (!transposeA && !transposeB) return mm(args as never);
  const backend = args.backend as WasmBackendLike;
  const tr = stockKernelFunc('Transpose')!;
  const swapLast = (t: TensorInfo): TensorInfo => {
    const perm = t.shape.map((_, i) => i);
    const n = perm.length;
    perm[n - 1] = n - 2;
    perm[n - 2] = n - 1;
    return tr({ inputs: { x: t }, attrs: { perm }, backend });
  };
  const at = transposeA ? swapLast(a) : a;
  const bt = transposeB ? swapLast(b) : b;
  try {
    return mm({ inputs: { a: at, b: bt }, attrs: { transposeA: false, transposeB: false }, backend });
  } finally {
    if (at !== a) backend.disposeData(at.dataId);
    if (bt !== b) backend.disposeData(bt.dataId);
  }
}

/**
 * Transpose whose permutation moves nothing (the embedding gradient transposes its [T·B, D] values and its
 * [vocab, D] result with identity permutations) as a shared reference, like the stock Reshape, instead of the stock
 * kernel's full copy (2.5 MB per seed-shape step for the result). Writers in place check the reference count first
 * (`adam-wasm.ts` `writable`), as they must for reshapes already. Other permutations go to the stock kernel.
 */
function transposeKernel(args: { inputs: { x: TensorInfo }; attrs: { perm: number[] }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  const { perm } = args.attrs;
  if (x.dtype === 'string' || perm.length !== x.shape.length || perm.some((p, i) => p !== i)) return stockKernelFunc('Transpose')!(args as never);
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * Reverse along one axis as block copies on the heap: tfjs-wasm 4.22's kernel took about 4 ms for a `[32, 100, 64]`
 * float tensor, where `Bidirectional` reverses its backward direction's output sequence (and its gradient again) on
 * every step. Several axes, or other dtypes, go to the stock kernel.
 */
function reverseKernel(args: { inputs: { x: TensorInfo }; attrs: { dims: number | number[] }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  const dims = Array.isArray(args.attrs.dims) ? args.attrs.dims : [args.attrs.dims];
  const rank = x.shape.length;
  const axis = dims.length === 1 && Number.isInteger(dims[0]) ? (dims[0]! < 0 ? dims[0]! + rank : dims[0]!) : -1;
  // No axis (all of them), several, one out of range, or another dtype: the stock kernel (which also reports bad axes).
  if (axis < 0 || axis >= rank || (x.dtype !== 'float32' && x.dtype !== 'int32')) return stockKernelFunc('Reverse')!(args as never);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([...x.shape], x.dtype);
  const len = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  if (len * inner * outer === 0) return out;
  const outV = backend.typedArrayFromHeap(out);
  const xV = backend.typedArrayFromHeap(x);
  for (let o = 0; o < outer; o++) {
    const base = o * len * inner;
    for (let l = 0; l < len; l++) {
      const from = base + (len - 1 - l) * inner;
      outV.set(xV.subarray(from, from + inner), base + l * inner);
    }
  }
  return out;
}

const FAST_WASM: Record<string, (args: never) => TensorInfo> = {
  Reverse: reverseKernel as (args: never) => TensorInfo,
  Transpose: transposeKernel as (args: never) => TensorInfo,
  Slice: sliceKernel as (args: never) => TensorInfo,
  GatherV2: gatherKernel as (args: never) => TensorInfo,
  BatchMatMul: batchMatMulKernel as (args: never) => TensorInfo,
};

/**
 * Register faster wasm kernels for what the training step trips over: `Slice` (no whole-tensor copy per slice),
 * `Reverse` along one axis (block copies),
 * `GatherV2` on axis 0 (row copies in place), and `BatchMatMul` with transpose flags (explicit transpose first).
 * They keep the stock kernels' setup functions and delegate every case they do not handle to them. Enabled only when
 * {@link wasmInternalsStatus} holds for tfjs' version (the wasm backend need not be initialised yet); otherwise a
 * warning is issued and the stock kernels stay. Idempotent; undo with {@link unregisterFastKernels}.
 *
 * @returns whether the fast kernels are registered.
 */
export function registerFastKernels(): boolean {
  if (fastKernelsOn) return true;
  if (tf.version.tfjs !== PINNED_TFJS_VERSION) {
    warnOnce(`sweepq: fast wasm kernels not registered: tfjs ${tf.version.tfjs} is not ${PINNED_TFJS_VERSION}`);
    return false;
  }
  for (const name of Object.keys(FAST_WASM)) {
    if (tf.getKernel(name, 'wasm') == null) {
      // wasm backend not loaded (yet); registration happens again once it is.
      return false;
    }
  }
  for (const [name, kernelFunc] of Object.entries(FAST_WASM)) {
    const stock = tf.getKernel(name, 'wasm') as KernelConfig;
    replacedWasm.set(name, stock);
    tf.unregisterKernel(name, 'wasm');
    const cfg: KernelConfig = { kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'] };
    if (stock.setupFunc != null) cfg.setupFunc = stock.setupFunc;
    if (stock.disposeFunc != null) cfg.disposeFunc = stock.disposeFunc;
    tf.registerKernel(cfg);
  }
  fastKernelsOn = true;
  return true;
}

/** Put the stock wasm kernels replaced by {@link registerFastKernels} back (benchmarks of the stock path use this). */
export function unregisterFastKernels(): void {
  if (!fastKernelsOn) return;
  for (const [name, stock] of replacedWasm) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(stock);
  }
  replacedWasm.clear();
  fastKernelsOn = false;
}

/** Whether {@link registerFastKernels} is in effect. */
export function fastKernelsRegistered(): boolean {
  return fastKernelsOn;
}
