/**
 * The fused recurrent op for every layer shape the classifier builds beyond the single last-output LSTM (which keeps
 * its own tuned path, `fused-lstm.ts`): LSTM or GRU cells, the whole output sequence (stacked layers), a Keras padding
 * mask (padded steps skipped, the state carried through them) and a recurrent dropout mask. Forward and hand-written
 * backpropagation through time, with every product on sweepq's own wasm matmul over the tfjs wasm heap and the gate
 * math over the same memory (no copies in or out): the wasm SIMD gate module (`lstm-gates-wat.ts`, `gru-gates-wat.ts`)
 * when it is compiled, else JS loops.
 *
 * Semantics are stock tfjs-layers 4.22's, so the saved model (stock `LSTM`/`GRU` classes) reproduces the training
 * model: gate order i, f, c, o (LSTM) and z, r, h (GRU, `reset_after: false`, the only form tfjs has; Keras loads it
 * with `GRU(reset_after=False)`); at a masked step the output and state are the previous ones (tfjs' `rnn`); the
 * recurrent dropout mask multiplies `h_{t-1}` wherever the cell reads it (for the GRU also in `z ⊙ h_{t-1}`, as tfjs'
 * `GRUCell` does).
 */
import * as tf from '@tensorflow/tfjs';
import { heapGemm, type Gemm } from './gemm-wasm.js';
import { heapAddr, heapFloats, heapTensor, outstanding, recordingGradient, trackOutstanding } from './heap.js';
import { heapGateKernels, type GateExports } from './lstm-gates.js';
import { sigmoidFast, tanhFast, type RecurrentActivation } from './lstm-math.js';
import { mark, record } from './profile.js';

/** The recurrent cells the op implements. */
export type CellKind = 'lstm' | 'gru';

/** Options of {@link fusedRecurrent}. */
export interface FusedRecurrentOptions {
  cell: CellKind;
  /** Gate activation; default `sigmoid`. The candidate (and LSTM output) activation is `tanh`. */
  recurrentActivation?: RecurrentActivation;
  /** Return every step's output `[T, B, H]` (time-major) instead of the last `[B, H]`. */
  returnSequences?: boolean;
  /**
   * Process the steps last to first (Keras `go_backwards`; the output sequence is then in processing order, as tfjs'
   * is). The input is reversed here by block copies on the heap (tfjs-wasm's Reverse took about 4 ms per call for a
   * `[100, 32, 64]` input, forward and gradient: the bidirectional layer's largest cost after its own steps).
   */
  goBackwards?: boolean;
  /** Padding mask, time-major `[T·B]` (element t·B + b: 1 if step t of sequence b is real, 0 if padded); default none. */
  mask?: Float32Array | null;
  /** Recurrent dropout mask `[B·H]` (0 or 1/(1-rate)) multiplying `h_{t-1}` at every step; default none. */
  recurrentMask?: Float32Array | null;
}

/** Gates per unit of a cell: 4 (LSTM: i, f, c, o), 3 (GRU: z, r, h). */
export function gatesPerUnit(cell: CellKind): number {
  return cell === 'lstm' ? 4 : 3;
}

/**
 * Whether {@link fusedRecurrent} can run here for input width D and H units: the wasm backend with sweepq's own matmul,
 * and D and H multiples of 4 (the matmul's column counts). Otherwise callers use the stock layers.
 */
export function fusedRecurrentAvailable(D: number, H: number): boolean {
  return D % 4 === 0 && H % 4 === 0 && heapGemm() !== null;
}

/** Element offsets of one pass's arrays in the heap's float view, and the pass's sizes. */
interface Pass {
  T: number;
  B: number;
  D: number;
  H: number;
  G: number;
  hard: boolean;
  lstm: boolean;
  mask: Float32Array | null;
  rmask: Float32Array | null;
  bias: Float32Array;
  /** Byte addresses. */
  x: number;
  z: number;
  w: number;
  u: number;
  hs: number;
  hm: number;
  rh: number;
  a: number;
  c: number;
  tc: number;
  tmp: number;
  /** The wasm SIMD gate module over the heap (`lstm-gates-wat.ts`, `gru-gates-wat.ts`), or null for the JS loops. */
  k: GateExports | null;
  /**
   * Byte addresses of the module's operands (with `k`): the bias `[G]` and in every row `[B, G]`, ones, zeros, the
   * recurrent mask, dh, dc (the GRU's dhm) (`[B, H]`; ones `[max(B·H, T·B)]`), the bias-gradient scratch `[G]` and the LSTM's float64 bias gradient `[G]`.
   */
  biasVec: number;
  biasRows: number;
  ones: number;
  zeros: number;
  rm: number;
  dh: number;
  dc: number;
  dbs: number;
  dbias: number;
}

