import { describe, expect, it } from 'vitest';
import { pedAnovaImportance, type ImportanceTrial } from '../src/param-importance.js';
import { randomCombination } from '@sweepq/search';
import type { ParameterSpec } from '@sweepq/sweep-config';

const NAMES = ['learning_rate', 'dropout', 'lstm_units', 'optimizer', 'batch_size'];

const SPACE: Record<string, ParameterSpec> = {
  learning_rate: { kind: 'log_uniform_values', min: 1e-4, max: 0.1 },
  dropout: { kind: 'uniform', min: 0, max: 0.5 },
  lstm_units: { kind: 'categorical', values: [16, 32, 64, 128] },
  optimizer: { kind: 'categorical', values: ['adam', 'rmsprop', 'sgd'] },
  batch_size: { kind: 'categorical', values: [16, 32, 64] },
  // Not a parameter of the objective: the source of its noise.
  recurrent_dropout: { kind: 'uniform', min: 0, max: 1 },
};

/**
 * A random sweep of 60 trials (drawn as sweepq's random search draws them) over five parameters of the model's kinds
 * (log-uniform, uniform, numeric levels, strings). `important` decides most of the objective; the others add small
 * effects, and there is noise.
 */
function sweep(seed: number, important: 'learning_rate' | 'optimizer' | 'dropout'): ImportanceTrial[] {
  return Array.from({ length: 60 }, (_, i) => {
    const { recurrent_dropout: noise, ...p } = randomCombination(SPACE, seed, i) as {
      learning_rate: number; dropout: number; lstm_units: number; optimizer: string; batch_size: number; recurrent_dropout: number;
    };
    const main =
      important === 'learning_rate'
        ? -((Math.log10(p.learning_rate) + 2.5) ** 2) // best near 0.003
        : important === 'optimizer'
          ? p.optimizer === 'adam' ? 0 : p.optimizer === 'rmsprop' ? -0.8 : -1.6
          : -4 * (p.dropout - 0.1) ** 2 * 4;
    const small = 0.05 * (p.lstm_units / 128) + 0.03 * (p.batch_size === 32 ? 1 : 0) + (important === 'dropout' ? 0 : 0.1 * p.dropout);
    return { params: p, value: 0.9 + 0.1 * main + 0.02 * small + 0.01 * (noise - 0.5) };
  });
}

describe('pedAnovaImportance', () => {
  for (const important of ['learning_rate', 'optimizer', 'dropout'] as const) {
    it(`ranks the parameter that decides the objective (${important}) first on at least 9 of 10 seeds`, () => {
      let first = 0;
      for (let seed = 1; seed <= 10; seed++) {
        const res = pedAnovaImportance(sweep(seed * 7919, important), NAMES, { maximize: true, log: new Set(['learning_rate']) })!;
        if (res.params[0]!.name === important) first++;
      }
      expect(first).toBeGreaterThanOrEqual(9);
    });
  }

  it('reads the direction from the goal: minimizing the negated objective gives the same ranking', () => {
    const trials = sweep(42, 'learning_rate');
    const max = pedAnovaImportance(trials, NAMES, { maximize: true })!;
    const min = pedAnovaImportance(trials.map((t) => ({ ...t, value: -t.value })), NAMES, { maximize: false })!;
    expect(min.params).toEqual(max.params);
    // Maximizing the negated objective looks at the worst trials instead: a different top set.
    const wrong = pedAnovaImportance(trials.map((t) => ({ ...t, value: -t.value })), NAMES, { maximize: true })!;
    expect(wrong.params).not.toEqual(max.params);
  });

  it('normalises to 1, gives a constant parameter 0, and returns null with too few trials', () => {
    const trials = sweep(3, 'optimizer').map((t) => ({ ...t, params: { ...t.params, epochs: 5 } }));
    const res = pedAnovaImportance(trials, [...NAMES, 'epochs'], { maximize: true })!;
    expect(res.params.reduce((a, p) => a + p.importance, 0)).toBeCloseTo(1, 9);
    expect(res.params.find((p) => p.name === 'epochs')!.importance).toBe(0);
    expect(res).toMatchObject({ method: 'ped-anova', trials: 60, top: 6, quantile: 0.1 });
    expect(pedAnovaImportance(trials.slice(0, 4), NAMES, { maximize: true })).toBeNull();
  });

  // 200 trials (top set 20): with a top set of 6, chance alone gives a 3- or 4-level parameter a divergence near the
  // largest a two-level one can reach (PED-ANOVA's Pearson divergence grows with the number of levels).
  it('ranks a boolean or a second string parameter that decides the objective first', () => {
    const space: Record<string, ParameterSpec> = { ...SPACE, bidirectional: { kind: 'categorical', values: [true, false] }, cell: { kind: 'categorical', values: ['lstm', 'gru'] } };
    for (const important of ['bidirectional', 'cell'] as const) {
      let first = 0;
      for (let seed = 1; seed <= 10; seed++) {
        const trials = Array.from({ length: 200 }, (_, i) => {
          const { recurrent_dropout: noise, ...p } = randomCombination(space, seed * 7919, i) as Record<string, number | string | boolean>;
          const main = important === 'bidirectional' ? (p['bidirectional'] === true ? 1 : 0) : p['cell'] === 'gru' ? 1 : 0;
          return { params: p, value: 0.8 + 0.1 * main + 0.01 * ((noise as number) - 0.5) };
        });
        const res = pedAnovaImportance(trials, [...NAMES, 'bidirectional', 'cell'], { maximize: true, log: new Set(['learning_rate']) })!;
        if (res.params[0]!.name === important) first++;
      }
      expect(first, important).toBeGreaterThanOrEqual(9);
    }
  });

  it('judges a conditional parameter on the trials that have it', () => {
    const trials = sweep(5, 'learning_rate').map((t, i) => (i % 2 ? { ...t, params: { ...t.params, dropout: undefined } } : t));
    const res = pedAnovaImportance(trials, NAMES, { maximize: true, log: new Set(['learning_rate']) })!;
    expect(res.params[0]!.name).toBe('learning_rate');
    expect(res.params.find((p) => p.name === 'dropout')!.importance).toBeGreaterThanOrEqual(0);
  });
});
