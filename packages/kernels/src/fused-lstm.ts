import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { heapAccess, makeHeapStepMatmul, makeStepMatmul } from './fast-kernels.js';
import { heapGemm, type Gemm } from './gemm-wasm.js';
import { giveGateWorkspace, takeGateWorkspace, takeHeapGates, type HeapGates } from './lstm-gates.js';
import { gemm, transposeInto, type RecurrentActivation } from './lstm-math.js';
import { mark, profiling, record } from './profile.js';
import { heapAddr, heapTensor, heapView, outstanding, recordingGradient, trackOutstanding } from './heap.js';

/** Where the last fused pass kept its work memory and ran its gate math (tests and benchmarks). */
export type FusedLstmPath = 'heap-gemm' | 'heap' | 'wasm' | 'js';
let lastPath: FusedLstmPath | undefined;

/**
 * The path of the last forward pass: `heap-gemm` (wasm gate math and sweepq's own wasm matmuls, all over tensors on the
 * tfjs wasm heap), `heap` (the same with tfjs' matmuls), `wasm` (wasm gate math
 * in a memory of its own, with copies in and out), `js` (the JS loops); undefined before the first pass.
 */
export function fusedLstmLastPath(): FusedLstmPath | undefined {
  return lastPath;
}

/** Options of {@link fusedLstmLastOutput}. */
export interface FusedLstmOptions {
  /** Gate activation; default `sigmoid`. The candidate and output activations are `tanh`. */
  recurrentActivation?: RecurrentActivation;
  /** Recurrent dropout mask `[B, H]` applied to `h_{t-1}` at every step (values 0 or 1/(1-rate)); default none. */
  recurrentMask?: tf.Tensor2D;
  /**
   * Input dropout mask `[B, D]` applied to `x_t` at every step (values 0 or 1/(1-rate)); default none. The same as
   * multiplying `xtm` by it beforehand, but applied inside the op: on the cpu backend a broadcast multiply and its
   * gradient cost about 90 ms per seed-shape step, the masking here under 1 ms.
   */
  inputMask?: tf.Tensor2D;
}

/**
 * The last output `h_T` of an LSTM over a time-major input `xtm` `[T, B, D]` with Keras weights `kernel` `[D, 4H]`,
 * `recurrentKernel` `[H, 4H]`, `bias` `[4H]` (gate order i, f, c, o), zero initial state; differentiable with a
 * hand-written BPTT (`tf.customGrad`).
 *
 * Forward: one `[T·B, D] x [D, 4H]` matmul for the input projection of all steps (bias fused), then per step one
 * `[B, H] x [H, 4H]` matmul and the gate math on typed arrays. Backward: per step the gate-gradient math and one
 * `[B, 4H] x [4H, H]` matmul; the weight and input gradients are three large matmuls over all steps at once
 * (`dW = Xᵀ·dZ`, `dU = Hᵀ·dZ`, `dX = dZ·Wᵀ`; on tensor backends the first two as `(dZᵀ·X)ᵀ` and `(dZᵀ·H)ᵀ`
 * from the transposed `dZᵀ` the backward steps write).
 *
 * On the wasm backend (fast paths on, D and H multiples of 4) every one of these products runs sweepq's own wasm matmul
 * (`gemm-wasm.ts`, relaxed SIMD where available) over the tfjs heap: the input projection without the bias (the gate
 * math adds it), each step's `h_{t-1}·U` added into `z[t]` in place, and `Xᵀ·dZ`, `Hᵀ·dZ` read from X, H and dZ as
 * they are stored (no `dZᵀ`). Path taken: {@link fusedLstmLastPath}.
 */
