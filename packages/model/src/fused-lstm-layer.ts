import * as tf from '@tensorflow/tfjs';
import { fusedLstmLastOutput, type FusedLstmOptions, type RecurrentActivation } from '@sweepq/kernels';


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
      const xtm = tf.transpose(x3, [1, 0, 2]) as tf.Tensor3D;
      const opts: FusedLstmOptions = { recurrentActivation: recAct as RecurrentActivation };
      if (inMask != null) opts.inputMask = inMask as tf.Tensor2D;
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
