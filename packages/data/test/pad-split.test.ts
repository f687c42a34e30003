import { describe, expect, it } from 'vitest';
import { padSequences, stratifiedSplit } from '../src/index.js';

const rows = (a: Int32Array, w: number): number[][] => Array.from({ length: a.length / w }, (_, i) => [...a.subarray(i * w, (i + 1) * w)]);

describe('padSequences (Keras pad_sequences)', () => {
  const seqs = [[1], [2, 3], [4, 5, 6]];
  it('pads and truncates at the front by default', () => {
    expect(rows(padSequences(seqs, { maxLen: 3 }), 3)).toEqual([[0, 0, 1], [0, 2, 3], [4, 5, 6]]);
    expect(rows(padSequences(seqs, { maxLen: 2 }), 2)).toEqual([[0, 1], [2, 3], [5, 6]]);
  });
  it('supports post padding, post truncation and a padding value', () => {
    expect(rows(padSequences(seqs, { maxLen: 3, padding: 'post' }), 3)).toEqual([[1, 0, 0], [2, 3, 0], [4, 5, 6]]);
    expect(rows(padSequences(seqs, { maxLen: 2, truncating: 'post' }), 2)).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(rows(padSequences(seqs, { maxLen: 2, padding: 'post', truncating: 'post' }), 2)).toEqual([[1, 0], [2, 3], [4, 5]]);
    expect(rows(padSequences([[], [7]], { maxLen: 3, value: -1 }), 3)).toEqual([[-1, -1, -1], [-1, -1, 7]]);
  });
  it('accepts typed arrays and rejects a bad maxLen', () => {
    expect([...padSequences([Int32Array.of(9, 8)], { maxLen: 4 })]).toEqual([0, 0, 9, 8]);
    expect(() => padSequences(seqs, { maxLen: 0 })).toThrow(expect.objectContaining({ code: 'DATASET_OPTIONS' }));
  });
});

describe('stratifiedSplit', () => {
  const labels = [...Array<number>(50).fill(0), ...Array<number>(30).fill(1), 2, 2, 2, 3];
  const count = (idx: Int32Array, c: number): number => [...idx].filter((i) => labels[i] === c).length;

  it('is disjoint and complete', () => {
    const s = stratifiedSplit(labels, { validation: 0.1, test: 0.2, seed: 1 });
    const all = [...s.train, ...s.validation, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(labels.map((_, i) => i));
  });
  it('keeps class proportions and puts every class with >= 3 rows in every split', () => {
    const s = stratifiedSplit(labels, { validation: 0.1, test: 0.2, seed: 1 });
    expect([count(s.train, 0), count(s.validation, 0), count(s.test, 0)]).toEqual([35, 5, 10]);
    expect([count(s.train, 1), count(s.validation, 1), count(s.test, 1)]).toEqual([21, 3, 6]);
    expect([count(s.train, 2), count(s.validation, 2), count(s.test, 2)]).toEqual([1, 1, 1]);
    expect([count(s.train, 3), count(s.validation, 3), count(s.test, 3)]).toEqual([1, 0, 0]);
  });
  it('leaves a split with fraction 0 empty', () => {
    const s = stratifiedSplit(labels, { validation: 0.25, test: 0, seed: 3 });
    expect(s.test.length).toBe(0);
    expect(count(s.validation, 2)).toBe(1);
  });
  it('is deterministic for a seed and changes with the seed', () => {
    const a = stratifiedSplit(labels, { validation: 0.1, test: 0.2, seed: 7 });
    const b = stratifiedSplit(labels, { validation: 0.1, test: 0.2, seed: 7 });
    const c = stratifiedSplit(labels, { validation: 0.1, test: 0.2, seed: 8 });
    expect(b).toEqual(a);
    expect([...c.validation]).not.toEqual([...a.validation]);
  });
  it('interleaves classes in the training order', () => {
    const s = stratifiedSplit(labels, { validation: 0.1, test: 0.1, seed: 5 });
    expect(new Set([...s.train.subarray(0, 20)].map((i) => labels[i])).size).toBeGreaterThan(1);
  });
  it('rejects fractions that leave nothing to train on', () => {
    expect(() => stratifiedSplit(labels, { validation: 0.6, test: 0.4, seed: 1 })).toThrow(/validation_split \+ test_split: expected a sum < 1/);
    expect(() => stratifiedSplit(labels, { validation: -0.1, test: 0, seed: 1 })).toThrow(expect.objectContaining({ code: 'DATASET_OPTIONS' }));
    expect(() => stratifiedSplit(labels, { validation: 0.1, test: 0, seed: 1.5 })).toThrow(/seed/);
  });
});