export function fusedLstmLastOutput(
  xtm: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  opts: FusedLstmOptions = {},
): tf.Tensor2D {
  const hard = (opts.recurrentActivation ?? 'sigmoid') === 'hardSigmoid';
  const [T, B, D] = xtm.shape;
  const H = recurrentKernel.shape[0];
  const G = 4 * H;
  if (kernel.shape[0] !== D || kernel.shape[1] !== G || recurrentKernel.shape[1] !== G || bias.shape[0] !== G) {
    throw new Error(
      `fused LSTM: shapes do not fit: x [${xtm.shape.join(',')}], kernel [${kernel.shape.join(',')}], ` +
        `recurrent kernel [${recurrentKernel.shape.join(',')}], bias [${bias.shape.join(',')}]`,
    );
  }
  const rmask = opts.recurrentMask == null ? null : (opts.recurrentMask.dataSync() as Float32Array).slice();
  const imask = opts.inputMask == null ? null : (opts.inputMask.dataSync() as Float32Array).slice();
  if (imask !== null && imask.length !== B * D) throw new Error(`fused LSTM: input mask must be [${B}, ${D}]`);
  const op = tf.customGrad((...args: unknown[]) => {
    const [x, W, U, b] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const save = args[4] as (tensors: tf.Tensor[]) => void;
    const t0 = mark();
    let x2 = tf.reshape(x, [T * B, D]) as tf.Tensor2D;
    if (imask !== null) {
      // Row r = t·B + b of x2 is masked with row b of the mask.
      const xv = x2.dataSync() as Float32Array;
      const xm = new Float32Array(T * B * D);
      for (let r = 0; r < T * B; r++) {
        const mo = (r % B) * D;
        const ro = r * D;
        for (let d = 0; d < D; d++) xm[ro + d] = xv[ro + d]! * imask[mo + d]!;
      }
      x2 = tf.tensor2d(xm, [T * B, D]);
    }
    // On the pure-JS cpu backend, register-blocked typed-array loops (about 2.5-3 GFLOP/s) beat tfjs-cpu's matmul
    // (about 0.4-0.6 GFLOP/s here) by about 5x.
    const jsMatmuls = tf.getBackend() === 'cpu';
    if (!jsMatmuls) {
      // sweepq's own matmul needs its column counts (4H, and D and H for the gradients) to be multiples of 4.
      const gemm = D % 4 === 0 && H % 4 === 0 ? heapGemm() : null;
      const onHeap = heapPass(T, B, D, H, hard, imask, rmask, x2, W, U, b, save, gemm);
      if (onHeap !== null) {
        lastPath = gemm !== null ? 'heap-gemm' : 'heap';
        return onHeap;
      }
    }
    const heap = heapAccess();
    // All arrays of the pass (input projection, saved gates and states, h_{t-1} sequence, later dZ) live in one
    // workspace, whose gate math runs in wasm SIMD or in JS (see lstm-gates.ts); pooled, given back by the gradient.
    const ws = takeGateWorkspace(T, B, H);
    lastPath = ws.kind;
    const buf = ws.buf;
    const zView = buf.subarray(ws.zOff, ws.zOff + T * B * G);
    // The input projection: computed in JS (cpu), copied from the wasm heap (fast path), or read out of the backend.
    if (jsMatmuls) {
      gemm(x2.dataSync() as Float32Array, 0, T * B, D, W.dataSync() as Float32Array, G, zView);
      const bv = b.dataSync() as Float32Array;
      for (let r = 0; r < T * B; r++) for (let k = 0; k < G; k++) zView[r * G + k] = zView[r * G + k]! + bv[k]!;
    } else {
      const zT = tf.fused.matMul({ a: x2, b: W, bias: b });
      zView.set(heap != null ? heap.view(zT) : (zT.dataSync() as Float32Array));
      zT.dispose();
    }
    record('fwd.inputProjection', t0);
    const t1 = mark();
    ws.begin(rmask);
    const mm = makeStepMatmul(U, B, false);
    try {
      for (let t = 0; t < T; t++) {
        if (t > 0) {
          const m0 = mark();
          mm.run(buf, ws.hpOff + t * B * H, ws.r);
          record('fwd.stepMatmul', m0);
        }
        ws.forward(t, hard);
      }
    } finally {
      mm.dispose();
    }
    save([x2, W, U]);
    const value = tf.tensor2d(ws.h.slice(), [B, H]);
    record('fwd.recurrence', t1);
    let released = false;
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      if (released) throw new Error('fused LSTM: the gradient of one forward pass can be taken only once');
      released = true;
      const g0 = mark();
      const [sx2, sW, sU] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      try {
        ws.beginBackward(dy.dataSync() as Float32Array);
        const back = makeStepMatmul(sU, B, true);
        try {
          for (let t = T - 1; t >= 0; t--) {
            ws.backward(t, hard);
            if (t > 0) {
              const m0 = mark();
              back.run(buf, ws.zOff + t * B * G, ws.dh);
              record('bwd.stepMatmul', m0);
            }
          }
        } finally {
          back.dispose();
        }
        record('bwd.recurrence', g0);
        const g1 = mark();
        const dZ = buf.subarray(ws.zOff, ws.zOff + T * B * G);
        const HP = buf.subarray(ws.hpOff, ws.hpOff + T * B * H);
        const dbias = ws.dbias();
        if (jsMatmuls) {
          // Register-blocked JS matmuls on explicitly transposed operands (transposes are O(n), the products O(n·k)).
          const dX = new Float32Array(T * B * D);
          gemm(dZ, 0, T * B, G, transposeInto(sW.dataSync() as Float32Array, 0, D, G), D, dX);
          if (imask !== null) maskRows(dX, T * B, B, D, imask);
          const dW = new Float32Array(D * G);
          gemm(transposeInto(sx2.dataSync() as Float32Array, 0, T * B, D), 0, D, T * B, dZ, G, dW);
          const dU = new Float32Array(H * G);
          gemm(transposeInto(HP, 0, T * B, H), 0, H, T * B, dZ, G, dU);
          record('bwd.weightMatmuls', g1);
          return [tf.tensor3d(dX, [T, B, D]), tf.tensor2d(dW, [D, G]), tf.tensor2d(dU, [H, G]), tf.tensor1d(dbias)];
        }
        // The wasm backend copies new tensors' values onto its heap; other backends may keep the array itself.
        const own = (a: Float32Array): Float32Array => (heap != null ? a : a.slice());
        const [dZt, dZT, hp] = [
          tf.tensor2d(own(dZ), [T * B, G]),
          tf.tensor2d(own(buf.subarray(ws.ztOff, ws.ztOff + G * T * B)), [G, T * B]),
          tf.tensor2d(own(HP), [T * B, H]),
        ];
        const res = gradientMatmuls([T, B, D], dZt, dZT, sx2, hp, sW, imask, dbias);
        tf.dispose([dZt, dZT, hp]);
        return res;
      } finally {
        giveGateWorkspace(ws);
      }
    };
    return { value, gradFunc };
  });
  return op(xtm, kernel, recurrentKernel, bias) as tf.Tensor2D;
}

