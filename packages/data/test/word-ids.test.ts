import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { DatasetSpec } from '@sweepq/sweep-config';
import { seededRandom } from '@sweepq/runtime/random';
import { describe, expect, it } from 'vitest';
import { loadCheckedDataset, prepareDataset, prepareDatasetFile, serializePrepared, textToWordSequence } from '../src/index.js';
import { csvField } from '../src/synthetic.js';
import { WordIds } from '../src/word-ids.js';
import { tempFiles } from './helpers.js';

/** Pieces that exercise both paths of WordIds: ASCII (short, long, capitals, punctuation, \r, NUL) and not. */
const PIECES = [
  'the', 'The', 'THE', 'cat', 'Cat!', 'a', 'I', 'mat.', 'hello,world', "it's", 'well-known', 'e-mail', '(x)', '"quoted"',
  'tab\there', 'line\nbreak', 'cr\r', '\r', 'nul\u0000x', '\u0000', 'abcdefgh', 'abcdefghi', 'ABCDEFGHIJKLMNOP',
  'supercalifragilistic', '12345678', '123456789', '$100', '~~~', '!!!', '...', 'über', 'Über', 'naïve', 'café',
  'CAFÉ', 'ΣΊΣΥΦΟΣ', 'σ', 'İstanbul', 'straße', 'STRASSE', '\u212Aelvin', 'kelvin', '😀', 'x😀y', '日本語', 'ǅ',
  '\u00a0nbsp', 'é\u0301', '\ud800', 'end',
];

/** Rows of 0..25 pieces joined by spaces, other separators or nothing. */
function rows(n: number, seed: number): string[] {
  const rand = seededRandom(seed);
  const joins = [' ', ' ', '  ', ',', '\t', ''];
  const out: string[] = [];
  for (let r = 0; r < n; r++) {
    const k = Math.floor(rand() * 26);
    let t = '';
    for (let i = 0; i < k; i++) t += (i > 0 ? (joins[Math.floor(rand() * joins.length)] as string) : '') + (PIECES[Math.floor(rand() * PIECES.length)] as string);
    out.push(t);
  }
  return out;
}

/** The path WordIds replaces: textToWordSequence, then a Map in order of first appearance. */
function reference(texts: string[]): { ids: number[][]; words: string[] } {
  const map = new Map<string, number>();
  const ids = texts.map((t) =>
    textToWordSequence(t).map((w) => {
      let id = map.get(w);
      if (id === undefined) map.set(w, (id = map.size));
      return id;
    }),
  );
  return { ids, words: [...map.keys()] };
}

describe('WordIds: the same ids as textToWordSequence and a Map', () => {
  it('on rows with unicode, punctuation, quotes, \\r, NUL and texts without words', () => {
    const texts = [...rows(3000, 11), '', '!!!', ' ', 'ÄÖÜ', 'ab\u212A cd', 'ab cd\u212A', 'A\u212A'];
    const want = reference(texts);
    const w = new WordIds();
    const got = texts.map((t) => [...w.tokenize(t)]);
    expect(got).toEqual(want.ids);
    expect(w.words).toEqual(want.words);
  });

  it('across table growth: many distinct short and long words', () => {
    const rand = seededRandom(3);
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéß0123456789';
    const texts: string[] = [];
    for (let r = 0; r < 4000; r++) {
      const words: string[] = [];
      for (let i = 0; i < 12; i++) {
        const len = 1 + Math.floor(rand() * 14);
        let s = '';
        for (let j = 0; j < len; j++) s += letters[Math.floor(rand() * letters.length)];
        words.push(s);
      }
      texts.push(words.join(rand() < 0.5 ? ' ' : '. '));
    }
    const want = reference(texts);
    expect(want.words.length).toBeGreaterThan(40_000);
    const w = new WordIds();
    expect(texts.map((t) => [...w.tokenize(t)])).toEqual(want.ids);
    expect(w.words).toEqual(want.words);
  });
});

const file = tempFiles('sweepq-word-ids-');

describe('streamed preparation with WordIds', () => {
  it('writes the bytes of the in-memory path (Tokenizer) for a CSV of such rows, with CRLF line ends', async () => {
    const texts = rows(2500, 29).map((t, i) => (t.trim() === '' ? `row ${i}` : t));
    const labels = texts.map((_, i) => ['pos', 'neg', 'mixed'][i % 3] as string);
    const csv = `text,label\r\n${texts.map((t, i) => `${csvField(t)},${labels[i] as string}`).join('\r\n')}\r\n`;
    const s: DatasetSpec = { uri: await file('rows.csv', csv), text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 9 };
    const out = await file('rows.bin', '');
    await prepareDatasetFile(s, { tmpDir: tmpdir(), outFile: out, sliceMs: 0 });
    const { raw } = await loadCheckedDataset(s);
    // The file is read back as written: CRLF inside quoted fields and all.
    expect(raw.texts.length).toBe(texts.length);
    const expected = serializePrepared(prepareDataset(raw, { validationSplit: 0.2, testSplit: 0.1, seed: 9, uri: s.uri }));
    expect(Buffer.compare(await readFile(out), expected)).toBe(0);
  });
});