/** Element offsets (16-byte aligned) of the gate module's operands within one float block, and its length. */
function kernelOperands(T: number, B: number, H: number, G: number): { offsets: Record<'biasVec' | 'biasRows' | 'ones' | 'zeros' | 'rm' | 'dh' | 'dc' | 'dbs' | 'dbias', number>; total: number } {
  let next = 0;
  const take = (n: number): number => {
    const at = next;
    next += Math.ceil(n / 4) * 4;
    return at;
  };
  const BH = B * H;
  const offsets = { biasVec: take(G), biasRows: take(B * G), ones: take(Math.max(BH, T * B)), zeros: take(BH), rm: take(BH), dh: take(BH), dc: take(BH), dbs: take(G), dbias: take(2 * G) };
  return { offsets, total: next + 4 }; // slack to align the block's start to 16 bytes
}

/**
 * The recurrent layer over a time-major input `xtm` `[T, B, D]` with Keras weights `kernel` `[D, G·H]`,
 * `recurrentKernel` `[H, G·H]` and `bias` `[G·H]` (G = 4 for LSTM, 3 for GRU), zero initial state; differentiable
 * (`tf.customGrad`). Callers check {@link fusedRecurrentAvailable} first. Input dropout is a tensor op of the caller;
 * time reversal (`goBackwards`), the recurrent dropout mask and the padding mask are applied here.
 *
 * Forward: `z = X·W` for all steps in one product, then per step `h_{t-1}·U` added into `z[t]` (for the GRU two
 * products: `h_{t-1}·U_zr`, then `(r ⊙ h_{t-1})·U_h`), and the gate math. Backward: per step the gate gradients and
 * `dZ[t]·Uᵀ` (GRU: two products), then `dX = dZ·Wᵀ`, `dW = Xᵀ·dZ`, `dU = Hᵀ·dZ` over all steps at once.
 */
