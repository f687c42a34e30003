/**
 * sweepq's recurrent layers: drop-in subclasses of the stock tfjs-layers `LSTM`, `GRU` and `Bidirectional` whose
 * training and inference run the fused ops of `@sweepq/kernels`. Same constructor arguments, weights (names, shapes,
 * initialisers) and config; each reports the stock class name, so a saved model names only stock classes and loads
 * with stock `tf.loadLayersModel`. Whatever a fused op does not cover runs the stock implementation.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedRecurrent, fusedRecurrentAvailable, type CellKind, type RecurrentActivation, warnOnce } from '@sweepq/kernels';

type LstmLayer = ReturnType<typeof tf.layers.lstm>;
type LstmArgs = Parameters<typeof tf.layers.lstm>[0];
type GruArgs = Parameters<typeof tf.layers.gru>[0];
type BidirectionalArgs = Parameters<typeof tf.layers.bidirectional>[0];
type CallKwargs = Parameters<LstmLayer['call']>[1];
type DropoutFunc = (x: tf.Tensor, rate: number) => tf.Tensor;

/** The fields of tfjs-layers' `LSTMCell` / `GRUCell` the fused paths read (public in its typings or plain JS fields). */
interface CellLike {
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
}

// The stock classes are not exported by name; they are the constructors of what the factories make.
const StockLSTM = Object.getPrototypeOf(tf.layers.lstm({ units: 1 })).constructor as { new (args: LstmArgs): LstmLayer; className: string };
const StockGRU = Object.getPrototypeOf(tf.layers.gru({ units: 1 })).constructor as { new (args: GruArgs): LstmLayer; className: string };
const StockBidirectional = Object.getPrototypeOf(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 1 }) as unknown as tf.RNN }))
  .constructor as { new (args: BidirectionalArgs): tf.layers.Layer; className: string };

/** Class names under which the fused layers are registered for deserialisation (never written to model.json). */
export const FUSED_LSTM_CLASS_NAME = 'SweepqFusedLSTM';
export const FUSED_GRU_CLASS_NAME = 'SweepqFusedGRU';
export const FUSED_BIDIRECTIONAL_CLASS_NAME = 'SweepqFusedBidirectional';

/** Stock class name → the fused class loading uses in its place (see `serialization.ts`). */
export const FUSED_CLASS_NAMES: Readonly<Record<string, string>> = {
  LSTM: FUSED_LSTM_CLASS_NAME,
  GRU: FUSED_GRU_CLASS_NAME,
  Bidirectional: FUSED_BIDIRECTIONAL_CLASS_NAME,
};

/**
 * The fused forward pass of a recurrent layer, or null when the fused op does not cover the call (the caller then runs
 * the stock implementation): rank-3 input, no initial state, `returnState` and `stateful` false, `activation: 'tanh'`,
 * `recurrentActivation` `sigmoid` or `hardSigmoid`, with bias, and {@link fusedRecurrentAvailable}. Every such call,
 * LSTM or GRU, last output or sequence, forwards or backwards, masked or not, runs the one op `fusedRecurrent`.
 *
 * The cpu backend runs the stock layers, by choice: the op works on the wasm heap with sweepq's own wasm matmul and
 * gate module, which only the wasm backend has; `initBackend` picks wasm before cpu wherever WebAssembly runs (the
 * wasm backend ships with the package), so cpu is a last resort or an explicit `prefer: 'cpu'`, and a second
 * implementation of the op for it (JS matmuls over typed arrays, as sweepq had for the single-layer LSTM only) would be
 * the same math written twice for a path sweeps do not take. The price, measured on the seed model: cpu trains at
 * about the stock speed (1.1x), where that second implementation gave 6.7x; wasm gives 13-18x. On tfjs-node the
 * stock layers run TensorFlow's native kernels.
 *
 * Dropout follows tfjs-layers (and Keras' implementation 2): one input mask `[B, D]` and one recurrent mask `[B, H]`
 * per call, fixed across timesteps, made by the cell's `dropoutFunc` when set (as the training loop does for
 * reproducible masks) and drawn in the same order and number as the stock cell (4 of each for LSTM, 3 for GRU), so
 * both draw the same masks.
 */
function fusedCall(layer: tf.layers.Layer, kind: CellKind, inputs: tf.Tensor | tf.Tensor[], kwargs: CallKwargs): tf.Tensor | null {
  const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
  const kw = (kwargs ?? {}) as Record<string, unknown>;
  const cell = (layer as unknown as { cell: CellLike }).cell;
  const flags = layer as unknown as RnnFlags;
  const recAct = cell.recurrentActivation.getClassName();
  if (
    x == null ||
    x.rank !== 3 ||
    kw['initialState'] != null ||
    flags.returnState ||
    flags.stateful ||
    !cell.useBias ||
    cell.bias == null ||
    cell.activation.getClassName() !== 'tanh' ||
    (recAct !== 'sigmoid' && recAct !== 'hardSigmoid')
  ) {
    return null;
  }
  if (!fusedRecurrentAvailable()) {
    warnStock(kind);
    return null;
  }
  const maskT = kw['mask'] instanceof tf.Tensor ? (kw['mask'] as tf.Tensor) : null;
  const [B, T, D] = x.shape as [number, number, number];
  const H = cell.units;
  const training = kw['training'] === true;
  const draws = kind === 'lstm' ? 4 : 3;
  return tf.tidy(() => {
    const inMask = training && cell.dropout > 0 && cell.dropout < 1 ? dropoutMask(cell, [B, D], cell.dropout, draws) : null;
    const recMask = training && cell.recurrentDropout > 0 && cell.recurrentDropout < 1 ? dropoutMask(cell, [B, H], cell.recurrentDropout, draws) : null;
    const out = fusedRecurrent(
      tf.transpose(x, [1, 0, 2]) as tf.Tensor3D,
      cell.kernel.read() as tf.Tensor2D,
      cell.recurrentKernel.read() as tf.Tensor2D,
      cell.bias!.read() as tf.Tensor1D,
      {
        cell: kind,
        recurrentActivation: recAct as RecurrentActivation,
        returnSequences: flags.returnSequences,
        goBackwards: flags.goBackwards,
        mask: maskT === null ? null : timeMajorMask(maskT, B, T, flags.goBackwards),
        inputMask: inMask == null ? null : (inMask.dataSync() as Float32Array).slice(),
        recurrentMask: recMask == null ? null : (recMask.dataSync() as Float32Array).slice(),
      },
    );
    return flags.returnSequences ? tf.transpose(out, [1, 0, 2]) : out;
  });
}

