import { describe, expect, test } from 'vitest';
import { validateSpec } from '@sweepq/sweep-config';
import type { SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { TpeSampler, paramsKey, planAdaptive } from '../src/index.js';
import type { Observation } from '../src/index.js';
import { runTpe } from './helpers.js';

// Bayes search over the architecture parameters: booleans and a second enum (cell) are categorical dimensions.

function archSpec(seed: number, multivariate: boolean, runCap = 40): SweepSpec {
  return validateSpec({
    method: 'bayes',
    run_cap: runCap,
    seed,
    metric: { name: 'val_accuracy', goal: 'maximize' },
    bayes: { n_startup_trials: 8, multivariate },
    parameters: {
      lstm_layers: { min: 1, max: 3 },
      bidirectional: { values: [true, false] },
      cell: { values: ['lstm', 'gru'] },
      mask_zero: { values: [true, false] },
      dropout: { distribution: 'uniform', min: 0, max: 0.5 },
    },
  });
}

/** Best with a bidirectional GRU and masking; the layer count and dropout matter a little. */
function objective(p: TrialParams): number {
  return 0.6 + 0.15 * Number(p.bidirectional) + 0.1 * Number(p.cell === 'gru') + 0.05 * Number(p.mask_zero) - 0.02 * Math.abs(p.lstm_layers - 2) - 0.05 * p.dropout;
}

describe.each([{ multivariate: false }, { multivariate: true }])('TpeSampler with booleans and the cell (multivariate $multivariate)', ({ multivariate }) => {
  test('proposes only values of the spec, typed as the parameters are', () => {
    const obs = runTpe(archSpec(1, multivariate), objective);
    for (const { params } of obs) {
      expect(typeof params.bidirectional).toBe('boolean');
      expect(typeof params.mask_zero).toBe('boolean');
      expect(['lstm', 'gru']).toContain(params.cell);
      expect([1, 2, 3]).toContain(params.lstm_layers);
    }
    expect(new Set(obs.map((o) => paramsKey(o.params))).size).toBe(obs.length);
  });

  test('learns the good booleans and cell: after start-up most proposals are bidirectional masked GRUs', () => {
    let good = 0;
    let total = 0;
    for (let seed = 0; seed < 5; seed++) {
      const obs = runTpe(archSpec(seed, multivariate), objective).slice(8);
      good += obs.filter((o) => o.params.bidirectional && o.params.cell === 'gru' && o.params.mask_zero).length;
      total += obs.length;
    }
    // Random search hits the combination 1 time in 8.
    expect(good / total).toBeGreaterThan(0.4);
  });
});

test('a space of booleans and the cell is finite: planAdaptive caps it and the sampler exhausts it exactly', () => {
  const spec = validateSpec({
    method: 'bayes',
    run_cap: 20,
    bayes: { n_startup_trials: 2 },
    parameters: { bidirectional: { values: [true, false] }, cell: { values: ['lstm', 'gru'] }, mask_zero: { value: true } },
  });
  expect(planAdaptive(spec).total).toBe(4);
  const sampler = new TpeSampler(spec);
  const obs: Observation[] = [];
  for (let i = 0; i < 4; i++) {
    const p = sampler.propose(i, obs, []);
    obs.push({ params: p, value: objective(p) });
  }
  expect(new Set(obs.map((o) => `${o.params.bidirectional}/${o.params.cell}/${o.params.mask_zero}`))).toEqual(
    new Set(['true/lstm/true', 'true/gru/true', 'false/lstm/true', 'false/gru/true']),
  );
});
