import { describe, expect, it } from 'vitest';
import {
  deserializePrepared,
  encodeForTrial,
  encodeTexts,
  padSequences,
  prepareDataset,
  preparedHash,
  serializePrepared,
  stratifiedSplit,
  Tokenizer,
  trialVocabulary,
} from '../src/index.js';
import type { PreparedDataset, RawDataset } from '../src/index.js';

const words = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
function makeRaw(n: number): RawDataset {
  const texts: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + ((i * 7) % 13);
    texts.push(Array.from({ length: len }, (_, j) => words[(i * 3 + j * j) % words.length]).join(j(i)) + ` doc${i}!`);
    labels.push(['10', '2', '1'][i % 3] as string);
  }
  return { texts, labels };
}
function j(i: number): string {
  return i % 2 === 0 ? ' ' : ', ';
}
const opts = { validationSplit: 0.2, testSplit: 0.2, seed: 11, uri: 'mem:test' };

/** The texts of each split in split order, recomputed the way prepareDataset splits. */
function splitTexts(raw: RawDataset, p: PreparedDataset): Record<'train' | 'validation' | 'test', string[]> {
  const y = raw.labels.map((l) => p.classes.indexOf(l));
  const idx = stratifiedSplit(y, { validation: opts.validationSplit, test: opts.testSplit, seed: opts.seed });
  return {
    train: Array.from(idx.train, (i) => raw.texts[i] as string),
    validation: Array.from(idx.validation, (i) => raw.texts[i] as string),
    test: Array.from(idx.test, (i) => raw.texts[i] as string),
  };
}

describe('prepareDataset', () => {
  const raw = makeRaw(90);
  const p = prepareDataset(raw, opts);

  it('sorts classes (numerically for numeric labels) and counts them', () => {
    expect(p.classes).toEqual(['1', '2', '10']);
    expect(p.source).toEqual({ uri: 'mem:test', rows: 90, classCounts: { '1': 30, '2': 30, '10': 30 } });
    expect(p.splits.train.labels.length + p.splits.validation.labels.length + p.splits.test.labels.length).toBe(90);
  });
  it('fits the tokenizer on the training split only and encodes every split with that index', () => {
    const texts = splitTexts(raw, p);
    const tok = new Tokenizer();
    tok.fitOnTexts(texts.train);
    expect(p.words).toEqual([...tok.wordIndex.keys()]);
    // doc<i> tokens of held-out rows are unseen in training, so they must not be in the vocabulary.
    expect(p.words).not.toContain(tok.tokenize(texts.test[0] as string).at(-1));
    for (const s of ['train', 'validation', 'test'] as const) {
      const seqs = tok.textsToSequences(texts[s]);
      const sp = p.splits[s];
      expect(sp.offsets.length).toBe(seqs.length + 1);
      expect([...sp.tokens]).toEqual(seqs.flat());
      expect(Array.from(sp.labels, (c) => p.classes[c])).toEqual(texts[s].map((t) => raw.labels[raw.texts.indexOf(t)]));
    }
  });
  it('rejects one class, no rows and mismatched lengths', () => {
    expect(() => prepareDataset({ texts: ['a', 'b'], labels: ['x', 'x'] }, opts)).toThrow(expect.objectContaining({ code: 'DATASET_ONE_CLASS' }));
    expect(() => prepareDataset({ texts: [], labels: [] }, opts)).toThrow(expect.objectContaining({ code: 'DATASET_EMPTY' }));
    expect(() => prepareDataset({ texts: ['a'], labels: [] }, opts)).toThrow(/1 texts but 0 labels/);
  });

  it('encodeForTrial = Keras num_words cut + pad_sequences pre/pre, and equals encodeTexts on vocab.json', () => {
    const texts = splitTexts(raw, p);
    for (const [maxWords, maxLen] of [[5, 4], [1000, 20], [2, 3], [1, 2]] as const) {
      for (const s of ['train', 'validation', 'test'] as const) {
        const tok = new Tokenizer({ numWords: maxWords });
        tok.fitOnTexts(texts.train);
        const expected = padSequences(tok.textsToSequences(texts[s]), { maxLen });
        const enc = encodeForTrial(p.splits[s], { maxWords, maxLen });
        expect(enc.n).toBe(texts[s].length);
        expect([...enc.x]).toEqual([...expected]);
        expect(enc.y).toEqual(p.splits[s].labels);
        const vocab = JSON.parse(JSON.stringify(trialVocabulary(p, { maxWords, maxLen }))) as ReturnType<typeof trialVocabulary>;
        expect([...encodeTexts(vocab, texts[s])]).toEqual([...enc.x]);
      }
    }
  });
  it('trialVocabulary keeps only indices < maxWords and describes the preprocessing', () => {
    const v = trialVocabulary(p, { maxWords: 4, maxLen: 7 });
    expect(Object.values(v.word_index).sort()).toEqual([1, 2, 3]);
    expect(v).toMatchObject({ format: 'sweepq-vocab/1', num_words: 4, max_len: 7, padding: 'pre', truncating: 'pre', lower: true, split: ' ', classes: ['1', '2', '10'], oov_token: null });
    expect(() => encodeTexts({ ...v, max_len: 0 }, ['x'])).toThrow(expect.objectContaining({ code: 'DATASET_CORRUPT' }));
  });
  it('encodeTexts treats words like __proto__ and constructor as ordinary keys', () => {
    const base = prepareDataset(makeRaw(30), opts);
    const p2: PreparedDataset = { ...base, words: ['__proto__', 'constructor', 'a'], tokenizer: { ...base.tokenizer, filters: '' } };
    const v = JSON.parse(JSON.stringify(trialVocabulary(p2, { maxWords: 100, maxLen: 4 }))) as ReturnType<typeof trialVocabulary>;
    expect(Object.hasOwn(v.word_index, '__proto__')).toBe(true);
    expect([...encodeTexts(v, ['__proto__ constructor valueOf toString'])]).toEqual([0, 0, 1, 2]);
  });
});