export function fusedRecurrent(
  xtm: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  opts: FusedRecurrentOptions,
): tf.Tensor {
  const [T, B, D] = xtm.shape;
  const H = recurrentKernel.shape[0];
  const lstm = opts.cell === 'lstm';
  const G = gatesPerUnit(opts.cell) * H;
  if (kernel.shape[0] !== D || kernel.shape[1] !== G || recurrentKernel.shape[1] !== G || bias.shape[0] !== G) {
    throw new Error(
      `fused ${opts.cell.toUpperCase()}: shapes do not fit: x [${xtm.shape.join(',')}], kernel [${kernel.shape.join(',')}], ` +
        `recurrent kernel [${recurrentKernel.shape.join(',')}], bias [${bias.shape.join(',')}]`,
    );
  }
  const gemm = D % 4 === 0 && H % 4 === 0 ? heapGemm() : null;
  if (gemm === null) throw new Error(`fused ${opts.cell.toUpperCase()}: needs the wasm backend's own matmul and D, H multiples of 4 (got D ${D}, H ${H})`);
  const mask = opts.mask ?? null;
  const rmask = opts.recurrentMask ?? null;
  if (mask !== null && mask.length !== T * B) throw new Error(`fused recurrent op: the mask must have T·B = ${T * B} elements, got ${mask.length}`);
  if (rmask !== null && rmask.length !== B * H) throw new Error(`fused recurrent op: the recurrent mask must have B·H = ${B * H} elements, got ${rmask.length}`);
  const seq = opts.returnSequences === true;
  const backwards = opts.goBackwards === true;
  const hard = (opts.recurrentActivation ?? 'sigmoid') === 'hardSigmoid';
  const op = tf.customGrad((...args: unknown[]) => {
    const [x, W, U, b] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const save = args[4] as (tensors: tf.Tensor[]) => void;
    const t0 = mark();
    // Allocate everything first: an allocation may grow the heap (addresses stay valid, views do not). Each tensor is
    // kept (out of tidy scopes) and listed in `owned` as it is made, so a failed allocation frees the ones before it.
    const owned: tf.Tensor[] = [];
    const own = <X extends tf.Tensor>(t: X): X => {
      owned.push(tf.keep(t));
      return t;
    };
    const k = heapGateKernels();
    const ops = k === null ? null : kernelOperands(T, B, H, G);
    let x2: tf.Tensor, z: tf.Tensor, hs: tf.Tensor, hp: tf.Tensor | null, rh: tf.Tensor | null, act: tf.Tensor;
    let cs: tf.Tensor | null, tcs: tf.Tensor | null, tmp: tf.Tensor, opsT: tf.Tensor | null;
    try {
      x2 = own(backwards ? reverseSteps(x, T, B * D) : tf.reshape(x, [T * B, D]));
      z = own(heapTensor([T * B, G]));
      hs = own(heapTensor([(T + 1) * B, H])); // h_{t-1} at block t; block 0 is the zero state
      hp = rmask === null ? null : own(heapTensor([T * B, H])); // h_{t-1} ⊙ recurrent mask
      rh = lstm ? null : own(heapTensor([T * B, H])); // GRU: r ⊙ h_{t-1}
      act = own(heapTensor([T * B, G])); // activated gates
      cs = lstm ? own(heapTensor([T * B, H])) : null; // LSTM: cell states after the mask
      tcs = lstm ? own(heapTensor([T * B, H])) : null; // LSTM: tanh of the unmasked new cell state
      tmp = own(heapTensor([B, H]));
      opsT = ops === null ? null : own(heapTensor([ops.total]));
    } catch (err) {
      tf.dispose(owned);
      throw err;
    }
    const opsBase = opsT === null ? 0 : Math.ceil(heapAddr(opsT) / 16) * 16;
    const op4 = (e: number | undefined): number => (ops === null ? 0 : opsBase + 4 * e!);
    const p: Pass = {
      T,
      B,
      D,
      H,
      G,
      hard,
      lstm,
      mask,
      rmask,
      bias: (b.dataSync() as Float32Array).slice(),
      x: heapAddr(x2),
      z: heapAddr(z),
      w: heapAddr(W),
      u: heapAddr(U),
      hs: heapAddr(hs),
      hm: heapAddr(hp ?? hs),
      rh: rh === null ? 0 : heapAddr(rh),
      a: heapAddr(act),
      c: cs === null ? 0 : heapAddr(cs),
      tc: tcs === null ? 0 : heapAddr(tcs),
      tmp: heapAddr(tmp),
      k,
      biasVec: op4(ops?.offsets.biasVec),
      biasRows: op4(ops?.offsets.biasRows),
      ones: op4(ops?.offsets.ones),
      zeros: op4(ops?.offsets.zeros),
      rm: op4(ops?.offsets.rm),
      dh: op4(ops?.offsets.dh),
      dc: op4(ops?.offsets.dc),
      dbs: op4(ops?.offsets.dbs),
      dbias: op4(ops?.offsets.dbias),
    };
    if (k !== null) {
      const f = heapFloats();
      const BH = B * H;
      f.set(p.bias, p.biasVec >> 2);
      for (let r = 0; r < B; r++) f.set(p.bias, (p.biasRows >> 2) + r * G);
      f.fill(1, p.ones >> 2, (p.ones >> 2) + Math.max(BH, T * B));
      f.fill(0, p.zeros >> 2, (p.zeros >> 2) + BH);
      if (rmask !== null) f.set(rmask, p.rm >> 2);
    }
    let disposed = false;
    const entry = {
      dispose: (): void => {
        if (disposed) return;
        disposed = true;
        outstanding.delete(entry);
        tf.dispose(owned);
      },
    };
    let value: tf.Tensor;
    try {
      gemm.nn(T * B, G, D, p.x, 4 * D, p.w, 4 * G, p.z, 4 * G, false);
      record('rnn.inputProjection', t0);
      const t1 = mark();
      if (p.k === null) forwardPass(gemm, p);
      else if (lstm) forwardLstmKernels(gemm, p, p.k);
      else forwardGruKernels(gemm, p, p.k);
      record('rnn.forward', t1);
      value = seq ? heapTensor([T, B, H]) : heapTensor([B, H]);
      const f = heapFloats();
      const from = (p.hs >> 2) + (seq ? B * H : T * B * H);
      f.copyWithin(heapAddr(value) >> 2, from, (p.hs >> 2) + (T + 1) * B * H);
    } catch (err) {
      entry.dispose();
      throw err;
    }
    if (!recordingGradient()) {
      entry.dispose();
      return { value, gradFunc: () => [] };
    }
    save([W, U]);
    trackOutstanding(entry);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      if (disposed) throw new Error('fused recurrent op: the gradient of one forward pass can be taken only once');
      const [sW, sU] = saved as [tf.Tensor2D, tf.Tensor2D];
      try {
        return weightGradients(gemm, p, sW, sU, backwards, (ut) =>
          p.k === null
            ? backwardSteps(gemm, p, ut, dy.dataSync() as Float32Array, seq)
            : lstm
              ? backwardLstmKernels(gemm, p, p.k, ut, dy.dataSync() as Float32Array, seq)
              : backwardGruKernels(gemm, p, p.k, ut, dy.dataSync() as Float32Array, seq),
        );
      } finally {
        entry.dispose();
      }
    };
    return { value, gradFunc };
  });
  return op(xtm, kernel, recurrentKernel, bias);
}