/**
 * The forward pass and gradient of {@link fusedLstmLastOutput} with all work memory on the tfjs wasm heap (see
 * `HeapGates`), or null when that path is not available (then nothing was allocated and the caller goes on).
 */
function heapPass(
  T: number,
  B: number,
  D: number,
  H: number,
  hard: boolean,
  imask: Float32Array | null,
  rmask: Float32Array | null,
  x2: tf.Tensor2D,
  W: tf.Tensor2D,
  U: tf.Tensor2D,
  b: tf.Tensor1D,
  save: (tensors: tf.Tensor[]) => void,
  gemm: Gemm | null,
): { value: tf.Tensor2D; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] } | null {
  const t0 = mark();
  const G = 4 * H;
  // With the own matmul: z = x2·W without the bias, and step t adds h_{t-1}·U into z[t] itself; the gate math then adds
  // the bias from a [B, 4H] tile (cheaper than writing it into all T·B rows of z first). Else tfjs' kernels.
  const z = gemm !== null ? projectOnHeap(gemm, x2, W) : tf.fused.matMul({ a: x2, b: W, bias: b });
  const ws = takeHeapGates(T, B, H, z, gemm === null);
  const mm = ws === null ? null : gemm !== null ? ownStep(gemm, U, B, H, G) : makeHeapStepMatmul(U, B, false);
  if (ws === null || mm === null) {
    ws?.dispose();
    z.dispose();
    return null;
  }
  tf.keep(z);
  tf.keep(x2);
  const biasTile = gemm !== null ? tf.keep(biasRows(b, B)) : null;
  const entry = {
    ws,
    dispose: (): void => {
      outstanding.delete(entry);
      ws.dispose();
      tf.dispose(biasTile === null ? [z, x2] : [z, x2, biasTile]);
    },
  };
  record('fwd.inputProjection', t0);
  const t1 = mark();
  try {
    ws.begin(rmask);
    for (let t = 0; t < T; t++) {
      if ('addInto' in mm) {
        const m0 = mark();
        if (t > 0) mm.addInto(ws.hpAddr(t), ws.dzAddr(t));
        record('fwd.stepMatmul', m0);
        ws.forward(t, hard, heapAddr(biasTile!));
        continue;
      }
      if (t === 0) {
        ws.forward(0, hard, null);
        continue;
      }
      const m0 = mark();
      const r = mm.runOnHeap(ws.hpAddr(t));
      record('fwd.stepMatmul', m0);
      ws.forward(t, hard, r.addr);
      mm.release(r.info);
    }
  } catch (err) {
    entry.dispose();
    throw err;
  } finally {
    mm.dispose();
  }
  const value = tf.tensor2d(ws.lastH(), [B, H]);
  record('fwd.recurrence', t1);
  if (!recordingGradient()) {
    // Inference: no gradient will come for this pass.
    entry.dispose();
    return { value, gradFunc: () => [] };
  }
  // W and U are small: saved (cloned) by the engine as usual. z, x2 and the workspace are kept here instead: the
  // engine's save clones (copies) every saved tensor, about 5 MB for these per seed-shape step.
  save([W, U]);
  trackOutstanding(entry);
  let released = false;
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
    if (released || !outstanding.has(entry)) throw new Error('fused LSTM: the gradient of one forward pass can be taken only once');
    released = true;
    const g0 = mark();
    const [sW, sU] = saved as [tf.Tensor2D, tf.Tensor2D];
    try {
      ws.beginBackward(dy.dataSync() as Float32Array);
      if (gemm !== null) return ownBackward(gemm, ws, [T, B, D], hard, x2, z as tf.Tensor2D, sW, sU, imask);
      const back = makeHeapStepMatmul(sU, B, true);
      if (back === null) throw new Error('fused LSTM: the wasm fast path went away between the forward pass and its gradient');
      let dh: { info: TensorInfo; addr: number } | null = null;
      try {
        for (let t = T - 1; t >= 0; t--) {
          ws.backward(t, hard, dh === null ? ws.dhAddr : dh.addr);
          if (dh !== null) back.release(dh.info);
          dh = null;
          if (t > 0) {
            const m0 = mark();
            dh = back.runOnHeap(ws.dzAddr(t));
            record('bwd.stepMatmul', m0);
          }
        }
      } finally {
        if (dh !== null) back.release(dh.info);
        back.dispose();
      }
      record('bwd.recurrence', g0);
      const dbias = ws.dbias();
      // z now holds dZ.
      return gradientMatmuls([T, B, D], z as tf.Tensor2D, ws.zt!, x2, ws.hp, sW, imask, dbias);
    } finally {
      entry.dispose();
    }
  };
  return { value, gradFunc };
}

