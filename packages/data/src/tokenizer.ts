import { DatasetError, DatasetErrorCode } from './errors.js';

/** Keras' default `filters`: punctuation, tab and newline (but not `\r`). */
export const KERAS_DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n';

/** Options of {@link Tokenizer}, mirroring `keras.preprocessing.text.Tokenizer`. */
export interface TokenizerConfig {
  /** Keep only indices `< numWords` when encoding; does not change `wordIndex`. Default: no limit (Keras `None`). */
  numWords?: number;
  /** Characters replaced by `split` before splitting. Default {@link KERAS_DEFAULT_FILTERS}. */
  filters?: string;
  /** Lower-case the text first. Default `true`. */
  lower?: boolean;
  /** Separator to split on. Default `' '`. */
  split?: string;
  /** Character-level tokenization is not supported; only `false` is accepted. Default `false`. */
  charLevel?: false;
  /** Token that gets index 1 and replaces unknown (and, with `numWords`, rare) words. Default: none. */
  oovToken?: string;
}

interface Splitter {
  /** Separator lookup for code units < 128. */
  ascii: Uint8Array;
  /** Separator code units >= 128. */
  other: Set<number>;
}

const splitterCache = new Map<string, Splitter | RegExp | null>();

/**
 * With a one-unit `split` and filters made of single UTF-16 units, "replace filters with split, split, drop empties"
 * is "split on any separator character, drop empties", done in one scan (about twice as fast as replace + split).
 */
let lastSplitter: { filters: string; split: string; sp: Splitter | RegExp | null } | undefined;

function splitterFor(filters: string, split: string): Splitter | RegExp | null {
  // The same settings row after row (a dataset of millions of rows): no key to build.
  if (lastSplitter !== undefined && lastSplitter.filters === filters && lastSplitter.split === split) return lastSplitter.sp;
  lastSplitter = { filters, split, sp: splitterForKey(filters, split) };
  return lastSplitter.sp;
}

function splitterForKey(filters: string, split: string): Splitter | RegExp | null {
  const key = `${split.length}:${split}${filters}`;
  let sp = splitterCache.get(key);
  if (sp === undefined) {
    const chars = [...new Set(filters)];
    if (split.length === 1 && chars.every((c) => c.length === 1)) {
      const ascii = new Uint8Array(128);
      const other = new Set<number>();
      for (const c of [...chars, split]) {
        const code = c.charCodeAt(0);
        if (code < 128) ascii[code] = 1;
        else other.add(code);
      }
      sp = { ascii, other };
    } else {
      sp = chars.length === 0 ? null : new RegExp(`[${chars.map((c) => c.replace(/[\\\]^[-]/g, '\\$&')).join('')}]`, 'gu');
    }
    if (splitterCache.size > 32) splitterCache.clear();
    splitterCache.set(key, sp);
  }
  return sp;
}

/**
 * For `filters` and a one-unit `split` that are all ASCII (the defaults are): the separator table of
 * {@link textToWordSequence}, indexed by code unit < 128 (1: separator). Undefined for other settings. Callers
 * that scan ASCII text themselves use it, so the set of separators has one owner.
 */
export function asciiSeparators(filters = KERAS_DEFAULT_FILTERS, split = ' '): Uint8Array | undefined {
  const sp = splitterFor(filters, split);
  return sp === null || sp instanceof RegExp || sp.other.size > 0 ? undefined : sp.ascii;
}

/**
 * Keras `text_to_word_sequence`: optionally lower-case, replace every character of `filters` with `split`,
 * split on `split`, and drop empty strings.
 *
 * @param filters default {@link KERAS_DEFAULT_FILTERS}
 * @param lower default `true`
 * @param split default `' '`
 */
