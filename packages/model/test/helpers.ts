import { expect } from 'vitest';
import { tf, type ModelParams, type TrainData } from '../src/index.js';
import { mulberry32 } from '@sweepq/runtime/random';

/** Tiny model used by the tests: fast on every backend. */
export const TINY: ModelParams = {
  maxWords: 50,
  maxLen: 10,
  embeddingDim: 8,
  lstmUnits: 8,
  dropout: 0,
  recurrentDropout: 0,
  learningRate: 0.02,
  optimizer: 'adam',
  numClasses: 2,
  seed: 42,
};

/** A separable dataset: label 1 iff token 1 appears in the row. Deterministic in `seed`. */
export function separable(n: number, maxLen: number, vocab: number, seed: number): TrainData {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const x = new Int32Array(n * maxLen);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const positive = i % 2 === 0;
    for (let t = 0; t < maxLen; t++) x[i * maxLen + t] = 2 + Math.floor(rand() * (vocab - 2));
    if (positive) x[i * maxLen + Math.floor(rand() * maxLen)] = 1;
    y[i] = positive ? 1 : 0;
  }
  return { x, y, n, maxLen };
}

/**
 * Like {@link separable}, but rows have random lengths `0..maxLen` and are pre-padded with 0 (Keras `pad_sequences`),
 * words drawn from `2..vocab-1`; label 1 iff token 1 appears. Row 0 is all padding. Deterministic in `seed`.
 */
export function variableLength(n: number, maxLen: number, vocab: number, seed: number): TrainData {
  const rand = mulberry32(seed);
  const x = new Int32Array(n * maxLen);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const len = i === 0 ? 0 : 1 + Math.floor(rand() * maxLen);
    const positive = len > 0 && i % 2 === 0;
    for (let t = maxLen - len; t < maxLen; t++) x[i * maxLen + t] = 2 + Math.floor(rand() * (vocab - 2));
    if (positive) x[i * maxLen + maxLen - 1 - Math.floor(rand() * len)] = 1;
    y[i] = positive ? 1 : 0;
  }
  return { x, y, n, maxLen };
}

export { enableRelaxedSimd } from '../../kernels/test/helpers.js';

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** A dropoutFunc returning one fixed mask per shape and rate (stock and fused layers then see equal masks). */
export function fixedMasks(seed: number): (x: tf.Tensor, rate: number) => tf.Tensor {
  const cache = new Map<string, Float32Array>();
  return (x, rate) => {
    const key = `${x.shape.join('x')}@${rate}`;
    let m = cache.get(key);
    if (m == null) {
      const rand = lcg(seed + cache.size * 101);
      m = Float32Array.from({ length: x.size }, () => (rand() < rate ? 0 : 1 / (1 - rate)));
      cache.set(key, m);
    }
    return tf.tensor(m, x.shape);
  };
}

/** Largest absolute difference of `a` from `b`, relative to the largest magnitude of `b` (absolute when `b` is all zero). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** {@link maxRelDiff} of two tensors of the same shape. */
export function relErr(got: tf.Tensor, want: tf.Tensor): number {
  expect(got.shape).toEqual(want.shape);
  return maxRelDiff(got.dataSync(), want.dataSync());
}