/** The input projection `x2·W` (`[T·B, 4H]`, without the bias) with the own matmul, in a new heap tensor. */
function projectOnHeap(gemm: Gemm, x2: tf.Tensor2D, W: tf.Tensor2D): tf.Tensor2D {
  const [R, D] = x2.shape;
  const G = W.shape[1];
  const z = heapTensor([R, G]) as tf.Tensor2D;
  gemm.nn(R, G, D, heapAddr(x2), 4 * D, heapAddr(W), 4 * G, heapAddr(z), 4 * G, false);
  return z;
}

/** `[B, 4H]`: the bias in every row, written on the heap directly (tfjs-wasm's Tile took about 0.5 ms for this). */
function biasRows(b: tf.Tensor1D, B: number): tf.Tensor2D {
  const G = b.shape[0];
  const bv = b.dataSync() as Float32Array;
  // The view is taken after the allocation (a heap growth would detach an earlier one).
  const t = heapTensor([B, G]) as tf.Tensor2D;
  const v = heapView(t);
  for (let r = 0; r < B; r++) v.set(bv, r * G);
  return t;
}

/** The forward recurrent product with the own matmul: `z[t] += h_{t-1} · U` in place (U `[H, 4H]`). */
function ownStep(gemm: Gemm, U: tf.Tensor2D, B: number, H: number, G: number): { addInto(hpAddr: number, zAddr: number): void; dispose(): void } {
  return {
    addInto: (hpAddr, zAddr) => gemm.nn(B, G, H, hpAddr, 4 * H, heapAddr(U), 4 * G, zAddr, 4 * G, true),
    dispose: () => {},
  };
}

/**
 * The gradient of a heap pass with the own matmul: per step the gate gradients and `dh_{t-1} = dZ[t] · Uᵀ` (written
 * where the next backward step reads it), then `dX = dZ · Wᵀ`, `dW = Xᵀ · dZ` and `dU = Hᵀ · dZ` straight from the
 * row-major operands (the transposed product reads X and the `h_{t-1}` sequence as they are; no `dZᵀ` needed).
 */
