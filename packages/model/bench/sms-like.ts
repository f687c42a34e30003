/**
 * Synthetic SMS-like text for the benchmarks (`mask-bench.ts`, `train-bench.ts --variants ...-mask`). The built-in
 * dataset (SpamAssassin mails) is long text: median 190 tokens, 76% of the mails longer than 100, so at max_len 100
 * nearly every row is full and masking has nothing to cut. Here lengths are log-normal with median 15 (sigma 0.75: 90%
 * under ~39, ~0.7% over 100, cut to the last `maxLen` as Keras does), word ids Zipf-like over the vocabulary, and a
 * label a model must learn: "spam" rows carry one to three of 50 marker words. Pre-padded with 0 like Keras
 * `pad_sequences`.
 */
import type { TrainData } from '../src/index.js';
import { mulberry32 } from '@sweepq/runtime/random';

/** Word ids 1..SMS_MARKERS mark a "spam" row. */
export const SMS_MARKERS = 50;

/** Shape of {@link smsLike}'s rows. */
export interface SmsLikeShape {
  /** Vocabulary size (ids 0..vocab-1, 0 the padding); default 10,000. */
  vocab?: number;
  /** Columns per row; default 100. */
  maxLen?: number;
}

/**
 * `n` SMS-like rows from `seed`: log-normal lengths (median 15), Zipf-like word ids, label 1 iff a marker word (ids
 * 1..{@link SMS_MARKERS}) occurs; `lengths` holds each row's length without its leading padding.
 */
export function smsLike(n: number, seed: number, shape: SmsLikeShape = {}): TrainData & { lengths: Int32Array } {
  const { vocab = 10_000, maxLen = 100 } = shape;
  if (vocab <= SMS_MARKERS + 1) throw new Error(`smsLike: vocab: expected more than ${SMS_MARKERS + 1} ids, got ${vocab}`);
  const rand = mulberry32(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  // Zipf-like over ids SMS_MARKERS+1..vocab-1: rank r has weight ~1/r, drawn by inverting the continuous CDF.
  const words = vocab - 1 - SMS_MARKERS;
  const word = (): number => SMS_MARKERS + 1 + Math.min(words - 1, Math.floor(Math.exp(rand() * Math.log(words + 1)) - 1));
  const x = new Int32Array(n * maxLen);
  const y = new Int32Array(n);
  const lengths = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const len = Math.min(maxLen, Math.max(1, Math.round(15 * Math.exp(0.75 * normal()))));
    const row = i * maxLen + maxLen - len;
    for (let t = 0; t < len; t++) x[row + t] = word();
    if (rand() < 0.4) {
      y[i] = 1;
      const k = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < k; j++) x[row + Math.floor(rand() * len)] = 1 + Math.floor(rand() * SMS_MARKERS);
    }
    lengths[i] = len;
  }
  return { x, y, n, maxLen, lengths };
}
