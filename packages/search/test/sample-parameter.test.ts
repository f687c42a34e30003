import { describe, expect, test } from 'vitest';
import { createRng, parseSpec, validateSpec } from '@sweepq/sweep-config';
import type { ParameterSpec } from '@sweepq/sweep-config';
import { planTrials, sampleParameter } from '../src/index.js';
import { specFixture } from './helpers.js';

function param(name: string, body: unknown): Record<string, unknown> {
  return { method: 'random', run_cap: 1, parameters: { [name]: body } };
}

/** `n` draws of one parameter, through validateSpec (so every range check applies) and the random sampler. */
function draws(name: string, body: Record<string, unknown>, n = 4000, seed = 1): number[] {
  const spec = validateSpec(param(name, body)).parameters[name] as ParameterSpec;
  const rng = createRng(seed, 0);
  return Array.from({ length: n }, () => sampleParameter(spec, rng) as number);
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: readonly number[]): number => {
  const m = mean(xs);
  return mean(xs.map((x) => (x - m) ** 2));
};
const isMultiple = (v: number, q: number): boolean => Math.abs(v / q - Math.round(v / q)) < 1e-9;

// The W&B-style sweep file of @sweepq/sweep-config's wandb-dialect test: one parameter per distribution.
const WANDB_YAML = specFixture('wandb.yaml');

describe('a W&B sweep file with every kind of key: planning', () => {
  test('every planned trial is inside what each distribution can produce', () => {
    const trials = planTrials(parseSpec(WANDB_YAML));
    expect(trials).toHaveLength(20);
    for (const { params } of trials) {
      expect(params.learning_rate).toBeGreaterThanOrEqual(Math.exp(-9.21));
      expect(params.learning_rate).toBeLessThan(Math.exp(-4.61));
      expect(params.dropout).toBeGreaterThan(0);
      expect(params.dropout).toBeLessThan(1);
      expect([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]).toContain(params.recurrent_dropout);
      // e^2.77 = 15.96 and e^4.85 = 127.7: the multiples of 8 from 16 to 120.
      expect(params.embedding_dim % 8).toBe(0);
      expect(params.embedding_dim).toBeGreaterThanOrEqual(16);
      expect(params.embedding_dim).toBeLessThanOrEqual(120);
      expect(params.lstm_units % 16).toBe(0);
    }
  });
});

