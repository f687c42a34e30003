import { describe, expect, test } from 'vitest';
import { createRng } from '@sweepq/sweep-config';
import { greedyHypervolumeSubset, hypervolume } from '../src/index.js';

/**
 * Brute force for integer points: the number of unit cells [c, c + 1) (c integer, below the reference) that some
 * point dominates, i.e. p <= c in every objective. Exact for integer coordinates.
 */
function cells(points: readonly number[][], ref: readonly number[]): number {
  let count = 0;
  const d = ref.length;
  const corner = new Array<number>(d).fill(0);
  const visit = (k: number): void => {
    if (k === d) {
      if (points.some((p) => p.every((x, j) => x <= (corner[j] as number)))) count += 1;
      return;
    }
    for (let c = 0; c < (ref[k] as number); c++) {
      corner[k] = c;
      visit(k + 1);
    }
  };
  visit(0);
  return count;
}

function randomPoints(seed: number, n: number, d: number, max: number): number[][] {
  const rng = createRng(seed, d);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => Math.floor(rng.next() * max)));
}

describe('hypervolume (every objective minimised)', () => {
  test('2-D staircase, dominated points and points beyond the reference add nothing', () => {
    expect(hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4])).toBe(3 + 2 + 1);
    expect(hypervolume([[1, 3], [2, 2], [3, 1], [3, 3], [2, 2], [5, 0], [0, 4]], [4, 4])).toBe(6);
    expect(hypervolume([], [1, 1])).toBe(0);
    expect(hypervolume([[0.5]], [2])).toBe(1.5);
  });

  test.each([2, 3, 4])('%i objectives: equals the count of dominated unit cells on random integer points', (d) => {
    const max = d === 4 ? 6 : 9;
    for (let seed = 0; seed < 6; seed++) {
      const points = randomPoints(seed, 4 + 3 * seed, d, max);
      const ref = new Array<number>(d).fill(max);
      expect(hypervolume(points, ref)).toBe(cells(points, ref));
    }
  });

  test('3-D: one box, and two overlapping boxes by inclusion-exclusion', () => {
    expect(hypervolume([[0.2, 0.5, 0.1]], [1, 1, 1])).toBeCloseTo(0.8 * 0.5 * 0.9, 12);
    const a = [0.2, 0.5, 0.1];
    const b = [0.5, 0.1, 0.3];
    const vol = (p: number[]): number => p.reduce((v, x) => v * (1 - x), 1);
    expect(hypervolume([a, b], [1, 1, 1])).toBeCloseTo(vol(a) + vol(b) - vol([0.5, 0.5, 0.3]), 12);
  });

  test('bad input is named', () => {
    expect(() => hypervolume([[1, 2, 3]], [4, 4])).toThrow(/point 0 has 3 objectives, expected 2/);
    expect(() => hypervolume([[1, NaN]], [4, 4])).toThrow(/not a finite number/);
    expect(() => hypervolume([[1, 1]], [4, Infinity])).toThrow(/reference point must be finite/);
  });
});

describe('greedyHypervolumeSubset', () => {
  test('takes the largest contribution first, then what adds most to it', () => {
    const points = [[0, 10], [1, 4], [4, 1], [10, 0], [5, 5]];
    // Reference (11, 11): [1, 4] alone covers 70, [4, 1] 70 too (first index wins); then [4, 1] adds 21, the extremes 7.
    expect(greedyHypervolumeSubset(points, 2, [11, 11])).toEqual([1, 2]);
    expect(greedyHypervolumeSubset(points, 9, [11, 11]).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(greedyHypervolumeSubset(points, 0, [11, 11])).toEqual([]);
  });
});