/** Derivative of the gate activation from its output `a`. */
function actGrad(a: number, hard: boolean): number {
  return hard ? (a > 0 && a < 1 ? 0.2 : 0) : a * (1 - a);
}

function gate(v: number, hard: boolean): number {
  return hard ? Math.max(0, Math.min(1, 0.2 * v + 0.5)) : sigmoidFast(v);
}

/** All forward steps; writes the states, gates and outputs of `p`. */
function forwardPass(gemm: Gemm, p: Pass): void {
  const { T, B, H, G, hard, lstm, mask, rmask, bias } = p;
  const BH = B * H;
  let f = heapFloats();
  const hsE = p.hs >> 2;
  const hmE = p.hm >> 2;
  f.fill(0, hsE, hsE + BH);
  if (rmask !== null) f.fill(0, hmE, hmE + BH);
  for (let t = 0; t < T; t++) {
    const zT = p.z + 4 * t * B * G;
    const hmT = p.hm + 4 * t * BH;
    if (t > 0) gemm.nn(B, lstm ? G : 2 * H, H, hmT, 4 * H, p.u, 4 * G, zT, 4 * G, true);
    f = heapFloats();
    for (let b = 0; b < B; b++) {
      const row = t * B + b;
      const zb = (p.z >> 2) + row * G;
      const ab = (p.a >> 2) + row * G;
      const prev = hsE + row * H; // h_{t-1} of this row
      const out = hsE + (row + B) * H; // h_t
      const on = mask === null || mask[row] !== 0;
      if (lstm) {
        const cb = (p.c >> 2) + row * H;
        const tb = (p.tc >> 2) + row * H;
        const cp = cb - BH;
        for (let j = 0; j < H; j++) {
          const i = gate(f[zb + j]! + bias[j]!, hard);
          const fg = gate(f[zb + H + j]! + bias[H + j]!, hard);
          const g = tanhFast(f[zb + 2 * H + j]! + bias[2 * H + j]!);
          const o = gate(f[zb + 3 * H + j]! + bias[3 * H + j]!, hard);
          const cPrev = t > 0 ? f[cp + j]! : 0;
          const cv = fg * cPrev + i * g;
          const tcv = tanhFast(cv);
          f[ab + j] = i;
          f[ab + H + j] = fg;
          f[ab + 2 * H + j] = g;
          f[ab + 3 * H + j] = o;
          f[tb + j] = tcv;
          if (on) {
            f[cb + j] = cv;
            f[out + j] = o * tcv;
          } else {
            f[cb + j] = cPrev;
            f[out + j] = t > 0 ? f[prev + j]! : 0;
          }
        }
      } else {
        const hmb = hmE + row * H;
        const rb = (p.rh >> 2) + row * H;
        for (let j = 0; j < H; j++) {
          const zg = gate(f[zb + j]! + bias[j]!, hard);
          const rg = gate(f[zb + H + j]! + bias[H + j]!, hard);
          f[ab + j] = zg;
          f[ab + H + j] = rg;
          f[rb + j] = t > 0 ? rg * f[hmb + j]! : 0;
        }
      }
    }
    if (!lstm) {
      if (t > 0) gemm.nn(B, H, H, p.rh + 4 * t * BH, 4 * H, p.u + 8 * H, 4 * G, zT + 8 * H, 4 * G, true);
      f = heapFloats();
      for (let b = 0; b < B; b++) {
        const row = t * B + b;
        const zb = (p.z >> 2) + row * G;
        const ab = (p.a >> 2) + row * G;
        const hmb = hmE + row * H;
        const prev = hsE + row * H;
        const out = hsE + (row + B) * H;
        const on = mask === null || mask[row] !== 0;
        for (let j = 0; j < H; j++) {
          const hh = tanhFast(f[zb + 2 * H + j]! + bias[2 * H + j]!);
          f[ab + 2 * H + j] = hh;
          const zg = f[ab + j]!;
          const hmv = t > 0 ? f[hmb + j]! : 0;
          f[out + j] = on ? zg * hmv + (1 - zg) * hh : t > 0 ? f[prev + j]! : 0;
        }
      }
    }
    if (rmask !== null && t + 1 < T) {
      const dst = hmE + (t + 1) * BH;
      const src = hsE + (t + 1) * BH;
      for (let k = 0; k < BH; k++) f[dst + k] = f[src + k]! * rmask[k]!;
    }
  }
}

/**
 * The gradients `[dX, dW, dU, db]` of a pass: `steps` runs the backward steps (given the byte address of `Uᵀ`), leaving
 * `dZ` in `z`, and returns the bias gradient; then `dX = dZ·Wᵀ`, `dW = Xᵀ·dZ` and `dU = Hᵀ·dZ` over all steps at once.
 */
