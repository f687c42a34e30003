import type { ModelParams, TrainData } from '../src/index.js';

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

export { enableRelaxedSimd } from '../../kernels/test/helpers.js';
