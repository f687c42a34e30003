import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';

/**
 * Faster `cpu` kernels for the two stock kernels that dominate a training step once the LSTM is fused: `GatherV2` on
 * axis 0 (the embedding lookup and the lazy Adam row reads; the stock kernel computes a multi-index per element,
 * about 50 ms for 3,200 rows of 64) and `Transpose` (same per-element index arithmetic: 65 ms for a 10,000 x 64
 * table). Plain typed-array loops through the cpu backend's public `readSync`/`makeTensorInfo`; every case they do not
 * handle goes to the stock kernel. Results are identical (pure data movement).
 */

interface CpuBackendLike {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: string, values: ArrayLike<number> | Float32Array | Int32Array): TensorInfo;
}

type KernelFunc = (args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }) => TensorInfo;

const replaced = new Map<string, KernelConfig>();
let on = false;

function stock(name: string): KernelFunc {
  const cfg = replaced.get(name) ?? (tf.getKernel(name, 'cpu') as KernelConfig);
  return cfg.kernelFunc as unknown as KernelFunc;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function numeric(v: unknown): v is Float32Array | Int32Array {
  return v instanceof Float32Array || v instanceof Int32Array;
}

function gatherKernel(args: { inputs: { x: TensorInfo; indices: TensorInfo }; attrs: { axis: number; batchDims: number }; backend: unknown }): TensorInfo {
  const { x, indices } = args.inputs;
  const { axis, batchDims } = args.attrs;
  const backend = args.backend as CpuBackendLike;
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const xv = backend.readSync(x.dataId);
  const iv = backend.readSync(indices.dataId);
  if (ax !== 0 || (batchDims ?? 0) !== 0 || !numeric(xv) || !(iv instanceof Int32Array) || (x.dtype !== 'float32' && x.dtype !== 'int32')) {
    return stock('GatherV2')(args as never);
  }
  const rows = x.shape[0] ?? 0;
  const row = rows === 0 ? 0 : sizeOf(x.shape) / rows;
  const out = xv instanceof Float32Array ? new Float32Array(iv.length * row) : new Int32Array(iv.length * row);
  for (let i = 0; i < iv.length; i++) {
    const r = iv[i]!;
    if (r < 0 || r >= rows) throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
    const s = r * row;
    const d = i * row;
    for (let k = 0; k < row; k++) out[d + k] = xv[s + k]!;
  }
  return backend.makeTensorInfo([...indices.shape, ...x.shape.slice(1)], x.dtype, out);
}

function transposeKernel(args: { inputs: { x: TensorInfo }; attrs: { perm: number[] }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  const { perm } = args.attrs;
  const backend = args.backend as CpuBackendLike;
  const xv = backend.readSync(x.dataId);
  const rank = x.shape.length;
  if (!numeric(xv) || rank < 2 || rank > 3 || (x.dtype !== 'float32' && x.dtype !== 'int32')) return stock('Transpose')(args as never);
  const outShape = perm.map((p) => x.shape[p]!);
  const out = xv instanceof Float32Array ? new Float32Array(xv.length) : new Int32Array(xv.length);
  if (perm.every((p, i) => p === i)) {
    out.set(xv);
  } else if (rank === 2) {
    const [R, C] = x.shape as [number, number];
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = xv[r * C + c]!;
  } else {
    // Input strides, in the order of the output's axes.
    const [d0, d1, d2] = x.shape as [number, number, number];
    const xs = [d1 * d2, d2, 1];
    const s0 = xs[perm[0]!]!;
    const s1 = xs[perm[1]!]!;
    const s2 = xs[perm[2]!]!;
    const [o0, o1, o2] = outShape as [number, number, number];
    void d0;
    let w = 0;
    for (let i = 0; i < o0; i++) {
      for (let j = 0; j < o1; j++) {
        let src = i * s0 + j * s1;
        for (let k = 0; k < o2; k++, src += s2) out[w++] = xv[src]!;
      }
    }
  }
  return backend.makeTensorInfo(outShape, x.dtype, out);
}

const FAST_CPU: Record<string, unknown> = { GatherV2: gatherKernel, Transpose: transposeKernel };

/** Register the faster cpu `GatherV2` and `Transpose` kernels (idempotent); undo with {@link unregisterFastCpuKernels}. */
export function registerFastCpuKernels(): void {
  if (on) return;
  for (const [name, kernelFunc] of Object.entries(FAST_CPU)) {
    const s = tf.getKernel(name, 'cpu') as KernelConfig | undefined;
    if (s == null) continue;
    replaced.set(name, s);
    tf.unregisterKernel(name, 'cpu');
    const cfg: KernelConfig = { kernelName: name, backendName: 'cpu', kernelFunc: kernelFunc as KernelConfig['kernelFunc'] };
    if (s.setupFunc != null) cfg.setupFunc = s.setupFunc;
    if (s.disposeFunc != null) cfg.disposeFunc = s.disposeFunc;
    tf.registerKernel(cfg);
  }
  on = true;
}

/** Put the stock cpu kernels back (benchmarks of the stock path use this). */
export function unregisterFastCpuKernels(): void {
  if (!on) return;
  for (const [name, s] of replaced) {
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel(s);
  }
  replaced.clear();
  on = false;
}
