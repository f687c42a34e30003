import * as tf from '@tensorflow/tfjs';
import { makeStepMatmul } from './fast-kernels.js';
import {
  backwardStep,
  forwardStep,
  matmulInto,
  matmulTransAInto,
  matmulTransBInto,
  type RecurrentActivation,
} from './lstm-math.js';

/** Options of {@link fusedLstmLastOutput}. */
export interface FusedLstmOptions {
  /** Gate activation; default `sigmoid`. The candidate and output activations are `tanh`. */
  recurrentActivation?: RecurrentActivation;
  /** Recurrent dropout mask `[B, H]` applied to `h_{t-1}` at every step (values 0 or 1/(1-rate)); default none. */
  recurrentMask?: tf.Tensor2D;
}

/**
 * The last output `h_T` of an LSTM over a time-major input `xtm` `[T, B, D]` with Keras weights `kernel` `[D, 4H]`,
 * `recurrentKernel` `[H, 4H]`, `bias` `[4H]` (gate order i, f, c, o), zero initial state; differentiable with a
 * hand-written BPTT (`tf.customGrad`).
 *
 * Forward: one `[T·B, D] x [D, 4H]` matmul for the input projection of all steps (bias fused), then per step one
 * `[B, H] x [H, 4H]` matmul and the gate math on typed arrays. Backward: per step the gate-gradient math and one
 * `[B, 4H] x [4H, H]` matmul; the weight and input gradients are three large matmuls over all steps at once
 * (`dW = Xᵀ·dZ`, `dU = Hᵀ·dZ`, `dX = dZ·Wᵀ`), each with explicitly transposed operands.
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
  const op = tf.customGrad((...args: unknown[]) => {
    const [x, W, U, b] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const save = args[4] as (tensors: tf.Tensor[]) => void;
    const x2 = tf.reshape(x, [T * B, D]) as tf.Tensor2D;
    // On the pure-JS cpu backend, typed-array loops beat tfjs-cpu's matmul (about 0.5-1 GFLOP/s) by 2-3x.
    const jsMatmuls = tf.getBackend() === 'cpu';
    let z: Float32Array;
    if (jsMatmuls) {
      z = new Float32Array(T * B * G);
      matmulInto(x2.dataSync() as Float32Array, 0, T * B, D, W.dataSync() as Float32Array, G, z);
      const bv = b.dataSync() as Float32Array;
      for (let r = 0; r < T * B; r++) for (let k = 0; k < G; k++) z[r * G + k] = z[r * G + k]! + bv[k]!;
    } else {
      const zT = tf.fused.matMul({ a: x2, b: W, bias: b });
      z = zT.dataSync() as Float32Array;
      zT.dispose();
    }
    // Saved for BPTT as plain arrays: activated gates, c_t, tanh(c_t), and the (masked) h_{t-1} fed to each step.
    const A = new Float32Array(T * B * G);
    const C = new Float32Array(T * B * H);
    const TC = new Float32Array(T * B * H);
    const HP = new Float32Array(T * B * H);
    const h = new Float32Array(B * H);
    const r = new Float32Array(B * G);
    const mm = makeStepMatmul(U, B, false);
    try {
      for (let t = 0; t < T; t++) {
        const hasState = t > 0;
        if (hasState) mm.run(HP, t * B * H, r);
        forwardStep(B, H, hard, z, t * B * G, hasState ? r : null, hasState ? C : null, (t - 1) * B * H, A, t * B * G, C, TC, t * B * H, h);
        if (t + 1 < T) {
          const off = (t + 1) * B * H;
          if (rmask === null) HP.set(h, off);
          else for (let k = 0; k < B * H; k++) HP[off + k] = h[k]! * rmask[k]!;
        }
      }
    } finally {
      mm.dispose();
    }
    save([x2, W, U]);
    const value = tf.tensor2d(h, [B, H]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [sx2, sW, sU] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const dZ = new Float32Array(T * B * G);
      const dh = Float32Array.from(dy.dataSync() as Float32Array);
      const dc = new Float64Array(B * H);
      const dhm = new Float32Array(B * H);
      const dbias = new Float64Array(G);
      const back = makeStepMatmul(sU, B, true);
      try {
        for (let t = T - 1; t >= 0; t--) {
          backwardStep(B, H, hard, A, t * B * G, TC, t * B * H, t > 0 ? C : null, (t - 1) * B * H, dh, dc, dZ, t * B * G, dbias);
          if (t > 0) {
            back.run(dZ, t * B * G, dhm);
            if (rmask === null) dh.set(dhm);
            else for (let k = 0; k < B * H; k++) dh[k] = dhm[k]! * rmask[k]!;
          }
        }
      } finally {
        back.dispose();
      }
      if (jsMatmuls) {
        const dX = new Float32Array(T * B * D);
        matmulTransBInto(dZ, 0, T * B, G, sW.dataSync() as Float32Array, D, dX);
        const dW = new Float32Array(D * G);
        matmulTransAInto(sx2.dataSync() as Float32Array, T * B, D, dZ, G, dW);
        const dU = new Float32Array(H * G);
        matmulTransAInto(HP, T * B, H, dZ, G, dU);
        return [tf.tensor3d(dX, [T, B, D]), tf.tensor2d(dW, [D, G]), tf.tensor2d(dU, [H, G]), tf.tensor1d(Float32Array.from(dbias))];
      }
      return tf.tidy(() => {
        const dZt = tf.tensor2d(dZ, [T * B, G]);
        const hp = tf.tensor2d(HP, [T * B, H]);
        const dX = tf.reshape(tf.matMul(dZt, tf.transpose(sW)), [T, B, D]);
        const dW = tf.matMul(tf.transpose(sx2), dZt);
        const dU = tf.matMul(tf.transpose(hp), dZt);
        const db = tf.tensor1d(Float32Array.from(dbias));
        return [dX, dW, dU, db];
      });
    };
    return { value, gradFunc };
  });
  return op(xtm, kernel, recurrentKernel, bias) as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------------------------
// The layer.

type LstmLayer = ReturnType<typeof tf.layers.lstm>;
type LstmArgs = Parameters<typeof tf.layers.lstm>[0];
type CallKwargs = Parameters<LstmLayer['call']>[1];
type DropoutFunc = (x: tf.Tensor, rate: number) => tf.Tensor;

/** The fields of tfjs-layers' `LSTMCell` the fused path reads (public in its typings or plain JS fields). */
interface LstmCellLike {
  units: number;
  useBias: boolean;
  dropout: number;
  recurrentDropout: number;
  dropoutFunc?: DropoutFunc;
  activation: { getClassName(): string };
  recurrentActivation: { getClassName(): string };
  kernel: { read(): tf.Tensor };
  recurrentKernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
}

