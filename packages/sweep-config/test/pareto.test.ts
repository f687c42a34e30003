import { describe, expect, it } from 'vitest';
import { dominates, paretoFront, paretoRanks } from '../src/index.js';

describe('Pareto utilities', () => {
  const goals = ['maximize', 'minimize'] as const;

  it('dominates: no worse everywhere and better somewhere, each objective in its own direction', () => {
    expect(dominates([0.9, 100], [0.8, 200], goals)).toBe(true);
    expect(dominates([0.9, 100], [0.9, 100], goals)).toBe(false);
    expect(dominates([0.9, 300], [0.8, 200], goals)).toBe(false);
    expect(dominates([0.9, 100], [0.9, 150], goals)).toBe(true);
    expect(dominates([0.5, 1], [0.4, null], goals)).toBe(true);
    expect(dominates([0.9, null], [0.1, 999], goals)).toBe(false);
  });

  it('ranks fronts in layers; ties share a rank; a point with a missing value is on no front', () => {
    //            A          B          C          D (dominated by A)  E (tie with A)  F (missing)
    const pts = [[0.9, 300], [0.8, 100], [0.7, 50], [0.85, 400], [0.9, 300], [0.95, Number.NaN]];
    expect(paretoRanks(pts, goals)).toEqual([0, 0, 0, 1, 0, null]);
    expect(paretoFront(pts, goals)).toEqual([0, 1, 2, 4]);
    expect(paretoRanks([[1, 1], [2, 2], [3, 3]], ['minimize', 'minimize'])).toEqual([0, 1, 2]);
  });

  it('agrees with a brute-force definition on random points', () => {
    let s = 7;
    const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) % 1000) / 10;
    for (let t = 0; t < 20; t++) {
      const pts = Array.from({ length: 30 }, () => [rnd(), rnd(), rnd()]);
      const g = ['maximize', 'minimize', 'minimize'] as const;
      const brute = pts.flatMap((p, i) => (pts.some((q) => dominates(q, p, g)) ? [] : [i]));
      expect(paretoFront(pts, g)).toEqual(brute);
    }
  });
});

describe('paretoRanks at sweep sizes', () => {
  /** Ranks by their definition: peel off the points nothing left dominates, again and again. */
  function peeled(pts: (number | null)[][], g: readonly ('maximize' | 'minimize')[]): (number | null)[] {
    const ranks: (number | null)[] = pts.map(() => null);
    let left = pts.map((p, i) => i).filter((i) => pts[i]!.every((v) => v !== null && Number.isFinite(v)));
    for (let r = 0; left.length > 0; r++) {
      const front = left.filter((i) => !left.some((j) => dominates(pts[j]!, pts[i]!, g)));
      for (const i of front) ranks[i] = r;
      left = left.filter((i) => !front.includes(i));
    }
    return ranks;
  }

  it('gives every layer as peeling the front off again and again does, with ties, chains and missing values', () => {
    let s = 11;
    const rnd = (k: number): number => ((s = (s * 1103515245 + 12345) >>> 0) % k);
    for (const m of [2, 3, 4]) {
      for (let t = 0; t < 10; t++) {
        // Few distinct values, so ties and equal points are common; one point in 25 misses a value.
        const pts = Array.from({ length: 80 }, () => Array.from({ length: m }, () => (rnd(25) === 0 ? null : rnd(8))));
        const g = (['maximize', 'minimize', 'minimize', 'maximize'] as const).slice(0, m);
        expect(paretoRanks(pts, g)).toEqual(peeled(pts, g));
      }
    }
    const chain = Array.from({ length: 50 }, (_, i) => [i, -i]);
    expect(paretoRanks(chain, ['minimize', 'maximize'])).toEqual(chain.map((_, i) => i));
  });
});
