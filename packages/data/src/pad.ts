import { DatasetError, DatasetErrorCode } from './errors.js';

/** Options of {@link padSequences}. */
export interface PadOptions {
  /** Row length; every row is padded or truncated to it. Integer >= 1. */
  maxLen: number;
  /** Where padding goes. Default `'pre'` (Keras). */
  padding?: 'pre' | 'post';
  /** Which end is cut from sequences longer than `maxLen`. Default `'pre'` (Keras: keeps the last `maxLen`). */
  truncating?: 'pre' | 'post';
  /** Padding value. Default `0`. */
  value?: number;
}

/** Throws `DATASET_OPTIONS` unless `v` is an integer >= `min`. */
export function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new DatasetError(DatasetErrorCode.OPTIONS, `${name}: expected an integer >= ${min}, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/**
 * Keras `pad_sequences` with an explicit `maxlen`: returns a row-major `[seqs.length, maxLen]` Int32Array.
 * Defaults follow Keras: `padding: 'pre'`, `truncating: 'pre'`, `value: 0`.
 */
export function padSequences(seqs: ArrayLike<number>[] | number[][], opts: PadOptions): Int32Array {
  const maxLen = checkInt('max_len', opts.maxLen, 1);
  const padding = opts.padding ?? 'pre';
  const truncating = opts.truncating ?? 'pre';
  for (const [k, v] of [['padding', padding], ['truncating', truncating]] as const) {
    if (v !== 'pre' && v !== 'post') {
      throw new DatasetError(DatasetErrorCode.OPTIONS, `${k}: expected "pre" or "post", got ${JSON.stringify(v)}`);
    }
  }
  const value = opts.value ?? 0;
  const n = seqs.length;
  const x = new Int32Array(n * maxLen);
  if (value !== 0) x.fill(value);
  for (let r = 0; r < n; r++) {
    const s = seqs[r] as ArrayLike<number>;
    const len = s.length;
    if (len === 0) continue;
    const keep = len < maxLen ? len : maxLen;
    const from = truncating === 'pre' ? len - keep : 0;
    const to = padding === 'pre' ? r * maxLen + maxLen - keep : r * maxLen;
    for (let j = 0; j < keep; j++) x[to + j] = s[from + j] as number;
  }
  return x;
}