function weightGradients(gemm: Gemm, p: Pass, W: tf.Tensor2D, U: tf.Tensor2D, backwards: boolean, steps: (ut: number) => Float64Array): tf.Tensor[] {
  const t0 = mark();
  const { T, B, D, H, G, lstm } = p;
  // Scratch (freed here) and results (freed here only on failure), listed as they are made.
  const scratch: tf.Tensor[] = [];
  const results: tf.Tensor[] = [];
  const make = (list: tf.Tensor[], t: tf.Tensor): tf.Tensor => {
    list.push(t);
    return t;
  };
  try {
    const UT = make(scratch, tf.transpose(U));
    const WT = make(scratch, tf.transpose(W));
    const dX = make(results, heapTensor([T, B, D]));
    const dXp = backwards ? make(scratch, heapTensor([T * B, D])) : null; // dX in processing order, before its steps are put back in the input's
    const dW = make(results, heapTensor([D, G]));
    const dU = make(results, heapTensor([H, G]));
    const dbias = steps(heapAddr(UT));
    record('rnn.backward', t0);
    const t1 = mark();
    gemm.nn(T * B, D, G, p.z, 4 * G, heapAddr(WT), 4 * D, heapAddr(dXp ?? dX), 4 * D, false);
    if (dXp !== null) copyStepsReversed(heapAddr(dXp), heapAddr(dX), T, B * D);
    gemm.tn(D, G, T * B, p.x, 4 * D, p.z, 4 * G, heapAddr(dW), 4 * G, false);
    if (lstm) {
      gemm.tn(H, G, T * B, p.hm, 4 * H, p.z, 4 * G, heapAddr(dU), 4 * G, false);
    } else {
      gemm.tn(H, 2 * H, T * B, p.hm, 4 * H, p.z, 4 * G, heapAddr(dU), 4 * G, false);
      gemm.tn(H, H, T * B, p.rh, 4 * H, p.z + 8 * H, 4 * G, heapAddr(dU) + 8 * H, 4 * G, false);
    }
    record('rnn.weightGradients', t1);
    return [dX, dW, dU, tf.tensor1d(Float32Array.from(dbias))];
  } catch (err) {
    tf.dispose(results);
    throw err;
  } finally {
    tf.dispose(scratch);
  }
}

