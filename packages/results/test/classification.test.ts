import { describe, expect, it } from 'vitest';
import { argmaxRows, classificationReport, confusionMatrix } from '../src/index.js';

describe('classification metrics', () => {
  it('counts a confusion matrix and matches hand-computed precision/recall/F1', () => {
    // actual:    a a a b b c
    // predicted: a a b b c c
    const m = confusionMatrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3);
    expect(m).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    const r = classificationReport(m, ['a', 'b', 'c']);
    expect(r.accuracy).toBeCloseTo(4 / 6);
    expect(r.perClass[0]).toMatchObject({ label: 'a', precision: 1, support: 3 });
    expect(r.perClass[0]!.recall).toBeCloseTo(2 / 3);
    expect(r.perClass[0]!.f1).toBeCloseTo(0.8);
    expect(r.perClass[1]!.precision).toBeCloseTo(0.5);
    expect(r.perClass[1]!.recall).toBeCloseTo(0.5);
    expect(r.perClass[2]!.precision).toBeCloseTo(0.5);
    expect(r.perClass[2]!.recall).toBe(1);
  });

  it('gives 0 instead of NaN for a class never predicted or never present', () => {
    const r = classificationReport([[3, 0], [0, 0]], ['x', 'y']);
    expect(r.perClass[1]).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it('rejects mismatched lengths and out-of-range ids', () => {
    expect(() => confusionMatrix([0], [0, 1], 2)).toThrow(/1 labels but 2 predictions/);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(/out of range/);
  });

  it('takes the argmax of each row', () => {
    expect(Array.from(argmaxRows([0.1, 0.9, 0.7, 0.3, 0.2, 0.2], 3, 2))).toEqual([1, 0, 0]);
  });
});
