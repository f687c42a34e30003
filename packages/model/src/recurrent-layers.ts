import * as tf from '@tensorflow/tfjs';
import { fusedBidirectional, fusedGru, fusedLstm } from './fused-layers.js';

/** The recurrent cells the classifier can stack (Keras `LSTM` and `GRU`). */
export type CellKind = 'lstm' | 'gru';

/** Arguments of one recurrent layer: those `tf.layers.lstm` and `tf.layers.gru` share. */
export type RecurrentArgs = Parameters<typeof tf.layers.lstm>[0] & Parameters<typeof tf.layers.gru>[0];

/**
 * One recurrent layer of `kind`: sweepq's fused implementation when `fused` (saved under the stock class name, same
 * weights and config), else the stock tfjs-layers class.
 */
export function recurrentLayer(kind: CellKind, args: RecurrentArgs, fused: boolean): tf.layers.Layer {
  if (kind === 'lstm') return fused ? fusedLstm(args) : tf.layers.lstm(args);
  return fused ? fusedGru(args) : tf.layers.gru(args);
}

/** Keras `Bidirectional(layer, merge_mode='concat')` around a layer from {@link recurrentLayer}. */
export function bidirectionalLayer(layer: tf.layers.Layer, fused: boolean): tf.layers.Layer {
  const args = { layer: layer as tf.RNN, mergeMode: 'concat' } as const;
  return fused ? fusedBidirectional(args) : tf.layers.bidirectional(args);
}