/** The backward steps of {@link forwardPass} (JS gate math) from the output gradient `dy`; returns the bias gradient. */
function backwardSteps(gemm: Gemm, p: Pass, ut: number, dy: Float32Array, seq: boolean): Float64Array {
  const { T, B, H, G, hard, lstm, mask, rmask } = p;
  const BH = B * H;
  const dh = new Float32Array(BH);
  dh.set(dy.subarray(seq ? (T - 1) * BH : 0, seq ? T * BH : BH));
  const dc = new Float32Array(lstm ? BH : 0);
  const dhm = new Float32Array(lstm ? 0 : BH);
  const dbias = new Float64Array(G);
  const hmE = p.hm >> 2;
  const tmpE = p.tmp >> 2;
  for (let t = T - 1; t >= 0; t--) {
    if (seq && t < T - 1) for (let k = 0; k < BH; k++) dh[k] = dh[k]! + dy[t * BH + k]!;
    const zT = p.z + 4 * t * B * G;
    let f = heapFloats();
    for (let b = 0; b < B; b++) {
      const row = t * B + b;
      const zb = (p.z >> 2) + row * G;
      if (mask !== null && mask[row] === 0) {
        // A padded step: no gate gradients; dh and dc pass to the step before unchanged.
        f.fill(0, zb, zb + G);
        if (!lstm) dhm.fill(0, b * H, (b + 1) * H);
        continue;
      }
      const ab = (p.a >> 2) + row * G;
      const hb = b * H;
      if (lstm) {
        const tb = (p.tc >> 2) + row * H;
        const cp = (p.c >> 2) + row * H - BH;
        for (let j = 0; j < H; j++) {
          const i = f[ab + j]!;
          const fg = f[ab + H + j]!;
          const g = f[ab + 2 * H + j]!;
          const o = f[ab + 3 * H + j]!;
          const tcv = f[tb + j]!;
          const dhv = dh[hb + j]!;
          const dcv = dc[hb + j]! + dhv * o * (1 - tcv * tcv);
          const cPrev = t > 0 ? f[cp + j]! : 0;
          f[zb + j] = dcv * g * actGrad(i, hard);
          f[zb + H + j] = dcv * cPrev * actGrad(fg, hard);
          f[zb + 2 * H + j] = dcv * i * (1 - g * g);
          f[zb + 3 * H + j] = dhv * tcv * actGrad(o, hard);
          dc[hb + j] = dcv * fg;
          dh[hb + j] = 0;
        }
      } else {
        const hmb = hmE + row * H;
        for (let j = 0; j < H; j++) {
          const zg = f[ab + j]!;
          const hh = f[ab + 2 * H + j]!;
          const hmv = t > 0 ? f[hmb + j]! : 0;
          const dhv = dh[hb + j]!;
          f[zb + j] = dhv * (hmv - hh) * actGrad(zg, hard);
          f[zb + 2 * H + j] = dhv * (1 - zg) * (1 - hh * hh);
          f[zb + H + j] = 0;
          dhm[hb + j] = dhv * zg;
          dh[hb + j] = 0;
        }
      }
    }
    if (!lstm && t > 0) {
      // d(r ⊙ h_{t-1}) = dZ_h · U_hᵀ; then the reset gate's gradient and its share of dh_{t-1}.
      gemm.nn(B, H, H, zT + 8 * H, 4 * G, ut + 8 * H * H, 4 * H, p.tmp, 4 * H, false);
      f = heapFloats();
      for (let b = 0; b < B; b++) {
        const row = t * B + b;
        if (mask !== null && mask[row] === 0) continue;
        const zb = (p.z >> 2) + row * G;
        const ab = (p.a >> 2) + row * G;
        const hmb = hmE + row * H;
        const hb = b * H;
        for (let j = 0; j < H; j++) {
          const drh = f[tmpE + hb + j]!;
          const rg = f[ab + H + j]!;
          f[zb + H + j] = drh * f[hmb + j]! * actGrad(rg, hard);
          dhm[hb + j] = dhm[hb + j]! + drh * rg;
        }
      }
    }
    f = heapFloats();
    for (let r = 0; r < B; r++) {
      const zb = (p.z >> 2) + (t * B + r) * G;
      for (let k = 0; k < G; k++) dbias[k] = dbias[k]! + f[zb + k]!;
    }
    if (t > 0) {
      // dh_{t-1} = (dZ[t] · Uᵀ [+ the GRU's direct terms]) ⊙ recurrent mask, plus what passed through padded steps.
      gemm.nn(B, H, lstm ? G : 2 * H, zT, 4 * G, ut, 4 * H, p.tmp, 4 * H, false);
      f = heapFloats();
      for (let k = 0; k < BH; k++) {
        const g = lstm ? f[tmpE + k]! : f[tmpE + k]! + dhm[k]!;
        dh[k] = dh[k]! + (rmask === null ? g : g * rmask[k]!);
      }
    }
  }
  return dbias;
}

/** Rows of step t whose padding mask is 0 (none without a mask). */
function paddedRows(mask: Float32Array | null, t: number, B: number): number[] {
  const rows: number[] = [];
  if (mask !== null) for (let b = 0; b < B; b++) if (mask[t * B + b] === 0) rows.push(b);
  return rows;
}

/**
 * The LSTM's forward steps with the wasm SIMD gate module (the same step the single-layer path runs), then, for the
 * rows a padding mask skips at that step, the previous cell state, output and masked output copied forward.
 */
function forwardLstmKernels(gemm: Gemm, p: Pass, k: GateExports): void {
  const { T, B, H, G, hard, mask, rmask } = p;
  const BH = B * H;
  const step = hard ? k.fwdHard : k.fwdSigmoid;
  let f = heapFloats();
  f.fill(0, p.hs >> 2, (p.hs >> 2) + BH);
  if (rmask !== null) f.fill(0, p.hm >> 2, (p.hm >> 2) + BH);
  for (let t = 0; t < T; t++) {
    const zT = p.z + 4 * t * B * G;
    if (t > 0) gemm.nn(B, G, H, p.hm + 4 * t * BH, 4 * H, p.u, 4 * G, zT, 4 * G, true);
    const hmNext = rmask !== null && t + 1 < T ? p.hm + 4 * (t + 1) * BH : p.tmp;
    step(B, H, zT, p.biasRows, t > 0 ? p.c + 4 * (t - 1) * BH : p.zeros, p.a + 4 * t * B * G, p.c + 4 * t * BH, p.tc + 4 * t * BH, p.hs + 4 * (t + 1) * BH, hmNext, rmask !== null ? p.rm : p.ones);
    const skipped = paddedRows(mask, t, B);
    if (skipped.length === 0) continue;
    f = heapFloats();
    for (const b of skipped) {
      const c = (p.c >> 2) + (t * B + b) * H;
      const h = (p.hs >> 2) + ((t + 1) * B + b) * H;
      if (t > 0) f.copyWithin(c, c - BH, c - BH + H);
      else f.fill(0, c, c + H);
      f.copyWithin(h, h - BH, h - BH + H);
      if (hmNext !== p.tmp) {
        const hm = (p.hm >> 2) + ((t + 1) * B + b) * H;
        f.copyWithin(hm, hm - BH, hm - BH + H);
      }
    }
  }
}