describe('serializePrepared / deserializePrepared', () => {
  const p = prepareDataset(makeRaw(60), opts);
  const bytes = serializePrepared(p);

  it('round-trips exactly and deterministically', () => {
    expect(deserializePrepared(bytes)).toEqual(p);
    expect(serializePrepared(prepareDataset(makeRaw(60), opts))).toEqual(bytes);
    expect(preparedHash(bytes)).toMatch(/^[0-9a-f]{64}$/);
    expect(preparedHash(serializePrepared(prepareDataset(makeRaw(60), { ...opts, seed: 12 })))).not.toBe(preparedHash(bytes));
  });
  it('reads from a Uint8Array view at an odd offset', () => {
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(deserializePrepared(padded.subarray(3))).toEqual(p);
  });
  it('detects corruption: magic, truncation, flipped payload bits, bad header, unsupported version', () => {
    const corrupt = (b: Uint8Array, re: RegExp): void => {
      expect(() => deserializePrepared(b)).toThrow(expect.objectContaining({ code: 'DATASET_CORRUPT', message: expect.stringMatching(re) }));
    };
    corrupt(new Uint8Array(4), /bad magic/);
    corrupt(Uint8Array.from(bytes, (x, i) => (i === 0 ? 0 : x)), /bad magic/);
    corrupt(bytes.subarray(0, bytes.length - 4), /expected \d+ bytes from the header's lengths/);
    corrupt(Uint8Array.from(bytes, (x, i) => (i === bytes.length - 2 ? x ^ 1 : x)), /payload checksum mismatch/);
    const text = new TextDecoder('latin1').decode(bytes);
    const swap = (from: string, to: string): Uint8Array => {
      const i = text.indexOf(from);
      const out = bytes.slice();
      out.set(new TextEncoder().encode(to), i);
      return out;
    };
    corrupt(swap('"version":1', '"version":2'), /unsupported version 2; expected 1/);
    corrupt(swap('"format":"sweepq-prepared"', '"format":"sweepq-preparex"'), /bad header: format/);
    corrupt(swap('{"format"', '{{format"'), /header is not valid UTF-8 JSON/);
  });
});
