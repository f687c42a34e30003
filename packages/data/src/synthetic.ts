import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { seededRandom } from '@sweepq/runtime/random';

/** Options of {@link syntheticRows} and {@link writeSyntheticCsv}. */
export interface SyntheticOptions {
  /** Number of data rows. */
  rows: number;
  /** Number of classes (labels `c0`, `c1`, …). Default 3. */
  classes?: number;
  /** Vocabulary size; word ranks follow Zipf's law with exponent 1. Default 100,000. */
  vocabulary?: number;
  /** Words per row, uniform in [min, max]. Default [5, 120]. */
  words?: [number, number];
  /** Seed of the generator. Default 1. */
  seed?: number;
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'te', 'vo', 'zi', 'pa', 'do', 'fe', 'gu', 'hi', 'ja', 'ba', 'ce', 'xo', 'yu', 'wa'];

/** A pronounceable word for rank `k` (distinct per rank). */
function wordFor(k: number): string {
  let s = '';
  let n = k;
  do {
    s += SYLLABLES[n % SYLLABLES.length] as string;
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  return s;
}

/**
 * Deterministic labelled rows for tests and benchmarks: Zipf-distributed words (rank 1 most frequent), a per-class
 * shift of the word ranks so the classes are learnable, some capitals and punctuation, and now and then a comma or
 * a double quote (so CSV quoting is exercised). Yields `[text, label]`.
 */
export function* syntheticRows(opts: SyntheticOptions): Generator<[string, string]> {
  const rand = seededRandom(opts.seed ?? 1);
  const nClasses = opts.classes ?? 3;
  const vocab = opts.vocabulary ?? 100_000;
  const [minW, maxW] = opts.words ?? [5, 120];
  const zipf = zipfSampler(vocab, rand);
  const words = Array.from({ length: Math.min(vocab, 1 << 16) }, (_, k) => wordFor(k));
  const word = (k: number): string => (k < words.length ? (words[k] as string) : wordFor(k));
  for (let r = 0; r < opts.rows; r++) {
    const c = Math.floor(rand() * nClasses);
    const n = minW + Math.floor(rand() * (maxW - minW + 1));
    const parts: string[] = [];
    for (let j = 0; j < n; j++) {
      const lo = zipf();
      // Rare-ish words drift with the class, frequent ones are shared.
      const k = lo < 50 ? lo : (lo + c * 7919) % vocab;
      let w = word(k);
      const p = rand();
      if (p < 0.03) w = w[0]?.toUpperCase() + w.slice(1);
      else if (p < 0.05) w += ',';
      else if (p < 0.06) w += '.';
      else if (p < 0.062) w = `"${w}"`;
      parts.push(w);
    }
    yield [parts.join(' '), `c${c}`];
  }
}

/**
 * Draws of word ranks 0..vocab-1 with Zipf weights (rank k has weight 1/(k+1)), one `rand()` call per draw: cumulative
 * weights, sampled by binary search.
 */
export function zipfSampler(vocab: number, rand: () => number): () => number {
  const cdf = new Float64Array(vocab);
  let acc = 0;
  for (let k = 0; k < vocab; k++) cdf[k] = acc += 1 / (k + 1);
  return () => {
    const u = rand() * acc;
    let lo = 0;
    let hi = vocab - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** One CSV field, quoted when it holds a comma, a quote or a line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Write {@link syntheticRows} as a `text,label` CSV file (with a header row), streamed. Returns the bytes written. */
export async function writeSyntheticCsv(path: string, opts: SyntheticOptions): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  let chunk = 'text,label\n';
  for (const [text, label] of syntheticRows(opts)) {
    chunk += `${csvField(text)},${label}\n`;
    if (chunk.length > 1 << 20) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  bytes += Buffer.byteLength(chunk);
  out.end(chunk);
  await once(out, 'finish');
  return bytes;
}