/**
 * The backward steps of {@link forwardLstmKernels} with the gate module: rows a padding mask skipped get zero gate
 * gradients and pass dh and dc to the step before unchanged; dh from the next step is `(dZ·Uᵀ) ⊙ recurrent mask`
 * (applied here rather than by the module, which would also mask what passes through padded steps). Returns the bias
 * gradient.
 */
function backwardLstmKernels(gemm: Gemm, p: Pass, k: GateExports, ut: number, dy: Float32Array, seq: boolean): Float64Array {
  const { T, B, H, G, hard, mask, rmask } = p;
  const BH = B * H;
  const step = hard ? k.bwdHardNT : k.bwdSigmoidNT;
  const dhE = p.dh >> 2;
  const dcE = p.dc >> 2;
  let f = heapFloats();
  f.set(dy.subarray(seq ? (T - 1) * BH : 0, seq ? T * BH : BH), dhE);
  f.fill(0, dcE, dcE + BH);
  f.fill(0, p.dbs >> 2, (p.dbs >> 2) + G);
  f.fill(0, p.dbias >> 2, (p.dbias >> 2) + 2 * G);
  const keepDh = new Float32Array(BH);
  const keepDc = new Float32Array(BH);
  for (let t = T - 1; t >= 0; t--) {
    f = heapFloats();
    if (seq && t < T - 1) for (let j = 0; j < BH; j++) f[dhE + j] = f[dhE + j]! + dy[t * BH + j]!;
    const skipped = paddedRows(mask, t, B);
    for (const b of skipped) {
      keepDh.set(f.subarray(dhE + b * H, dhE + (b + 1) * H), b * H);
      keepDc.set(f.subarray(dcE + b * H, dcE + (b + 1) * H), b * H);
      f.fill(0, dhE + b * H, dhE + (b + 1) * H);
      f.fill(0, dcE + b * H, dcE + (b + 1) * H);
    }
    const zT = p.z + 4 * t * B * G;
    step(B, H, p.a + 4 * t * B * G, p.tc + 4 * t * BH, t > 0 ? p.c + 4 * (t - 1) * BH : p.zeros, p.dh, p.ones, p.dc, zT, p.dbs, p.dbias, 0, 0);
    if (t > 0) gemm.nn(B, H, G, zT, 4 * G, ut, 4 * H, p.dh, 4 * H, false);
    f = heapFloats();
    if (t > 0 && rmask !== null) for (let j = 0; j < BH; j++) f[dhE + j] = f[dhE + j]! * rmask[j]!;
    for (const b of skipped) {
      f.set(keepDc.subarray(b * H, (b + 1) * H), dcE + b * H);
      f.set(keepDh.subarray(b * H, (b + 1) * H), dhE + b * H);
    }
  }
  return new Float64Array(heapFloats().buffer, p.dbias, G).slice();
}

/**
 * The GRU's forward steps with the wasm SIMD gate module: per step `h_{t-1}·U_zr` added into `z[t]`, the update and
 * reset gates, `(r ⊙ h_{t-1})·U_h` added into `z[t]`, the candidate and the new state; then, for rows a padding mask
 * skips at that step, the previous state copied forward, and the recurrent mask applied for the next step.
 */
function forwardGruKernels(gemm: Gemm, p: Pass, k: GateExports): void {
  const { T, B, H, G, hard, mask, rmask } = p;
  const BH = B * H;
  const gates = hard ? k.gruGatesHard : k.gruGatesSigmoid;
  let f = heapFloats();
  f.fill(0, p.hs >> 2, (p.hs >> 2) + BH);
  if (rmask !== null) f.fill(0, p.hm >> 2, (p.hm >> 2) + BH);
  for (let t = 0; t < T; t++) {
    const zT = p.z + 4 * t * B * G;
    const hmT = p.hm + 4 * t * BH;
    const rhT = p.rh + 4 * t * BH;
    if (t > 0) gemm.nn(B, 2 * H, H, hmT, 4 * H, p.u, 4 * G, zT, 4 * G, true);
    gates(B, H, zT, p.biasVec, hmT, p.a + 4 * t * B * G, rhT);
    if (t > 0) gemm.nn(B, H, H, rhT, 4 * H, p.u + 8 * H, 4 * G, zT + 8 * H, 4 * G, true);
    k.gruOut(B, H, zT, p.biasVec, hmT, p.a + 4 * t * B * G, p.hs + 4 * (t + 1) * BH);
    const skipped = paddedRows(mask, t, B);
    const hsNext = (p.hs >> 2) + (t + 1) * BH;
    if (skipped.length > 0) {
      f = heapFloats();
      for (const b of skipped) f.copyWithin(hsNext + b * H, hsNext - BH + b * H, hsNext - BH + (b + 1) * H);
    }
    if (rmask !== null && t + 1 < T) {
      f = heapFloats();
      const dst = (p.hm >> 2) + (t + 1) * BH;
      for (let j = 0; j < BH; j++) f[dst + j] = f[hsNext + j]! * rmask[j]!;
    }
  }
}

