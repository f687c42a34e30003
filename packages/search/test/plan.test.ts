import { describe, expect, test } from 'vitest';
import { DEFAULT_PARAMS, PARAMETER_NAMES, SpecError, parseSpec, validateSpec } from '@sweepq/sweep-config';
import type { SweepSpec } from '@sweepq/sweep-config';
import { planTrials, trialId } from '../src/index.js';
import { specFixture as fixture } from './helpers.js';

describe('trialId', () => {
  test('zero padded to 4+ digits, [a-z0-9] only', () => {
    expect(trialId(0)).toBe('t0000');
    expect(trialId(1)).toBe('t0001');
    expect(trialId(9999)).toBe('t9999');
    expect(trialId(10000)).toBe('t10000');
    expect(trialId(123)).toMatch(/^[a-z0-9-]+$/);
  });
  test('rejects negative and fractional indexes', () => {
    expect(() => trialId(-1)).toThrow(RangeError);
    expect(() => trialId(1.5)).toThrow(RangeError);
    expect(() => trialId(Number.NaN)).toThrow(RangeError);
  });
});

describe('grid', () => {
  test('cartesian product in written key order, last key fastest, unlisted params default', () => {
    const spec = validateSpec({
      method: 'grid',
      parameters: { optimizer: { values: ['adam', 'sgd'] }, batch_size: { values: [16, 32, 64] }, epochs: { value: 1 } },
    });
    const trials = planTrials(spec);
    expect(trials.map((t) => [t.params.optimizer, t.params.batch_size])).toEqual([
      ['adam', 16], ['adam', 32], ['adam', 64],
      ['sgd', 16], ['sgd', 32], ['sgd', 64],
    ]);
    expect(trials.map((t) => t.trialId)).toEqual(['t0000', 't0001', 't0002', 't0003', 't0004', 't0005']);
    expect(trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(trials[0]?.params).toEqual({ ...DEFAULT_PARAMS, optimizer: 'adam', batch_size: 16, epochs: 1 });
    expect(Object.keys(trials[0]?.params ?? {})).toEqual([...PARAMETER_NAMES]);
  });

  test('grid order decides which trial gets which index (so specHash covers it)', () => {
    const text = 'method: grid\nparameters:\n  epochs: {values: [1, 2]}\n  batch_size: {values: [16, 32]}\n';
    const swapped = 'method: grid\nparameters:\n  batch_size: {values: [16, 32]}\n  epochs: {values: [1, 2]}\n';
    expect(planTrials(parseSpec(swapped))).not.toEqual(planTrials(parseSpec(text)));
  });

  test('reversing the key order reverses which key varies fastest', () => {
    const spec = validateSpec({ method: 'grid', parameters: { batch_size: { values: [16, 32] }, optimizer: { values: ['adam', 'sgd'] } } });
    expect(planTrials(spec).map((t) => [t.params.optimizer, t.params.batch_size])).toEqual([['adam', 16], ['sgd', 16], ['adam', 32], ['sgd', 32]]);
  });

  test('run_cap truncates the product; the fixture has 12 combinations capped at 10', () => {
    const trials = planTrials(parseSpec(fixture('grid.yaml')));
    expect(trials).toHaveLength(10);
    expect(trials.map((t) => `${t.params.lstm_units}/${t.params.optimizer}/${t.params.dropout}`)).toEqual([
      '32/adam/0', '32/adam/0.2', '32/rmsprop/0', '32/rmsprop/0.2',
      '64/adam/0', '64/adam/0.2', '64/rmsprop/0', '64/rmsprop/0.2',
      '128/adam/0', '128/adam/0.2',
    ]);
    expect(trials.every((t) => t.params.epochs === 2)).toBe(true);
  });

  test('int_uniform and q_uniform are enumerated; no parameters gives one default trial', () => {
    const spec = validateSpec({ method: 'grid', parameters: { epochs: { min: 1, max: 3 }, dropout: { distribution: 'q_uniform', min: 0, max: 0.3, q: 0.1 } } });
    expect(planTrials(spec).map((t) => [t.params.epochs, t.params.dropout])).toEqual([
      [1, 0], [1, 0.1], [1, 0.2], [1, 0.3],
      [2, 0], [2, 0.1], [2, 0.2], [2, 0.3],
      [3, 0], [3, 0.1], [3, 0.2], [3, 0.3],
    ]);
    const defaults = planTrials(validateSpec({ method: 'grid', parameters: {} }));
    expect(defaults).toEqual([{ index: 0, trialId: 't0000', params: DEFAULT_PARAMS }]);
  });

  test('a huge grid truncated by run_cap is cheap', () => {
    const spec = validateSpec({ method: 'grid', run_cap: 3, parameters: { max_words: { min: 2, max: 1_000_000 }, max_len: { min: 1, max: 10_000 } } });
    expect(planTrials(spec).map((t) => [t.params.max_words, t.params.max_len])).toEqual([[2, 1], [2, 2], [2, 3]]);
  });
});

describe('random', () => {
  const spec = parseSpec(fixture('random.yaml'));

  test('same seed, same trials', () => {
    expect(planTrials(spec)).toEqual(planTrials(parseSpec(fixture('random.yaml'))));
    expect(planTrials(spec)).toHaveLength(50);
  });

  test('different seed, different trials', () => {
    const other = planTrials({ ...spec, seed: 8 });
    const mine = planTrials(spec);
    expect(other.map((t) => t.params.learning_rate)).not.toEqual(mine.map((t) => t.params.learning_rate));
  });

  test('trials do not depend on run_cap or on key order', () => {
    const first10 = planTrials({ ...spec, run_cap: 10 });
    expect(first10).toEqual(planTrials(spec).slice(0, 10));
    const reversed: SweepSpec = { ...spec, parameters: Object.fromEntries(Object.entries(spec.parameters).reverse()) };
    expect(planTrials(reversed)).toEqual(planTrials(spec));
  });

  test('values known for this seed stay the same (the generator is part of the format)', () => {
    const s = validateSpec({ method: 'random', run_cap: 3, seed: 1, parameters: { lstm_units: { min: 1, max: 1000 } } });
    const drawn = planTrials(s).map((t) => t.params.lstm_units);
    expect(drawn).toEqual(planTrials(s).map((t) => t.params.lstm_units));
    expect(new Set(drawn).size).toBe(3);
    expect(drawn).toEqual([310, 723, 989]);
  });

  test('sampled values respect bounds, integrality and q over many draws', () => {
    const big = planTrials({ ...spec, run_cap: 5000 });
    const seen = { lstm16: false, lstm128: false, bs16: false, bs128: false, rd: new Map<number, number>(), opt: new Set<string>(), lrLow: false, lrHigh: false };
    for (const { params: p } of big) {
      expect(p.learning_rate).toBeGreaterThanOrEqual(0.0001);
      expect(p.learning_rate).toBeLessThan(0.1);
      if (p.learning_rate < 0.0002) seen.lrLow = true;
      if (p.learning_rate > 0.05) seen.lrHigh = true;
      expect(p.embedding_dim % 8).toBe(0);
      expect(p.embedding_dim).toBeGreaterThanOrEqual(16);
      expect(p.embedding_dim).toBeLessThanOrEqual(256);
      expect(Number.isInteger(p.lstm_units)).toBe(true);
      expect(p.lstm_units).toBeGreaterThanOrEqual(16);
      expect(p.lstm_units).toBeLessThanOrEqual(128);
      if (p.lstm_units === 16) seen.lstm16 = true;
      if (p.lstm_units === 128) seen.lstm128 = true;
      expect(p.batch_size % 16).toBe(0);
      expect(p.batch_size).toBeGreaterThanOrEqual(16);
      expect(p.batch_size).toBeLessThanOrEqual(128);
      if (p.batch_size === 16) seen.bs16 = true;
      if (p.batch_size === 128) seen.bs128 = true;
      expect(p.dropout).toBeGreaterThanOrEqual(0);
      expect(p.dropout).toBeLessThan(0.5);
      seen.rd.set(p.recurrent_dropout, (seen.rd.get(p.recurrent_dropout) ?? 0) + 1);
      seen.opt.add(p.optimizer);
      expect(p.max_len).toBe(120);
      expect(Number.isInteger(p.max_words)).toBe(true);
      expect(p.max_words).toBeGreaterThanOrEqual(2000);
      expect(p.max_words).toBeLessThanOrEqual(20000);
      expect(p.epochs).toBe(3);
    }
    // int_uniform includes both ends; log-uniform reaches both decades; every category appears.
    expect(seen).toMatchObject({ lstm16: true, lstm128: true, bs16: true, bs128: true, lrLow: true, lrHigh: true });
    expect([...seen.opt].sort()).toEqual(['adagrad', 'adam', 'rmsprop', 'sgd']);
    // probabilities [0.5, 0.3, 0.2] over 5000 draws: each within a few standard deviations (~35).
    expect([...seen.rd.keys()].sort()).toEqual([0, 0.1, 0.3]);
    expect(Math.abs((seen.rd.get(0) ?? 0) - 2500)).toBeLessThan(200);
    expect(Math.abs((seen.rd.get(0.1) ?? 0) - 1500)).toBeLessThan(200);
    expect(Math.abs((seen.rd.get(0.3) ?? 0) - 1000)).toBeLessThan(200);
  });

  test('log_uniform_values is uniform in log space', () => {
    const s = validateSpec({ method: 'random', run_cap: 4000, parameters: { learning_rate: { distribution: 'log_uniform_values', min: 0.0001, max: 1 } } });
    const decades = [0, 0, 0, 0];
    for (const t of planTrials(s)) {
      const d = Math.min(3, Math.floor(-Math.log10(t.params.learning_rate)));
      decades[d] = (decades[d] ?? 0) + 1;
    }
    for (const count of decades) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });

  test('q_uniform with a decimal q gives clean multiples', () => {
    const s = validateSpec({ method: 'random', run_cap: 500, parameters: { dropout: { distribution: 'q_uniform', min: 0.05, max: 0.5, q: 0.1 } } });
    const values = new Set(planTrials(s).map((t) => t.params.dropout));
    expect([...values].sort()).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  test('q_log_uniform_values and log_normal stay valid', () => {
    const s = validateSpec({
      method: 'random',
      run_cap: 2000,
      parameters: {
        batch_size: { distribution: 'q_log_uniform_values', min: 10, max: 1000, q: 10 },
        learning_rate: { distribution: 'log_normal', mu: -7, sigma: 1 },
      },
    });
    for (const { params } of planTrials(s)) {
      expect(params.batch_size % 10).toBe(0);
      expect(params.batch_size).toBeGreaterThanOrEqual(10);
      expect(params.batch_size).toBeLessThanOrEqual(1000);
      expect(params.learning_rate).toBeGreaterThan(0);
    }
    const median = planTrials(s).map((t) => t.params.learning_rate).sort((a, b) => a - b)[1000] ?? 0;
    expect(Math.abs(Math.log(median) + 7)).toBeLessThan(0.15);
  });

  test('planTrials refuses a random spec without run_cap', () => {
    const { run_cap: _drop, ...noCap } = spec;
    expect(() => planTrials(noCap)).toThrow(SpecError);
  });
});

describe('random, extended (sweepq extend)', () => {
  const key = (p: object) => JSON.stringify(p);
  test('keeps every planned trial, continues the sequence, never repeats a configuration, stops when the space is used up', () => {
    // 4 configurations; with seed 3 the first 6 plain draws repeat some.
    const base = validateSpec({ method: 'random', run_cap: 6, seed: 3, parameters: { optimizer: { values: ['adam', 'sgd'] }, batch_size: { values: [16, 32] } } });
    const plain = planTrials(base);
    expect(new Set(plain.map((t) => key(t.params))).size).toBeLessThan(6);
    const original = planTrials({ ...base, run_cap: 2 });
    const extended = planTrials({ ...base, run_cap: 6, no_repeats_from: 2 });
    expect(extended.slice(0, 2)).toEqual(original);
    // Only 4 distinct configurations exist: the extension plans the ones not yet planned, then stops.
    const distinctBefore = new Set(original.map((t) => key(t.params))).size;
    expect(extended).toHaveLength(2 + (4 - distinctBefore));
    for (const t of extended.slice(2)) expect(extended.filter((u) => key(u.params) === key(t.params))).toHaveLength(1);
    expect(extended.map((t) => t.index)).toEqual(extended.map((_, i) => i));
  });

  test('in a continuous space the extension is the same sequence (no repeats to avoid) and reproducible', () => {
    const base = validateSpec({ method: 'random', run_cap: 5, seed: 9, parameters: { learning_rate: { distribution: 'log_uniform_values', min: 0.0001, max: 0.1 } } });
    const ext = planTrials({ ...base, run_cap: 12, no_repeats_from: 5 });
    expect(ext.slice(0, 5)).toEqual(planTrials(base));
    expect(ext).toEqual(planTrials({ ...base, run_cap: 12 }));
    expect(new Set(ext.map((t) => t.params.learning_rate)).size).toBe(12);
  });
});
