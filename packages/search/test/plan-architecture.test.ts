import { describe, expect, test } from 'vitest';
import { DEFAULT_PARAMS, paramsKey, specToConfig, validateSpec } from '@sweepq/sweep-config';
import { planTrials } from '../src/index.js';

// lstm_layers, bidirectional, cell and mask_zero: the architecture parameters (sweepq issue 17).
describe('architecture parameters: planning', () => {
  test('grid enumerates booleans and the cell, last written fastest', () => {
    const spec = validateSpec({ method: 'grid', parameters: { cell: { values: ['lstm', 'gru'] }, bidirectional: { values: [false, true] } } });
    const trials = planTrials(spec);
    expect(trials.map((t) => [t.params.cell, t.params.bidirectional])).toEqual([
      ['lstm', false],
      ['lstm', true],
      ['gru', false],
      ['gru', true],
    ]);
    for (const t of trials) expect({ ...t.params, cell: 'lstm', bidirectional: false }).toEqual(DEFAULT_PARAMS);
  });

  test('random search draws every combination of booleans, cell and layers, reproducibly', () => {
    const spec = validateSpec({
      method: 'random',
      run_cap: 200,
      seed: 3,
      parameters: { lstm_layers: { min: 1, max: 2 }, bidirectional: { values: [true, false] }, cell: { values: ['lstm', 'gru'] }, mask_zero: { values: [true, false] } },
    });
    const trials = planTrials(spec);
    expect(planTrials(spec)).toEqual(trials);
    const seen = new Set(trials.map((t) => `${t.params.lstm_layers}/${t.params.bidirectional}/${t.params.cell}/${t.params.mask_zero}`));
    expect(seen.size).toBe(16);
    for (const t of trials) {
      expect(typeof t.params.bidirectional).toBe('boolean');
      expect(typeof t.params.mask_zero).toBe('boolean');
    }
  });

  test('random trials of a spec without the new parameters are unchanged by them (drawn after, never drawn when absent)', () => {
    const spec = validateSpec({ method: 'random', run_cap: 3, seed: 5, parameters: { learning_rate: { distribution: 'log_uniform_values', min: 0.0001, max: 0.1 }, lstm_units: { values: [16, 32, 64] } } });
    const withArch = validateSpec({ ...specToConfig(spec), parameters: { ...specToConfig(spec)['parameters'] as object, cell: { values: ['lstm', 'gru'] } } });
    const a = planTrials(spec);
    const b = planTrials(withArch);
    expect(b.map((t) => [t.params.learning_rate, t.params.lstm_units])).toEqual(a.map((t) => [t.params.learning_rate, t.params.lstm_units]));
  });

  test('paramsKey tells booleans and cells apart', () => {
    const keys = new Set([DEFAULT_PARAMS, { ...DEFAULT_PARAMS, bidirectional: true }, { ...DEFAULT_PARAMS, mask_zero: true }, { ...DEFAULT_PARAMS, cell: 'gru' as const }].map(paramsKey));
    expect(keys.size).toBe(4);
    expect(paramsKey({ ...DEFAULT_PARAMS, bidirectional: true })).toContain('bidirectional=true');
  });
});