/**
 * The backward steps of {@link forwardGruKernels}: per step the update and candidate gradients and the direct share of
 * `dh_{t-1}`, `dZ_h·U_hᵀ`, the reset gradient and its share, `dZ_zr·U_zrᵀ`; rows a padding mask skipped get zero gate
 * gradients and pass dh on unchanged. Returns the bias gradient.
 */
function backwardGruKernels(gemm: Gemm, p: Pass, k: GateExports, ut: number, dy: Float32Array, seq: boolean): Float64Array {
  const { T, B, H, G, hard, mask, rmask } = p;
  const BH = B * H;
  const bwdA = hard ? k.gruBwdAHard : k.gruBwdASigmoid;
  const bwdB = hard ? k.gruBwdBHard : k.gruBwdBSigmoid;
  const dhE = p.dh >> 2;
  const dhmE = p.dc >> 2;
  const tmpE = p.tmp >> 2;
  let f = heapFloats();
  f.set(dy.subarray(seq ? (T - 1) * BH : 0, seq ? T * BH : BH), dhE);
  for (let t = T - 1; t >= 0; t--) {
    f = heapFloats();
    if (seq && t < T - 1) for (let j = 0; j < BH; j++) f[dhE + j] = f[dhE + j]! + dy[t * BH + j]!;
    const zT = p.z + 4 * t * B * G;
    const aT = p.a + 4 * t * B * G;
    const hmT = p.hm + 4 * t * BH;
    bwdA(B, H, aT, hmT, p.dh, zT, p.dc);
    const skipped = paddedRows(mask, t, B);
    if (skipped.length > 0) {
      f = heapFloats();
      for (const b of skipped) {
        f.fill(0, (zT >> 2) + b * G, (zT >> 2) + (b + 1) * G);
        f.fill(0, dhmE + b * H, dhmE + (b + 1) * H);
      }
    }
    if (t > 0) {
      gemm.nn(B, H, H, zT + 8 * H, 4 * G, ut + 8 * H * H, 4 * H, p.tmp, 4 * H, false);
      bwdB(B, H, aT, hmT, p.tmp, zT, p.dc);
      gemm.nn(B, H, 2 * H, zT, 4 * G, ut, 4 * H, p.tmp, 4 * H, false);
    }
    if (t > 0) {
      f = heapFloats();
      const live = mask === null ? null : mask.subarray(t * B, (t + 1) * B);
      for (let b = 0; b < B; b++) {
        const keep = live !== null && live[b] === 0;
        for (let j = b * H; j < (b + 1) * H; j++) {
          const g = (f[tmpE + j]! + f[dhmE + j]!) * (rmask === null ? 1 : rmask[j]!);
          f[dhE + j] = keep ? f[dhE + j]! + g : g;
        }
      }
    }
  }
  // The bias gradient: the column sums of dZ over all steps, as one product (ones[T·B]ᵀ · dZ).
  gemm.tn(1, G, T * B, p.ones, 4, p.z, 4 * G, p.dbs, 4 * G, false);
  return Float64Array.from(heapFloats().subarray(p.dbs >> 2, (p.dbs >> 2) + G));
}

/** Copy `T` blocks of `n` floats from byte address `src` to `dst` in reverse block order (block s to block T-1-s). */
function copyStepsReversed(src: number, dst: number, T: number, n: number): void {
  const f = heapFloats();
  for (let s = 0; s < T; s++) f.copyWithin((dst >> 2) + s * n, (src >> 2) + (T - 1 - s) * n, (src >> 2) + (T - s) * n);
}

/** A new heap tensor `[T·B, D]` holding the time-major `x` `[T, B, D]` with its steps in reverse order. */
function reverseSteps(x: tf.Tensor, T: number, n: number): tf.Tensor {
  const out = heapTensor([T * (n / x.shape[2]!), x.shape[2]!]);
  copyStepsReversed(heapAddr(x), heapAddr(out), T, n);
  return out;
}
