import type * as tf from '@tensorflow/tfjs';
import { predictProbabilities } from './training.js';

/**
 * What a trained model costs to ship and run, measured one way for the worker (every trial's `result.json` `costs`)
 * and the tabular benchmark (packages/search/bench/make-table.ts). Names as in the spec's metric names.
 */

/** Calls to classify before timing (first calls compile kernels and allocate). */
export const LATENCY_WARMUP = 3;
/** Timed calls; the median is reported. */
export const LATENCY_RUNS = 15;

/** Weights of the model (trainable and not; this model has only trainable ones): `param_count`. */
export function paramCount(model: tf.LayersModel): number {
  return model.countParams();
}

/** `model_bytes`: the bytes of a saved model's files, given as written (a string counts as its UTF-8 bytes). */
export function savedBytes(bodies: Iterable<string | ArrayBufferView>): number {
  let n = 0;
  for (const b of bodies) n += typeof b === 'string' ? Buffer.byteLength(b) : b.byteLength;
  return n;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * `latency_ms`: the median milliseconds to turn one input into the model's input with `encode` (the tokenizer, for a
 * text) and classify it alone (a batch of one, as a service answering requests would), over `runs` calls after
 * `warmup` untimed ones; inputs are taken in turn (cycling when fewer than the calls).
 */
export async function medianLatencyMs<T>(
  model: tf.LayersModel,
  inputs: readonly T[],
  encode: (input: T) => Int32Array,
  opts: { warmup?: number; runs?: number } = {},
): Promise<number> {
  const warmup = opts.warmup ?? LATENCY_WARMUP;
  const runs = opts.runs ?? LATENCY_RUNS;
  if (inputs.length === 0) throw new RangeError('medianLatencyMs: no inputs to classify; expected at least one');
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`medianLatencyMs: runs must be a positive integer, got ${runs}`);
  const times: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t = performance.now();
    const x = encode(inputs[i % inputs.length] as T);
    await predictProbabilities(model, x, 1, x.length, 1);
    if (i >= warmup) times.push(performance.now() - t);
  }
  return median(times);
}