describe('sampling follows W&B', () => {
  test('log_uniform: min and max are natural-log exponents; ln(value) is uniform on [min, max)', () => {
    const xs = draws('learning_rate', { distribution: 'log_uniform', min: -9, max: -3 });
    const logs = xs.map(Math.log);
    expect(Math.min(...logs)).toBeGreaterThanOrEqual(-9);
    expect(Math.max(...logs)).toBeLessThan(-3);
    expect(mean(logs)).toBeCloseTo(-6, 1);
    expect(variance(logs)).toBeCloseTo(36 / 12, 1);
  });

  test('inv_log_uniform: 1 / exp(U(min, max)), so ln(value) is uniform on [-max, -min]', () => {
    const xs = draws('learning_rate', { distribution: 'inv_log_uniform', min: 2, max: 8 });
    const logs = xs.map(Math.log);
    expect(Math.min(...logs)).toBeGreaterThanOrEqual(-8);
    expect(Math.max(...logs)).toBeLessThanOrEqual(-2);
    expect(mean(logs)).toBeCloseTo(-5, 1);
    expect(variance(logs)).toBeCloseTo(3, 1);
  });

  test('inv_log_uniform_values: min and max are values; the reciprocal of a log-uniform is log-uniform on [min, max]', () => {
    const xs = draws('dropout', { distribution: 'inv_log_uniform_values', min: 0.001, max: 0.5 });
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0.001);
    expect(Math.max(...xs)).toBeLessThan(0.5);
    expect(mean(xs.map(Math.log))).toBeCloseTo((Math.log(0.001) + Math.log(0.5)) / 2, 1);
    // Half the draws below the geometric mean of the bounds.
    const below = xs.filter((x) => x < Math.sqrt(0.001 * 0.5)).length / xs.length;
    expect(below).toBeGreaterThan(0.47);
    expect(below).toBeLessThan(0.53);
  });

  test('q_log_uniform: round(exp(U(min, max)) / q) * q, kept inside [e^min, e^max]', () => {
    const xs = draws('batch_size', { distribution: 'q_log_uniform', min: 2, max: 6, q: 4 });
    // e^2 = 7.39 and e^6 = 403.4: multiples of 4 from 8 to 400.
    expect(xs.every((x) => Number.isInteger(x) && x % 4 === 0 && x >= 8 && x <= 400)).toBe(true);
    expect(mean(xs.map(Math.log))).toBeCloseTo(4, 1);
  });

  test('q_log_normal: round(exp(N(mu, sigma)) / q) * q, at least q; mu 0 and sigma 1 by default', () => {
    const xs = draws('learning_rate', { distribution: 'q_log_normal', mu: -7, sigma: 1, q: 0.0001 });
    expect(xs.every((x) => x >= 0.0001 && isMultiple(x, 0.0001))).toBe(true);
    // The median of exp(N(-7, 1)) is e^-7 = 0.000912, rounded to 0.0009.
    const sorted = [...xs].sort((a, b) => a - b);
    expect(sorted[xs.length / 2]).toBeCloseTo(0.0009, 4);
    expect(validateSpec(param('learning_rate', { distribution: 'q_log_normal' })).parameters['learning_rate']).toEqual({ kind: 'q_log_normal', mu: 0, sigma: 1, q: 1 });
  });

  test('q_normal: round(N(mu, sigma) / q) * q (sampled; no sweepq parameter accepts every real number)', () => {
    const spec: ParameterSpec = { kind: 'q_normal', mu: 10, sigma: 4, q: 2 };
    const rng = createRng(3, 0);
    const xs = Array.from({ length: 4000 }, () => sampleParameter(spec, rng) as number);
    expect(xs.every((x) => Number.isInteger(x) && x % 2 === 0)).toBe(true);
    expect(mean(xs)).toBeCloseTo(10, 0);
    // Rounding to a step of 2 adds 4/12 to the variance of N(10, 4).
    expect(Math.sqrt(variance(xs))).toBeCloseTo(Math.sqrt(16 + 4 / 12), 0);
  });

  test('beta: Beta(a, b) on (0, 1), a and b default to 1 (uniform)', () => {
    const xs = draws('dropout', { distribution: 'beta', a: 2, b: 5 });
    expect(xs.every((x) => x > 0 && x < 1)).toBe(true);
    expect(mean(xs)).toBeCloseTo(2 / 7, 2);
    expect(variance(xs)).toBeCloseTo((2 * 5) / (49 * 8), 2);
    const u = draws('dropout', { distribution: 'beta' });
    expect(mean(u)).toBeCloseTo(0.5, 1);
    expect(variance(u)).toBeCloseTo(1 / 12, 2);
    // a, b < 1: mass piles up at both ends, still strictly inside (0, 1).
    const edges = draws('learning_rate', { distribution: 'beta', a: 0.2, b: 0.3 });
    expect(edges.every((x) => x > 0 && x < 1)).toBe(true);
    expect(mean(edges)).toBeCloseTo(0.4, 1);
  });

  test('q_beta: the beta draw rounded to a multiple of q strictly inside (0, 1)', () => {
    const xs = draws('dropout', { distribution: 'q_beta', a: 1, b: 1, q: 0.25 });
    expect(new Set(xs)).toEqual(new Set([0.25, 0.5, 0.75]));
    // With a = b = 1, the ends take the tails W&B would round to 0 and 1: 0.25 takes [0, 0.375), 0.75 [0.625, 1).
    const share = (v: number): number => xs.filter((x) => x === v).length / xs.length;
    expect(share(0.25)).toBeCloseTo(0.375, 1);
    expect(share(0.5)).toBeCloseTo(0.25, 1);
  });

  test('the same seed draws the same values', () => {
    expect(draws('dropout', { distribution: 'beta', a: 3, b: 2 }, 50, 9)).toEqual(draws('dropout', { distribution: 'beta', a: 3, b: 2 }, 50, 9));
  });
});