/** One warning per cell kind that a layer trains with the stock implementation (not on tfjs-node: native kernels). */
function warnStock(kind: CellKind): void {
  const backend = tf.getBackend();
  if (backend === 'tensorflow') return;
  warnOnce(
    `sweepq: ${kind.toUpperCase()} layers train with the stock tfjs implementation (several times slower): sweepq's fused op needs ` +
      (backend === 'wasm' ? "the wasm backend's fast paths and its own matmul, which are off here" : `the wasm backend (the backend is ${backend})`),
  );
}

/** A Keras padding mask `[B, T]` as the op takes it: time-major 0/1 (reversed in time for `goBackwards`); null if all ones. */
function timeMajorMask(mask: tf.Tensor, B: number, T: number, reversed: boolean): Float32Array | null {
  const v = mask.dataSync();
  const out = new Float32Array(T * B);
  let all = true;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const on = v[b * T + t] ? 1 : 0;
      out[(reversed ? T - 1 - t : t) * B + b] = on;
      if (on === 0) all = false;
    }
  }
  return all ? null : out;
}

/** Like tfjs-layers' `generateDropoutMask` with `count` draws (the first used, as the stock cells do). */
function dropoutMask(cell: CellLike, shape: number[], rate: number, count: number): tf.Tensor {
  const draw = (): tf.Tensor => {
    const ones = tf.ones(shape);
    return cell.dropoutFunc != null ? cell.dropoutFunc(ones, rate) : tf.dropout(ones, rate);
  };
  const first = draw();
  for (let k = 1; k < count; k++) draw();
  return first;
}

/** A drop-in `tf.layers.lstm` running sweepq's fused op (see {@link fusedCall}); saved as `LSTM`. */
export class FusedLSTM extends StockLSTM {
  static override className = FUSED_LSTM_CLASS_NAME;

  override getClassName(): string {
    return 'LSTM';
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: CallKwargs): tf.Tensor | tf.Tensor[] {
    return fusedCall(this, 'lstm', inputs, kwargs) ?? super.call(inputs, kwargs);
  }
}

/**
 * A drop-in `tf.layers.gru` (tfjs' GRU: `reset_after: false`, gate order z, r, h) running sweepq's fused op (see
 * {@link fusedCall}); saved as `GRU`.
 */
export class FusedGRU extends StockGRU {
  static override className = FUSED_GRU_CLASS_NAME;

  override getClassName(): string {
    return 'GRU';
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: CallKwargs): tf.Tensor | tf.Tensor[] {
    return fusedCall(this, 'gru', inputs, kwargs) ?? super.call(inputs, kwargs);
  }
}

/** The fused counterpart of a stock recurrent layer, from its config (same name and weights to come); else the layer. */
function fusedTwin(layer: tf.layers.Layer): tf.layers.Layer {
  const name = layer.getClassName();
  const config = layer.getConfig() as unknown as LstmArgs & GruArgs;
  if (name === 'LSTM' && !(layer instanceof FusedLSTM)) return new FusedLSTM(config);
  if (name === 'GRU' && !(layer instanceof FusedGRU)) return new FusedGRU(config);
  return layer;
}

/**
 * `tf.layers.bidirectional` whose two directions are {@link FusedLSTM} / {@link FusedGRU}: the stock wrapper clones the
 * wrapped layer by its class name, which the fused layers report as the stock one, so the clones are replaced here.
 * Saved as `Bidirectional` wrapping a stock `LSTM`/`GRU`.
 */
export class FusedBidirectional extends StockBidirectional {
  static override className = FUSED_BIDIRECTIONAL_CLASS_NAME;

  constructor(args: BidirectionalArgs) {
    super(args);
    const self = this as unknown as { forwardLayer: tf.layers.Layer; backwardLayer: tf.layers.Layer };
    self.forwardLayer = fusedTwin(self.forwardLayer);
    self.backwardLayer = fusedTwin(self.backwardLayer);
  }

  override getClassName(): string {
    return 'Bidirectional';
  }
}

for (const cls of [FusedLSTM, FusedGRU, FusedBidirectional]) {
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}

/** Arguments of {@link fusedLstm}: those of `tf.layers.lstm`. */
export type FusedLstmArgs = LstmArgs;

/** Make a {@link FusedLSTM} layer (the counterpart of `tf.layers.lstm`). */
export function fusedLstm(args: FusedLstmArgs): FusedLSTM {
  return new FusedLSTM(args);
}

/** Make a {@link FusedGRU} layer (the counterpart of `tf.layers.gru`). */
export function fusedGru(args: GruArgs): FusedGRU {
  return new FusedGRU(args);
}

/** Make a {@link FusedBidirectional} wrapper (the counterpart of `tf.layers.bidirectional`). */
export function fusedBidirectional(args: BidirectionalArgs): FusedBidirectional {
  return new FusedBidirectional(args);
}
