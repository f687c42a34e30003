import * as tf from '@tensorflow/tfjs';

type DropoutLayer = ReturnType<typeof tf.layers.dropout>;
type DropoutArgs = Parameters<typeof tf.layers.dropout>[0];
type CallKwargs = Parameters<DropoutLayer['call']>[1];

const StockDropout = Object.getPrototypeOf(tf.layers.dropout({ rate: 0.5 })).constructor as {
  new (args: DropoutArgs): DropoutLayer;
  className: string;
};

/** Class name under which {@link FastDropout} is registered for deserialisation (never written to model.json). */
export const FAST_DROPOUT_CLASS_NAME = 'SweepqDropout';

/**
 * A drop-in `tf.layers.dropout` whose training-time mask comes from a fast seeded generator (mulberry32) instead of
 * `tf.randomUniform`, which draws every element through seedrandom's Alea in JS: 6-10 ms per step for the
 * `[32, 100, 64]` activations after the seed model's Embedding, as much as the whole fused LSTM backward recurrence.
 * Same semantics: each element kept with probability `1 - rate` and scaled by `1 / (1 - rate)`, `noiseShape`
 * honoured, `seed` (as set by the training loop per batch) makes the mask reproducible; the masks differ from
 * `tf.dropout`'s for the same seed. Reports its class as `Dropout` with the stock config, so saved models name the
 * standard class.
 */
export class FastDropout extends StockDropout {
  static override className = FAST_DROPOUT_CLASS_NAME;

  override getClassName(): string {
    return 'Dropout';
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: CallKwargs): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as { rate: number; seed?: number; noiseShape?: Array<number | null> };
    const training = (kwargs as Record<string, unknown> | undefined)?.['training'] === true;
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!training || input == null || !(self.rate > 0 && self.rate < 1)) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const shape = self.noiseShape == null ? input.shape : self.noiseShape.map((d, i) => (d == null ? input.shape[i]! : d));
      const mask = dropoutMask(shape, self.rate, self.seed);
      return tf.mul(input, mask);
    });
  }
}
tf.serialization.registerClass(FastDropout as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

/** A `[shape]` tensor of `0` (probability `rate`) and `1 / (1 - rate)`, from mulberry32 seeded by `seed` (else random). */
export function dropoutMask(shape: number[], rate: number, seed?: number): tf.Tensor {
  const n = shape.reduce((a, d) => a * d, 1);
  const keep = 1 - rate;
  const scale = Math.fround(1 / keep);
  // Keep iff the 32-bit draw is below keep·2^32.
  const threshold = Math.floor(keep * 4294967296);
  let s = (seed == null ? Math.floor(Math.random() * 4294967296) : mixSeed(seed)) >>> 0;
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const u = (t ^ (t >>> 14)) >>> 0;
    m[i] = u < threshold ? scale : 0;
  }
  return tf.tensor(m, shape);
}

function mixSeed(seed: number): number {
  // Fold a (possibly fractional or large) seed into 32 bits.
  let h = Math.floor(seed) ^ Math.floor(seed / 4294967296) ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Make a {@link FastDropout} layer (the counterpart of `tf.layers.dropout`). */
export function fastDropout(args: DropoutArgs): FastDropout {
  return new FastDropout(args);
}