function ownBackward(
  gemm: Gemm,
  ws: HeapGates,
  xShape: [number, number, number],
  hard: boolean,
  x2: tf.Tensor2D,
  dZ: tf.Tensor2D,
  W: tf.Tensor2D,
  U: tf.Tensor2D,
  imask: Float32Array | null,
): tf.Tensor[] {
  const g0 = mark();
  const [T, B, D] = xShape;
  const H = U.shape[0];
  const G = 4 * H;
  const [UT, WT] = [tf.transpose(U), tf.transpose(W)];
  try {
    const ut = heapAddr(UT);
    for (let t = T - 1; t >= 0; t--) {
      ws.backward(t, hard, ws.dhAddr);
      if (t > 0) {
        const m0 = mark();
        gemm.nn(B, H, G, ws.dzAddr(t), 4 * G, ut, 4 * H, ws.dhAddr, 4 * H, false);
        record('bwd.stepMatmul', m0);
      }
    }
    record('bwd.recurrence', g0);
    const g1 = mark();
    const dbias = tf.tensor1d(ws.dbias());
    // Allocate every output first: an allocation may grow the heap (addresses stay valid, views do not).
    let dX = heapTensor([T, B, D]) as tf.Tensor3D;
    const dW = heapTensor([D, G]) as tf.Tensor2D;
    const dU = heapTensor([H, G]) as tf.Tensor2D;
    const dz = heapAddr(dZ);
    gemm.nn(T * B, D, G, dz, 4 * G, heapAddr(WT), 4 * D, heapAddr(dX), 4 * D, false);
    gemm.tn(D, G, T * B, heapAddr(x2), 4 * D, dz, 4 * G, heapAddr(dW), 4 * G, false);
    gemm.tn(H, G, T * B, heapAddr(ws.hp), 4 * H, dz, 4 * G, heapAddr(dU), 4 * G, false);
    if (imask !== null) {
      const masked = tf.tidy(() => tf.mul(dX, tf.tensor3d(imask, [1, B, D])));
      dX.dispose();
      dX = masked as tf.Tensor3D;
    }
    record('bwd.weightMatmuls', g1);
    return [dX, dW, dU, dbias];
  } finally {
    tf.dispose([UT, WT]);
  }
}

/**
 * The input, kernel, recurrent-kernel and bias gradients from the pre-activation gradients `dZ` `[T·B, 4H]` and their
 * transpose `dZᵀ`, the inputs `x2` `[T·B, D]` and the `h_{t-1}` sequence `hp` `[T·B, H]`: `dX = dZ·Wᵀ` (masked by the
 * input dropout mask), and `dW`, `dU` as `(dZᵀ·X)ᵀ`, `(dZᵀ·H)ᵀ`, plain matmuls whose right-hand side (the operand
 * XNNPACK packs on every call, as the tensor is new) is the narrow `[T·B, 64]` one; the textbook `Xᵀ·dZ` packs the
 * `[T·B, 4H]` dZ instead, which cost more than the product itself. Timed when profiling.
 */
function gradientMatmuls(
  xShape: [number, number, number],
  dZ: tf.Tensor2D,
  dZT: tf.Tensor2D,
  x2: tf.Tensor2D,
  hp: tf.Tensor2D,
  W: tf.Tensor2D,
  imask: Float32Array | null,
  dbias: Float32Array,
): tf.Tensor[] {
  const g1 = mark();
  const [, B, D] = xShape;
  const res = tf.tidy(() => {
    let dX = tf.reshape(tf.matMul(dZ, W, false, true), xShape);
    if (imask !== null) dX = tf.mul(dX, tf.tensor3d(imask, [1, B, D]));
    return [dX, tf.transpose(tf.matMul(dZT, x2)), tf.transpose(tf.matMul(dZT, hp)), tf.tensor1d(dbias)];
  });
  if (profiling()) {
    for (const t of res) t.dataSync();
    record('bwd.weightMatmuls', g1);
  }
  return res;
}

/** `a[r, d] *= mask[r mod B, d]` for the `R` rows of `a` (`[R, D]`). */
function maskRows(a: Float32Array, R: number, B: number, D: number, mask: Float32Array): void {
  for (let r = 0; r < R; r++) {
    const mo = (r % B) * D;
    const ro = r * D;
    for (let d = 0; d < D; d++) a[ro + d] = a[ro + d]! * mask[mo + d]!;
  }
}
