/**
 * sweepq's recurrent op: LSTM or GRU cells, the last output or the whole output sequence (stacked layers), time
 * reversal, a Keras padding mask (padded steps skipped, the state carried through them), an input dropout mask and a
 * recurrent dropout mask. Forward and hand-written backpropagation through time, with every product on sweepq's own
 * wasm matmul over the tfjs wasm heap and the gate math over the same memory (no copies in or out): the wasm SIMD gate
 * module (`lstm-gates-wat.ts`, `gru-gates-wat.ts`) when it is compiled, else JS loops.
 *
 * Semantics are stock tfjs-layers 4.22's, so the saved model (stock `LSTM`/`GRU` classes) reproduces the training
 * model: gate order i, f, c, o (LSTM) and z, r, h (GRU, `reset_after: false`, the only form tfjs has; Keras loads it
 * with `GRU(reset_after=False)`); at a masked step the output and state are the previous ones (tfjs' `rnn`); the
 * input dropout mask multiplies every step's input; the recurrent dropout mask multiplies `h_{t-1}` wherever the cell
 * reads it (for the GRU also in `z ⊙ h_{t-1}`, as tfjs' `GRUCell` does).
 */
import * as tf from '@tensorflow/tfjs';
import { gate, gateGrad, tanhFast, type RecurrentActivation } from './activations.js';
import { heapGemm, type Gemm } from './gemm-wasm.js';
import { heapAddr, heapFloats, heapTensor, outstanding, recordingGradient, trackOutstanding } from './heap.js';
import { mark, record } from './profile.js';
import { heapGateKernels, type GateExports } from './recurrent-gates.js';

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
  /**
   * Input dropout mask `[B·D]` (0 or 1/(1-rate)) multiplying `x_t` at every step; default none. The same as multiplying
   * the input by it beforehand, but applied while the input is copied onto the heap, and to the input gradient in
   * place: a broadcast multiply and its gradient as tensor ops cost more than the masking here.
   */
  inputMask?: Float32Array | null;
  /** Recurrent dropout mask `[B·H]` (0 or 1/(1-rate)) multiplying `h_{t-1}` at every step; default none. */
  recurrentMask?: Float32Array | null;
}

/** Gates per unit of a cell: 4 (LSTM: i, f, c, o), 3 (GRU: z, r, h). */
export function gatesPerUnit(cell: CellKind): number {
  return cell === 'lstm' ? 4 : 3;
}

/**
 * Whether {@link fusedRecurrent} can run here: the wasm backend with its fast paths and sweepq's own matmul (any
 * widths: the matmul sums column tails in JS). Otherwise callers use the stock layers.
 */
