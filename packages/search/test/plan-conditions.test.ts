import { describe, expect, test } from 'vitest';
import { DEFAULT_PARAMS, gridSize, parseSpec, validateSpec } from '@sweepq/sweep-config';
import { planTrials } from '../src/index.js';
import { specFixture } from './helpers.js';

// The conditional grid of @sweepq/sweep-config's conditions test.
const yaml = specFixture('conditions.yaml');

describe('conditional parameters: planning', () => {
  test('grid multiplies only where a parameter applies; inactive ones take defaults; no repeats', () => {
    const spec = parseSpec(yaml);
    const trials = planTrials(spec);
    // adam: 32, 64x2, 128x2 = 5; sgd: the same times 2 learning rates = 10
    expect(gridSize(spec.parameters)).toBe(15);
    expect(trials).toHaveLength(15);
    expect(trials.slice(0, 5).map((t) => [t.params.optimizer, t.params.lstm_units, t.params.learning_rate, t.params.recurrent_dropout])).toEqual([
      ['adam', 32, DEFAULT_PARAMS.learning_rate, DEFAULT_PARAMS.recurrent_dropout],
      ['adam', 64, DEFAULT_PARAMS.learning_rate, 0.1],
      ['adam', 64, DEFAULT_PARAMS.learning_rate, 0.3],
      ['adam', 128, DEFAULT_PARAMS.learning_rate, 0.1],
      ['adam', 128, DEFAULT_PARAMS.learning_rate, 0.3],
    ]);
    expect(trials[5]?.params).toMatchObject({ optimizer: 'sgd', lstm_units: 32, learning_rate: 0.1, recurrent_dropout: 0 });
    expect(new Set(trials.map((t) => JSON.stringify(t.params))).size).toBe(15);
    expect(planTrials({ ...spec, run_cap: 4 })).toEqual(trials.slice(0, 4));
  });

  test('random search: inactive parameters take their default; draws of active ones are unchanged', () => {
    const parameters = { lstm_units: { values: [32, 64, 128] }, recurrent_dropout: { min: 0.05, max: 0.5 } };
    const plain = planTrials(validateSpec({ method: 'random', run_cap: 30, seed: 3, parameters }));
    const conditional = planTrials(validateSpec({ method: 'random', run_cap: 30, seed: 3, parameters: { ...parameters, recurrent_dropout: { ...parameters.recurrent_dropout, condition: { lstm_units: { min: 64 } } } } }));
    conditional.forEach((t, i) => {
      const p = plain[i]?.params;
      expect(t.params.lstm_units).toBe(p?.lstm_units);
      expect(t.params.recurrent_dropout).toBe(t.params.lstm_units >= 64 ? p?.recurrent_dropout : 0);
    });
  });
});