interface RnnFlags {
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  stateful: boolean;
  unroll: boolean;
}

// The stock class is not exported by name; it is the constructor of what `tf.layers.lstm` makes.
const StockLSTM = Object.getPrototypeOf(tf.layers.lstm({ units: 1 })).constructor as {
  new (args: LstmArgs): LstmLayer;
  className: string;
};

/** Class name under which {@link FusedLSTM} is registered for deserialisation (never written to model.json). */
export const FUSED_LSTM_CLASS_NAME = 'SweepqFusedLSTM';

/**
 * A drop-in `tf.layers.lstm` whose training and inference run {@link fusedLstmLastOutput}. Same constructor
 * arguments, same weights (names, shapes, initialisers, unit forget bias), same config; it reports its class as
 * `LSTM`, so a saved model names the standard class and loads with stock `tf.loadLayersModel`.
 *
 * The fused path covers what the classifier uses: rank-3 input without mask or initial state, last output only
 * (`returnSequences`, `returnState`, `goBackwards`, `stateful` all false), `activation: 'tanh'`,
 * `recurrentActivation` `sigmoid` or `hardSigmoid`, with bias. Anything else runs the stock implementation.
 *
 * Dropout follows tfjs-layers (and Keras' implementation 2): one input mask `[B, D]` and one recurrent mask `[B, H]`
 * per call, fixed across timesteps, made by the cell's `dropoutFunc` when set (as the training loop does for
 * reproducible masks) and called in the same order and number as the stock cell, so both draw the same masks.
 */
export class FusedLSTM extends StockLSTM {
  static override className = FUSED_LSTM_CLASS_NAME;

  override getClassName(): string {
    return 'LSTM';
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: CallKwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
    const kw = (kwargs ?? {}) as Record<string, unknown>;
    const cell = (this as unknown as { cell: LstmCellLike }).cell;
    const flags = this as unknown as RnnFlags;
    const recAct = cell.recurrentActivation.getClassName();
    const fusable =
      x != null &&
      x.rank === 3 &&
      kw['mask'] == null &&
      kw['initialState'] == null &&
      !flags.returnSequences &&
      !flags.returnState &&
      !flags.goBackwards &&
      !flags.stateful &&
      cell.useBias &&
      cell.bias != null &&
      cell.activation.getClassName() === 'tanh' &&
      (recAct === 'sigmoid' || recAct === 'hardSigmoid');
    if (!fusable) return super.call(inputs, kwargs);
    const training = kw['training'] === true;
    return tf.tidy(() => {
      const x3 = x as tf.Tensor3D;
      const [B, , D] = x3.shape;
      const H = cell.units;
      const inMask = training && cell.dropout > 0 && cell.dropout < 1 ? dropoutMask(cell, [B, D], cell.dropout) : null;
      const recMask = training && cell.recurrentDropout > 0 && cell.recurrentDropout < 1 ? dropoutMask(cell, [B, H], cell.recurrentDropout) : null;
      const xm = inMask == null ? x3 : tf.mul(x3, tf.expandDims(inMask, 1));
      const xtm = tf.transpose(xm, [1, 0, 2]) as tf.Tensor3D;
      const opts: FusedLstmOptions = { recurrentActivation: recAct as RecurrentActivation };
      if (recMask != null) opts.recurrentMask = recMask as tf.Tensor2D;
      return fusedLstmLastOutput(
        xtm,
        cell.kernel.read() as tf.Tensor2D,
        cell.recurrentKernel.read() as tf.Tensor2D,
        cell.bias!.read() as tf.Tensor1D,
        opts,
      );
    });
  }
}
tf.serialization.registerClass(FusedLSTM as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

/** Like tfjs-layers' `generateDropoutMask` with `count: 4` (four draws, the first used, as the stock cell does). */
function dropoutMask(cell: LstmCellLike, shape: number[], rate: number): tf.Tensor {
  const draw = (): tf.Tensor => {
    const ones = tf.ones(shape);
    return cell.dropoutFunc != null ? cell.dropoutFunc(ones, rate) : tf.dropout(ones, rate);
  };
  const first = draw();
  for (let k = 1; k < 4; k++) draw();
  return first;
}

/** Arguments of {@link fusedLstm}: those of `tf.layers.lstm`. */
export type FusedLstmArgs = LstmArgs;

/** Make a {@link FusedLSTM} layer (the counterpart of `tf.layers.lstm`). */
export function fusedLstm(args: FusedLstmArgs): FusedLSTM {
  return new FusedLSTM(args);
}