export function fusedRecurrentAvailable(): boolean {
  return heapGemm() !== null;
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

/** What the op was asked for, beyond the tensors (checked and resolved once per call). */
interface Settings {
  T: number;
  B: number;
  D: number;
  H: number;
  G: number;
  lstm: boolean;
  hard: boolean;
  seq: boolean;
  backwards: boolean;
  mask: Float32Array | null;
  imask: Float32Array | null;
  rmask: Float32Array | null;
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

/** The op's sizes and masks from its arguments, or an error naming what does not fit. */
function settingsOf(xtm: tf.Tensor3D, kernel: tf.Tensor2D, recurrentKernel: tf.Tensor2D, bias: tf.Tensor1D, opts: FusedRecurrentOptions): Settings {
  const [T, B, D] = xtm.shape;
  const H = recurrentKernel.shape[0];
  const G = gatesPerUnit(opts.cell) * H;
  const name = `fused ${opts.cell.toUpperCase()}`;
  if (kernel.shape[0] !== D || kernel.shape[1] !== G || recurrentKernel.shape[1] !== G || bias.shape[0] !== G) {
    throw new Error(
      `${name}: shapes do not fit: x [${xtm.shape.join(',')}], kernel [${kernel.shape.join(',')}], ` +
        `recurrent kernel [${recurrentKernel.shape.join(',')}], bias [${bias.shape.join(',')}]`,
    );
  }
  const mask = opts.mask ?? null;
  const imask = opts.inputMask ?? null;
  const rmask = opts.recurrentMask ?? null;
  for (const [what, m, n, dims] of [['mask', mask, T * B, 'T·B'], ['input mask', imask, B * D, 'B·D'], ['recurrent mask', rmask, B * H, 'B·H']] as const) {
    if (m !== null && m.length !== n) throw new Error(`${name}: the ${what} must have ${dims} = ${n} elements, got ${m.length}`);
  }
  const hard = (opts.recurrentActivation ?? 'sigmoid') === 'hardSigmoid';
  return { T, B, D, H, G, lstm: opts.cell === 'lstm', hard, seq: opts.returnSequences === true, backwards: opts.goBackwards === true, mask, imask, rmask };
}

/**
 * The recurrent layer over a time-major input `xtm` `[T, B, D]` with Keras weights `kernel` `[D, G·H]`,
 * `recurrentKernel` `[H, G·H]` and `bias` `[G·H]` (G = 4 for LSTM, 3 for GRU), zero initial state; differentiable
 * (`tf.customGrad`). Callers check {@link fusedRecurrentAvailable} first. Time reversal (`goBackwards`), the input and
 * recurrent dropout masks and the padding mask are applied here.
 *
 * Forward: `z = X·W` for all steps in one product, then per step `h_{t-1}·U` added into `z[t]` (for the GRU two
 * products: `h_{t-1}·U_zr`, then `(r ⊙ h_{t-1})·U_h`), and the gate math. Backward: per step the gate gradients and
 * `dZ[t]·Uᵀ` (GRU: two products), then `dX = dZ·Wᵀ`, `dW = Xᵀ·dZ`, `dU = Hᵀ·dZ` over all steps at once. With only the
 * last output asked for, the output is one `[B, H]` block and the backward pass starts from it alone.
 */
export function fusedRecurrent(
  xtm: tf.Tensor3D,
  kernel: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  opts: FusedRecurrentOptions,
): tf.Tensor {
  const s = settingsOf(xtm, kernel, recurrentKernel, bias, opts);
  const gemm = heapGemm();
  if (gemm === null) throw new Error(`fused ${opts.cell.toUpperCase()}: needs the wasm backend with its fast paths and sweepq's own matmul`);
  const op = tf.customGrad((...args: unknown[]) => {
    const [x, W, U, b] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const save = args[4] as (tensors: tf.Tensor[]) => void;
    const t0 = mark();
    const { p, entry } = openPass(s, x, W, U, b);
    let value: tf.Tensor;
    try {
      gemm.nn(s.T * s.B, s.G, s.D, p.x, 4 * s.D, p.w, 4 * s.G, p.z, 4 * s.G, false);
      record('rnn.inputProjection', t0);
      const t1 = mark();
      if (p.k === null) forwardPass(gemm, p);
      else if (s.lstm) forwardLstmKernels(gemm, p, p.k);
      else forwardGruKernels(gemm, p, p.k);
      record('rnn.forward', t1);
      value = outputOf(p, s.seq);
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
      if (entry.disposed) throw new Error('fused recurrent op: the gradient of one forward pass can be taken only once');
      const [sW, sU] = saved as [tf.Tensor2D, tf.Tensor2D];
      try {
        const dyv = dy.dataSync() as Float32Array;
        return weightGradients(gemm, p, s, sW, sU, (ut) =>
          p.k === null ? backwardSteps(gemm, p, ut, dyv, s.seq) : s.lstm ? backwardLstmKernels(gemm, p, p.k, ut, dyv, s.seq) : backwardGruKernels(gemm, p, p.k, ut, dyv, s.seq),
        );
      } finally {
        entry.dispose();
      }
    };
    return { value, gradFunc };
  });
  return op(xtm, kernel, recurrentKernel, bias);
}

/** The op's output, copied out of the `h` sequence: `[T, B, H]` with `seq`, else the last step's `[B, H]`. */
function outputOf(p: Pass, seq: boolean): tf.Tensor {
  const { T, B, H } = p;
  const value = seq ? heapTensor([T, B, H]) : heapTensor([B, H]);
  const from = (p.hs >> 2) + (seq ? B * H : T * B * H);
  heapFloats().copyWithin(heapAddr(value) >> 2, from, (p.hs >> 2) + (T + 1) * B * H);
  return value;
}

/**
 * Allocate a pass's work memory on the heap (the input as the steps read it, `z`, the `h` sequence, gates and states,
 * the gate module's operands) and fill in its constants. The returned entry frees it all, once.
 */
function openPass(s: Settings, x: tf.Tensor3D, W: tf.Tensor2D, U: tf.Tensor2D, b: tf.Tensor1D): { p: Pass; entry: { disposed: boolean; dispose(): void } } {
  const { T, B, D, H, G, lstm } = s;
  // Allocate everything first: an allocation may grow the heap (addresses stay valid, views do not). Each tensor is
  // kept (out of tidy scopes) and listed in `owned` as it is made, so a failed allocation frees the ones before it.
  const owned: tf.Tensor[] = [];
  const own = (t: tf.Tensor | null): number => {
    if (t === null) return 0;
    owned.push(tf.keep(t));
    return heapAddr(t);
  };
  const k = heapGateKernels();
  const ops = k === null ? null : kernelOperands(T, B, H, G);
  let addr: Record<'x' | 'z' | 'hs' | 'hp' | 'rh' | 'a' | 'c' | 'tc' | 'tmp' | 'ops', number>;
  try {
    addr = {
      x: own(s.backwards || s.imask !== null ? stepInputs(x, s) : tf.reshape(x, [T * B, D])),
      z: own(heapTensor([T * B, G])),
      hs: own(heapTensor([(T + 1) * B, H])), // h_{t-1} at block t; block 0 is the zero state
      hp: own(s.rmask === null ? null : heapTensor([T * B, H])), // h_{t-1} ⊙ recurrent mask
      rh: own(lstm ? null : heapTensor([T * B, H])), // GRU: r ⊙ h_{t-1}
      a: own(heapTensor([T * B, G])), // activated gates
      c: own(lstm ? heapTensor([T * B, H]) : null), // LSTM: cell states after the mask
      tc: own(lstm ? heapTensor([T * B, H]) : null), // LSTM: tanh of the unmasked new cell state
      tmp: own(heapTensor([B, H])),
      ops: own(ops === null ? null : heapTensor([ops.total])),
    };
  } catch (err) {
    tf.dispose(owned);
    throw err;
  }
  const opsBase = Math.ceil(addr.ops / 16) * 16;
  const op4 = (e: number | undefined): number => (ops === null ? 0 : opsBase + 4 * e!);
  const p: Pass = {
    T, B, D, H, G, hard: s.hard, lstm, mask: s.mask, rmask: s.rmask,
    bias: (b.dataSync() as Float32Array).slice(),
    x: addr.x, z: addr.z, w: heapAddr(W), u: heapAddr(U), hs: addr.hs, hm: s.rmask === null ? addr.hs : addr.hp, rh: addr.rh,
    a: addr.a, c: addr.c, tc: addr.tc, tmp: addr.tmp, k,
    biasVec: op4(ops?.offsets.biasVec), biasRows: op4(ops?.offsets.biasRows), ones: op4(ops?.offsets.ones), zeros: op4(ops?.offsets.zeros),
    rm: op4(ops?.offsets.rm), dh: op4(ops?.offsets.dh), dc: op4(ops?.offsets.dc), dbs: op4(ops?.offsets.dbs), dbias: op4(ops?.offsets.dbias),
  };
  if (k !== null) {
    const f = heapFloats();
    f.set(p.bias, p.biasVec >> 2);
    for (let r = 0; r < B; r++) f.set(p.bias, (p.biasRows >> 2) + r * G);
    f.fill(1, p.ones >> 2, (p.ones >> 2) + Math.max(B * H, T * B));
    f.fill(0, p.zeros >> 2, (p.zeros >> 2) + B * H);
    if (s.rmask !== null) f.set(s.rmask, p.rm >> 2);
  }
  const entry = {
    disposed: false,
    dispose: (): void => {
      if (entry.disposed) return;
      entry.disposed = true;
      outstanding.delete(entry);
      tf.dispose(owned);
    },
  };
  return { p, entry };
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
 * `dZ` in `z`, and returns the bias gradient; then `dX = dZ·Wᵀ` (its steps put back in the input's order and masked
 * by the input mask), `dW = Xᵀ·dZ` and `dU = Hᵀ·dZ` over all steps at once.
 */
function weightGradients(gemm: Gemm, p: Pass, s: Settings, W: tf.Tensor2D, U: tf.Tensor2D, steps: (ut: number) => Float64Array): tf.Tensor[] {
  const t0 = mark();
  const { T, B, D, H, G, lstm, backwards } = s;
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
    if (dXp !== null || s.imask !== null) copySteps(heapAddr(dXp ?? dX), heapAddr(dX), s);
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
          f[zb + j] = dcv * g * gateGrad(i, hard);
          f[zb + H + j] = dcv * cPrev * gateGrad(fg, hard);
          f[zb + 2 * H + j] = dcv * i * (1 - g * g);
          f[zb + 3 * H + j] = dhv * tcv * gateGrad(o, hard);
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
          f[zb + j] = dhv * (hmv - hh) * gateGrad(zg, hard);
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
          f[zb + H + j] = drh * f[hmb + j]! * gateGrad(rg, hard);
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
function paddedRows(mask: Float32Array | null, t: number, B: number): readonly number[] {
  if (mask === null) return NO_ROWS;
  const rows: number[] = [];
  for (let b = 0; b < B; b++) if (mask[t * B + b] === 0) rows.push(b);
  return rows;
}
const NO_ROWS: readonly number[] = [];

/**
 * The LSTM's forward steps with the wasm SIMD gate module, then, for the
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
 * gradients and pass dh and dc to the step before unchanged; dh from the next step is `(dZ·Uᵀ) ⊙ recurrent mask`.
 * Returns the bias gradient.
 */
function backwardLstmKernels(gemm: Gemm, p: Pass, k: GateExports, ut: number, dy: Float32Array, seq: boolean): Float64Array {
  const { T, B, H, G, hard, mask, rmask } = p;
  const BH = B * H;
  const step = hard ? k.bwdHard : k.bwdSigmoid;
  const dhE = p.dh >> 2;
  const dcE = p.dc >> 2;
  let f = heapFloats();
  f.set(dy.subarray(seq ? (T - 1) * BH : 0, seq ? T * BH : BH), dhE);
  f.fill(0, dcE, dcE + BH);
  f.fill(0, p.dbs >> 2, (p.dbs >> 2) + G);
  f.fill(0, p.dbias >> 2, (p.dbias >> 2) + 2 * G);
  // The module masks dh as it reads it: right for the last output alone; with padding (what passes through a padded
  // step is not masked again) or a sequence output (dy is not masked) the mask is applied here instead.
  const moduleMasks = rmask !== null && mask === null && !seq;
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
    step(B, H, p.a + 4 * t * B * G, p.tc + 4 * t * BH, t > 0 ? p.c + 4 * (t - 1) * BH : p.zeros, p.dh, moduleMasks && t < T - 1 ? p.rm : p.ones, p.dc, zT, p.dbs, p.dbias);
    if (t > 0) gemm.nn(B, H, G, zT, 4 * G, ut, 4 * H, p.dh, 4 * H, false);
    if (t > 0 && rmask !== null && !moduleMasks) {
      f = heapFloats();
      for (let j = 0; j < BH; j++) f[dhE + j] = f[dhE + j]! * rmask[j]!;
    }
    if (skipped.length === 0) continue;
    f = heapFloats();
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

/**
 * Block t (`[B, D]`) of `[T·B, D]` at byte address `dst` = block T-1-t (with `backwards`, else t) of `src`, each row
 * multiplied by the input mask when there is one. Reversal is its own inverse, so the same copy serves the input and
 * its gradient; `src` may be `dst` when not reversed.
 */
function copySteps(src: number, dst: number, s: Settings): void {
  const { T, B, D, backwards, imask } = s;
  const f = heapFloats();
  const n = B * D;
  for (let t = 0; t < T; t++) {
    const from = (src >> 2) + (backwards ? T - 1 - t : t) * n;
    const to = (dst >> 2) + t * n;
    if (imask === null) f.copyWithin(to, from, from + n);
    else for (let e = 0; e < n; e++) f[to + e] = f[from + e]! * imask[e]!;
  }
}

/** A new heap tensor `[T·B, D]`: the time-major input `x` `[T, B, D]` as the steps read it (see {@link copySteps}). */
function stepInputs(x: tf.Tensor, s: Settings): tf.Tensor {
  const out = heapTensor([s.T * s.B, s.D]);
  copySteps(heapAddr(x), heapAddr(out), s);
  return out;
}