export function textToWordSequence(text: string, filters = KERAS_DEFAULT_FILTERS, lower = true, split = ' '): string[] {
  if (split.length === 0) {
    throw new DatasetError(DatasetErrorCode.OPTIONS, 'tokenizer.split: expected a non-empty separator, got ""');
  }
  const s = lower ? text.toLowerCase() : text;
  const sp = splitterFor(filters, split);
  const out: string[] = [];
  if (sp === null || sp instanceof RegExp) {
    // A replacement string (with `$` escaped) is several times faster than a replacer function.
    const replaced = sp === null ? s : s.replace(sp, split.includes('$') ? split.replace(/\$/g, '$$$$') : split);
    for (const p of replaced.split(split)) if (p.length > 0) out.push(p);
    return out;
  }
  const { ascii, other } = sp;
  const checkOther = other.size > 0;
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 ? ascii[c] === 1 : checkOther && other.has(c)) {
      if (start >= 0) {
        out.push(s.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) out.push(s.slice(start));
  return out;
}

/** The Keras `Tokenizer.to_json()` layout, so a fitted tokenizer can be loaded by `tokenizer_from_json` in Python. */
interface KerasTokenizerJson {
  class_name: 'Tokenizer';
  config: {
    num_words: number | null;
    filters: string;
    lower: boolean;
    split: string;
    char_level: false;
    oov_token: string | null;
    document_count: number;
    word_counts: string;
    word_docs: string;
    index_docs: string;
    index_word: string;
    word_index: string;
  };
}

/** JSON object text that keeps the given key order (JSON.stringify would move integer-like keys first). */
function orderedDict(entries: Iterable<readonly [string | number, string | number]>): string {
  const parts: string[] = [];
  for (const [k, v] of entries) parts.push(`${JSON.stringify(String(k))}: ${JSON.stringify(v)}`);
  return `{${parts.join(', ')}}`;
}

/** Parse a flat JSON object of numbers, keeping key order (JSON.parse reorders integer-like keys). */
function parseOrderedCounts(text: unknown, what: string): [string, number][] {
  if (typeof text !== 'string') throw corrupt(`${what}: expected a JSON string, got ${typeof text}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw corrupt(`${what}: not valid JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw corrupt(`${what}: expected an object`);
  const entries: [string, number][] = [];
  const re = /("(?:[^"\\]|\\.)*")\s*:\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/gy;
  let pos = 1;
  const body = text.trim();
  while (pos < body.length - 1) {
    while (/[\s,]/.test(body[pos] ?? '')) pos++;
    if (pos >= body.length - 1) break;
    re.lastIndex = pos;
    const m = re.exec(body);
    if (m === null) throw corrupt(`${what}: expected "word": count at character ${pos}`);
    entries.push([JSON.parse(m[1] as string) as string, Number(m[2])]);
    pos = re.lastIndex;
  }
  if (entries.length !== Object.keys(parsed).length) throw corrupt(`${what}: duplicate or malformed keys`);
  for (const [k, v] of entries) {
    if (!Number.isInteger(v) || v < 0) throw corrupt(`${what}["${k}"]: expected a non-negative integer, got ${v}`);
  }
  return entries;
}

function corrupt(message: string): DatasetError {
  return new DatasetError(DatasetErrorCode.CORRUPT, `tokenizer JSON: ${message}`);
}

/**
 * A port of `keras.preprocessing.text.Tokenizer` (word level). `wordIndex` is ordered by count descending, ties
 * in first-occurrence order (Python's stable sort), starting at 1, with the OOV token (if any) at 1. `numWords`
 * only affects {@link Tokenizer.textsToSequences}.
 */
export class Tokenizer {
  readonly numWords: number | null;
  readonly filters: string;
  readonly lower: boolean;
  readonly split: string;
  readonly oovToken: string | null;
  /** Word -> number of occurrences, in first-occurrence order. */
  readonly wordCounts = new Map<string, number>();
  /** Word -> number of documents containing it, in first-occurrence order. */
  readonly wordDocs = new Map<string, number>();
  /** Word -> index (1-based). Rebuilt by every {@link Tokenizer.fitOnTexts}. */
  readonly wordIndex = new Map<string, number>();
  /** Index -> word. */
  readonly indexWord = new Map<number, string>();
  private docCount = 0;
  private readonly stats = new Map<string, { count: number; docs: number; lastDoc: number }>();

  constructor(cfg: TokenizerConfig = {}) {
    if ((cfg.charLevel as boolean | undefined) === true) {
      throw new DatasetError(DatasetErrorCode.OPTIONS, 'tokenizer.char_level: only word-level tokenization (false) is supported, got true');
    }
    if (cfg.numWords !== undefined && cfg.numWords !== null && !(Number.isInteger(cfg.numWords) && cfg.numWords >= 0)) {
      throw new DatasetError(DatasetErrorCode.OPTIONS, `tokenizer.num_words: expected an integer >= 0, got ${String(cfg.numWords)}`);
    }
    this.numWords = cfg.numWords ?? null;
    this.filters = cfg.filters ?? KERAS_DEFAULT_FILTERS;
    this.lower = cfg.lower ?? true;
    this.split = cfg.split ?? ' ';
    this.oovToken = cfg.oovToken ?? null;
    if (this.split.length === 0) {
      throw new DatasetError(DatasetErrorCode.OPTIONS, 'tokenizer.split: expected a non-empty separator, got ""');
    }
  }

  /** Number of texts seen by {@link Tokenizer.fitOnTexts} (Keras `document_count`). */
  get documentCount(): number {
    return this.docCount;
  }

  /** Split one text the way this tokenizer does. */
  tokenize(text: string): string[] {
    return textToWordSequence(text, this.filters, this.lower, this.split);
  }

  /** Update counts from `texts` and rebuild the word index (Keras `fit_on_texts`). */
  fitOnTexts(texts: readonly string[]): void {
    this.fitOnSequences(texts.map((t) => this.tokenize(t)));
  }

  /** Like {@link Tokenizer.fitOnTexts} for texts already split with {@link Tokenizer.tokenize}. */
  fitOnSequences(seqs: readonly (readonly string[])[]): void {
    // One map lookup per token: counts, document counts and the last document seen live in one entry.
    const stats = this.stats;
    for (const seq of seqs) {
      const doc = ++this.docCount;
      for (const w of seq) {
        const e = stats.get(w);
        if (e === undefined) stats.set(w, { count: 1, docs: 1, lastDoc: doc });
        else {
          e.count++;
          if (e.lastDoc !== doc) {
            e.docs++;
            e.lastDoc = doc;
          }
        }
      }
    }
    this.wordCounts.clear();
    this.wordDocs.clear();
    for (const [w, e] of stats) {
      this.wordCounts.set(w, e.count);
      this.wordDocs.set(w, e.docs);
    }
    this.rebuildIndex();
  }

  private rebuildIndex(): void {
    // Array.prototype.sort is stable, like Python's list.sort(reverse=True).
    const sorted = [...this.wordCounts].sort((a, b) => b[1] - a[1]);
    const vocab = this.oovToken === null ? [] : [this.oovToken];
    for (const [w] of sorted) vocab.push(w);
    this.wordIndex.clear();
    this.indexWord.clear();
    // dict(zip(...)) in Keras: a word equal to the OOV token overwrites the OOV entry with its later index.
    vocab.forEach((w, i) => {
      this.wordIndex.set(w, i + 1);
      this.indexWord.set(i + 1, w);
    });
  }

  /** Keras `texts_to_sequences`. */
  textsToSequences(texts: readonly string[]): number[][] {
    return texts.map((t) => this.wordsToSequence(this.tokenize(t)));
  }

  /** Encode one already-split text with the Keras `num_words` and OOV rules. */
  wordsToSequence(words: readonly string[]): number[] {
    const numWords = this.numWords;
    const oovIndex = this.oovToken === null ? undefined : this.wordIndex.get(this.oovToken);
    const out: number[] = [];
    for (const w of words) {
      const i = this.wordIndex.get(w);
      if (i !== undefined) {
        if (numWords && i >= numWords) {
          if (oovIndex !== undefined) out.push(oovIndex);
        } else {
          out.push(i);
        }
      } else if (this.oovToken !== null && oovIndex !== undefined) {
        out.push(oovIndex);
      }
    }
    return out;
  }

  /** Keras `Tokenizer.to_json()` content (as an object); `JSON.stringify` it for a file Python Keras can load. */
  toJSON(): object {
    const json: KerasTokenizerJson = {
      class_name: 'Tokenizer',
      config: {
        num_words: this.numWords,
        filters: this.filters,
        lower: this.lower,
        split: this.split,
        char_level: false,
        oov_token: this.oovToken,
        document_count: this.docCount,
        word_counts: orderedDict(this.wordCounts),
        word_docs: orderedDict(this.wordDocs),
        index_docs: orderedDict([...this.wordDocs].map(([w, c]) => [this.wordIndex.get(w) ?? 0, c] as const)),
        index_word: orderedDict(this.indexWord),
        word_index: orderedDict(this.wordIndex),
      },
    };
    return json;
  }

  /** Inverse of {@link Tokenizer.toJSON}; accepts the object or its JSON text. Throws `DATASET_CORRUPT`. */
  static fromJSON(o: unknown): Tokenizer {
    let obj = o;
    if (typeof obj === 'string') {
      try {
        obj = JSON.parse(obj);
      } catch (e) {
        throw corrupt(`not valid JSON (${(e as Error).message})`);
      }
    }
    if (obj === null || typeof obj !== 'object') throw corrupt('expected an object');
    const c = (obj as { config?: unknown }).config;
    if ((obj as { class_name?: unknown }).class_name !== 'Tokenizer' || c === null || typeof c !== 'object') {
      throw corrupt('expected {"class_name": "Tokenizer", "config": {...}}');
    }
    const cfg = c as Record<string, unknown>;
    const str = (k: string): string => {
      const v = cfg[k];
      if (typeof v !== 'string') throw corrupt(`config.${k}: expected a string, got ${JSON.stringify(v)}`);
      return v;
    };
    const numWords = cfg.num_words;
    if (numWords !== null && numWords !== undefined && typeof numWords !== 'number') throw corrupt('config.num_words: expected a number or null');
    const oov = cfg.oov_token;
    if (oov !== null && oov !== undefined && typeof oov !== 'string') throw corrupt('config.oov_token: expected a string or null');
    if (cfg.char_level === true) throw corrupt('config.char_level: only false is supported');
    const docCount = cfg.document_count;
    if (!Number.isInteger(docCount) || (docCount as number) < 0) throw corrupt('config.document_count: expected an integer >= 0');
    const lower = cfg.lower;
    if (typeof lower !== 'boolean') throw corrupt('config.lower: expected a boolean');
    const tok = new Tokenizer({
      ...(typeof numWords === 'number' ? { numWords } : {}),
      filters: str('filters'),
      lower,
      split: str('split'),
      ...(typeof oov === 'string' ? { oovToken: oov } : {}),
    });
    for (const [w, n] of parseOrderedCounts(cfg.word_counts, 'config.word_counts')) {
      tok.wordCounts.set(w, n);
      tok.stats.set(w, { count: n, docs: 0, lastDoc: 0 });
    }
    const docs = cfg.word_docs === undefined ? [] : parseOrderedCounts(cfg.word_docs, 'config.word_docs');
    for (const [w, n] of docs) {
      const e = tok.stats.get(w);
      if (e === undefined) throw corrupt(`config.word_docs: "${w}" is not in config.word_counts`);
      e.docs = n;
      tok.wordDocs.set(w, n);
    }
    tok.docCount = docCount as number;
    tok.rebuildIndex();
    if (cfg.word_index !== undefined) {
      const stored = parseOrderedCounts(cfg.word_index, 'config.word_index');
      const same = stored.length === tok.wordIndex.size && stored.every(([w, i]) => tok.wordIndex.get(w) === i);
      if (!same) throw corrupt('config.word_index does not match config.word_counts');
    }
    return tok;
  }
}
