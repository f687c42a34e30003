import { DatasetError, DatasetErrorCode } from './errors.js';
import { checkInt } from './pad.js';
import type { RawDataset } from './readers.js';
import { stratifiedSplit } from './split.js';
import { KERAS_DEFAULT_FILTERS, Tokenizer } from './tokenizer.js';

/** One split of a prepared dataset, as flat typed arrays (CSR layout). */
export interface PreparedSplit {
  /** Class index per document (into {@link PreparedDataset.classes}). */
  labels: Int32Array;
  /** `n + 1` offsets into `tokens`: document `i` is `tokens[offsets[i]..offsets[i+1])`. */
  offsets: Int32Array;
  /** Concatenated full-vocabulary word indices (1-based), no padding, no `num_words` cut. */
  tokens: Int32Array;
}

/** Everything a trial needs, built once per sweep; see {@link prepareDataset}. */
export interface PreparedDataset {
  version: 1;
  /** Class names, sorted (numerically if every name is a number). */
  classes: string[];
  /** Vocabulary in Keras word-index order: `words[i - 1]` has index `i`. */
  words: string[];
  tokenizer: { filters: string; lower: boolean; split: string };
  splits: { train: PreparedSplit; validation: PreparedSplit; test: PreparedSplit };
  source: { uri: string; rows: number; classCounts: Record<string, number> };
}

/** Options of {@link prepareDataset}. */
export interface PrepareOptions {
  /** Fraction of each class held out for validation, in [0, 1). */
  validationSplit: number;
  /** Fraction of each class held out for test, in [0, 1). */
  testSplit: number;
  /** Seed of the split. */
  seed: number;
  /** Recorded in `source.uri`. */
  uri: string;
}

/** Sort class names: numerically when all are numbers, otherwise by UTF-16 code units (locale-independent). */
export function sortClasses(names: Iterable<string>): string[] {
  const list = [...new Set(names)];
  const numeric = list.every((s) => s.trim() !== '' && Number.isFinite(Number(s)));
  return numeric ? list.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0)) : list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Split (stratified, seeded), fit a Keras tokenizer (default filters, lower-case, split on `' '`) on the TRAIN texts
 * only, and encode every split with the full word index; words not seen in training are dropped, as Keras'
 * `texts_to_sequences` does without an OOV token. Trials then apply their own `max_words`/`max_len` with
 * {@link encodeForTrial}.
 */
export function prepareDataset(raw: RawDataset, opts: PrepareOptions): PreparedDataset {
  const n = raw.texts.length;
  if (raw.labels.length !== n) {
    throw new DatasetError(DatasetErrorCode.OPTIONS, `${opts.uri}: ${n} texts but ${raw.labels.length} labels; expected one label per text`, { file: opts.uri });
  }
  if (n === 0) throw new DatasetError(DatasetErrorCode.EMPTY, `${opts.uri}: no rows; expected at least one labelled text`, { file: opts.uri });
  const classes = sortClasses(raw.labels);
  if (classes.length < 2) {
    throw new DatasetError(DatasetErrorCode.ONE_CLASS, `${opts.uri}: only one class ("${classes[0] ?? ''}", ${n} rows); expected at least 2 classes`, { file: opts.uri });
  }
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const y = new Int32Array(n);
  const classCounts: Record<string, number> = {};
  for (const c of classes) classCounts[c] = 0;
  for (let i = 0; i < n; i++) {
    const l = raw.labels[i] as string;
    y[i] = classIndex.get(l) as number;
    classCounts[l] = (classCounts[l] as number) + 1;
  }
  const idx = stratifiedSplit(y, { validation: opts.validationSplit, test: opts.testSplit, seed: opts.seed });
  const tokenizer = new Tokenizer();
  const words = raw.texts.map((t) => tokenizer.tokenize(t));
  tokenizer.fitOnSequences(Array.from(idx.train, (i) => words[i] as string[]));
  const wordIndex = tokenizer.wordIndex;
  const encode = (rows: Int32Array): PreparedSplit => {
    const labels = new Int32Array(rows.length);
    const offsets = new Int32Array(rows.length + 1);
    let total = 0;
    for (let k = 0; k < rows.length; k++) total += (words[rows[k] as number] as string[]).length;
    const tokens = new Int32Array(total);
    let pos = 0;
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k] as number;
      labels[k] = y[r] as number;
      for (const w of words[r] as string[]) {
        const id = wordIndex.get(w);
        if (id !== undefined) tokens[pos++] = id;
      }
      offsets[k + 1] = pos;
    }
    return { labels, offsets, tokens: pos === total ? tokens : tokens.slice(0, pos) };
  };
  return {
    version: 1,
    classes,
    words: [...wordIndex.keys()],
    tokenizer: { filters: KERAS_DEFAULT_FILTERS, lower: true, split: ' ' },
    splits: { train: encode(idx.train), validation: encode(idx.validation), test: encode(idx.test) },
    source: { uri: opts.uri, rows: n, classCounts },
  };
}

/** Options of {@link encodeForTrial} and {@link trialVocabulary}. */
export interface TrialEncoding {
  /** Keras `num_words`: indices `>= maxWords` are dropped (so `maxWords - 1` words are kept). Integer >= 1. */
  maxWords: number;
  /** Sequence length; pre-truncation and pre-padding with 0 (Keras defaults). Integer >= 1. */
  maxLen: number;
}

/**
 * The trial's model input: drop indices `>= maxWords` (Keras `num_words`), keep the last `maxLen` remaining
 * indices (`truncating: 'pre'`) and left-pad with 0 (`padding: 'pre'`). One pass, back to front, per document.
 *
 * @returns `x` row-major `[n, maxLen]`, `y` class indices, `n` rows
 */
export function encodeForTrial(split: PreparedSplit, opts: TrialEncoding): { x: Int32Array; y: Int32Array; n: number } {
  const maxWords = checkInt('max_words', opts.maxWords, 1);
  const maxLen = checkInt('max_len', opts.maxLen, 1);
  const { offsets, tokens } = split;
  const n = split.labels.length;
  const x = new Int32Array(n * maxLen);
  for (let i = 0; i < n; i++) {
    const start = offsets[i] as number;
    const rowStart = i * maxLen;
    let pos = rowStart + maxLen - 1;
    for (let j = (offsets[i + 1] as number) - 1; j >= start && pos >= rowStart; j--) {
      const t = tokens[j] as number;
      if (t < maxWords) x[pos--] = t;
    }
  }
  return { x, y: split.labels.slice(), n };
}
