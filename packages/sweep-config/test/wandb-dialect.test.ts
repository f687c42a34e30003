import { describe, expect, test } from 'vitest';
import { maxEpochs, metricTargetReached, parseSpec, specNotices, specToConfig, validateSpec } from '../src/index.js';
import { base, fixture, issueFor } from './helpers.js';

function param(name: string, body: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return base({ method: 'random', run_cap: 1, parameters: { [name]: body }, ...extra });
}

// Written the way W&B's sweep-configuration reference writes its examples: program/command, a metric with a goal and
// a target, and one parameter per distribution.
const WANDB_YAML = fixture('wandb.yaml');

describe('a W&B sweep file with every kind of key', () => {
  test('loads, resolves defaults and targets, and round-trips through specToConfig', () => {
    const spec = parseSpec(WANDB_YAML);
    expect(spec.metric).toEqual({ name: 'val_loss', goal: 'minimize', target: 0.12 });
    expect(spec.parameters['learning_rate']).toEqual({ kind: 'log_uniform', min: -9.21, max: -4.61 });
    expect(spec.parameters['dropout']).toEqual({ kind: 'beta', a: 2, b: 5 });
    expect(spec.parameters['recurrent_dropout']).toEqual({ kind: 'q_beta', a: 2, b: 2, q: 0.1 });
    expect(spec.parameters['embedding_dim']).toEqual({ kind: 'q_log_uniform', min: 2.77, max: 4.85, q: 8 });
    expect(spec.parameters['batch_size']).toEqual({ kind: 'categorical', values: [32, 64] });
    expect(spec.ignored).toEqual({ program: 'train.py', project: 'spam', entity: 'my-team', command: ['${env}', 'python', '${program}', '${args}'] });
    expect(validateSpec(specToConfig(spec))).toEqual(spec);
  });

  test('notices: the ignored W&B keys in one line, and what an exponent distribution really samples', () => {
    const notices = specNotices(parseSpec(WANDB_YAML));
    expect(notices).toEqual([
      'W&B keys program, command, project, entity accepted and ignored: sweepq trains its own model (the Keras-style LSTM) on its own workers and keeps results in its bucket',
      'parameters.learning_rate: log_uniform takes natural-log exponents (W&B), so it samples e^-9.21 to e^-4.61 = 0.0001 to 0.009952; use log_uniform_values to give the values themselves',
      'parameters.embedding_dim: q_log_uniform takes natural-log exponents (W&B), so it samples e^2.77 to e^4.85 = 15.96 to 127.7; use q_log_uniform_values to give the values themselves',
    ]);
    expect(specNotices(validateSpec(param('learning_rate', { distribution: 'inv_log_uniform', min: 2, max: 9 })))).toEqual([
      'parameters.learning_rate: inv_log_uniform takes natural-log exponents (W&B), so it samples e^-9 to e^-2 = 0.0001234 to 0.1353; use inv_log_uniform_values to give the values themselves',
    ]);
    expect(specNotices(validateSpec(base()))).toEqual([]);
  });

  test('the other W&B-only top-level keys are accepted and kept; multi-objective metrics (written under metric: instead) and unknown keys are not', () => {
    const spec = validateSpec(
      base({ apiVersion: 'v1', kind: 'sweep', controller: { type: 'local' }, job: 'spam:latest', image_uri: 'img', scheduler: { num_workers: 2 }, description: 'd' }),
    );
    expect(spec.ignored).toEqual({ apiVersion: 'v1', kind: 'sweep', controller: { type: 'local' }, job: 'spam:latest', image_uri: 'img', scheduler: { num_workers: 2 } });
    expect(spec.description).toBe('d');
    expect(specNotices(spec)[0]).toMatch(/^W&B keys controller, job, image_uri, scheduler, apiVersion, kind accepted and ignored: sweepq trains its own model/);
    expect(issueFor(base({ metrics: [{ name: 'val_loss' }, { name: 'loss' }] }), 'metrics')).toMatch(/multi-objective metrics .* is not read: write the objectives as a list under metric:/);
    expect(issueFor(base({ programm: 'x' }), 'programm')).toMatch(/Did you mean program\?$/);
  });
});

describe('metric.target', () => {
  test('a finite number, kept in the resolved metric; anything else names the field', () => {
    expect(validateSpec(base({ metric: { name: 'val_accuracy', target: 0.95 } })).metric).toEqual({ name: 'val_accuracy', goal: 'maximize', target: 0.95 });
    expect(validateSpec(base({ metric: { name: 'val_accuracy' } })).metric).not.toHaveProperty('target');
    expect(issueFor(base({ metric: { name: 'val_accuracy', target: 'high' } }), 'metric.target')).toBe('expected a number, got "high"');
    expect(issueFor(base({ metric: { name: 'val_accuracy', target: Infinity } }), 'metric.target')).toBe('expected a number, got Infinity');
    expect(() => parseSpec('method: grid\nparameters: {}\nmetric: {name: val_loss, target: .nan}\n')).toThrow(/metric\.target: expected a number, got NaN/);
  });

  test("W&B's impute and impute_while_running are accepted, kept outside metric, round-trip, and noticed unless they match sweepq", () => {
    const spec = parseSpec('method: random\nrun_cap: 2\nparameters: {}\nmetric: {name: val_loss, impute: best, impute_while_running: latest}\n');
    expect(spec.metric).toEqual({ name: 'val_loss', goal: 'minimize' });
    expect(spec.ignored).toEqual({ metric: { impute: 'best', impute_while_running: 'latest' } });
    expect(validateSpec(specToConfig(spec))).toEqual(spec);
    expect(specNotices(spec)).toEqual([
      "metric.impute: best accepted and ignored: sweepq ranks failed trials below every other (W&B's worst)",
      "metric.impute_while_running: latest accepted and ignored: sweepq's bayes search treats running trials as pending configurations with the worst value",
    ]);
    expect(specNotices(parseSpec('method: grid\nparameters: {}\nmetric: {name: val_loss, impute: worst, impute_while_running: false}\n'))).toEqual([]);
    expect(issueFor(base({ metric: { name: 'val_loss', impute: 'mean' } }), 'metric.impute')).toBe('expected one of latest, best, worst, got "mean"');
  });

  test('metricTargetReached: maximize means value >= target, minimize value <= target', () => {
    const max = { goal: 'maximize', target: 0.9 } as const;
    const min = { goal: 'minimize', target: 0.2 } as const;
    expect(metricTargetReached(max, 0.9)).toBe(true);
    expect(metricTargetReached(max, 0.95)).toBe(true);
    expect(metricTargetReached(max, 0.89)).toBe(false);
    expect(metricTargetReached(min, 0.2)).toBe(true);
    expect(metricTargetReached(min, 0.1)).toBe(true);
    expect(metricTargetReached(min, 0.21)).toBe(false);
    // No target, or no value (failed, diverged): never reached.
    expect(metricTargetReached({ goal: 'maximize' }, 1)).toBe(false);
    for (const v of [null, undefined, Number.NaN, Infinity, -Infinity]) {
      expect(metricTargetReached(max, v)).toBe(false);
      expect(metricTargetReached(min, v)).toBe(false);
    }
  });
});

describe('every value a distribution can produce must be valid for the parameter', () => {
  test('exponent kinds are checked on e^min and e^max, and say so', () => {
    expect(issueFor(param('dropout', { distribution: 'log_uniform', min: -5, max: 1 }), 'parameters.dropout.max')).toBe(
      "log_uniform can produce values up to 2.718281828459045 (e^max = e^1: log_uniform's min and max are natural-log exponents), but dropout must be a number in [0, 1)",
    );
    expect(issueFor(param('dropout', { distribution: 'inv_log_uniform', min: -1, max: 3 }), 'parameters.dropout.min')).toMatch(
      /^inv_log_uniform can produce values up to 2\.718\d* \(e\^-min = e\^1: inv_log_uniform's min and max are natural-log exponents\), but dropout must be a number in \[0, 1\)$/,
    );
    expect(issueFor(param('learning_rate', { distribution: 'log_uniform', min: -9, max: 800 }), 'parameters.learning_rate.max')).toMatch(
      /^log_uniform takes natural-log exponents \(values e\^max\), and e\^800 is infinite in floating point; keep min and max within \[-700, 700\], or use log_uniform_values/,
    );
    expect(issueFor(param('learning_rate', { distribution: 'log_uniform', min: -800, max: -2 }), 'parameters.learning_rate.min')).toMatch(/and e\^-800 is 0 in floating point/);
    expect(validateSpec(param('learning_rate', { distribution: 'inv_log_uniform', min: -2, max: -1 })).parameters['learning_rate']?.kind).toBe('inv_log_uniform');
  });

  test('the _values kinds need min > 0 and min < max', () => {
    expect(issueFor(param('learning_rate', { distribution: 'inv_log_uniform_values', min: 0, max: 0.1 }), 'parameters.learning_rate.min')).toBe(
      'inv_log_uniform_values needs min > 0 (min and max are actual values, not exponents), got 0',
    );
    expect(issueFor(param('learning_rate', { distribution: 'inv_log_uniform_values', min: 0.1, max: 0.1 }), 'parameters.learning_rate.max')).toMatch(/^max must be greater than min/);
    expect(issueFor(param('dropout', { distribution: 'inv_log_uniform_values', min: 0.1, max: 2 }), 'parameters.dropout.max')).toBe(
      'inv_log_uniform_values can produce values up to 2, but dropout must be a number in [0, 1)',
    );
  });

  test('integer parameters: only the quantized kinds with a whole q, inside the range', () => {
    expect(issueFor(param('lstm_units', { distribution: 'log_uniform', min: 2, max: 5 }), 'parameters.lstm_units.distribution')).toBe(
      'log_uniform produces non-integer values, but lstm_units must be an integer in [1, 4096]; use q_log_uniform with q: 1',
    );
    expect(issueFor(param('lstm_units', { distribution: 'inv_log_uniform_values', min: 2, max: 5 }), 'parameters.lstm_units.distribution')).toMatch(/use q_log_uniform_values with q: 1$/);
    expect(issueFor(param('lstm_units', { distribution: 'q_log_uniform', min: 2, max: 9 }), 'parameters.lstm_units.max')).toBe(
      'q_log_uniform can produce 8103, but lstm_units must be an integer in [1, 4096]',
    );
    expect(issueFor(param('lstm_units', { distribution: 'q_log_uniform', min: 2, max: 5, q: 0.5 }), 'parameters.lstm_units.q')).toBe('lstm_units needs integers, so q must be a whole number, got 0.5');
    expect(issueFor(param('lstm_units', { distribution: 'q_log_uniform', min: 0.1, max: 0.2, q: 2 }), 'parameters.lstm_units.q')).toBe('no multiple of q = 2 lies in [e^0.1, e^0.2]');
    expect(issueFor(param('batch_size', { distribution: 'q_normal', mu: 64, sigma: 16, q: 8 }), 'parameters.batch_size.distribution')).toBe(
      'q_normal can produce any multiple of q = 8, negative ones too, but batch_size must be an integer in [1, 65536]; use int_uniform or q_log_uniform_values',
    );
    expect(issueFor(param('batch_size', { distribution: 'q_log_normal', mu: 4, sigma: 1, q: 8 }), 'parameters.batch_size.distribution')).toBe(
      'q_log_normal can produce any multiple of q = 8 from 8 up, but batch_size must be an integer in [1, 65536]; use int_uniform or q_log_uniform_values',
    );
    expect(issueFor(param('lstm_units', { distribution: 'beta', a: 2, b: 2 }), 'parameters.lstm_units.distribution')).toBe(
      'beta produces numbers between 0 and 1, but lstm_units must be an integer in [1, 4096]; use int_uniform',
    );
    expect(issueFor(param('lstm_units', { distribution: 'q_beta' }), 'parameters.lstm_units.distribution')).toMatch(/^q_beta produces numbers between 0 and 1/);
    // The largest epochs a q_log_uniform can produce sets the rungs' horizon.
    // e^2.3 = 9.97: the largest multiple of 2 inside is 8.
    expect(maxEpochs(validateSpec(param('epochs', { distribution: 'q_log_uniform', min: 0, max: 2.3, q: 2 })))).toBe(8);
  });

  test('bounded float parameters refuse the unbounded kinds, learning_rate takes the positive ones', () => {
    expect(issueFor(param('dropout', { distribution: 'q_log_normal', q: 0.1 }), 'parameters.dropout.distribution')).toBe(
      'q_log_normal can produce any multiple of q = 0.1 from 0.1 up, but dropout must be a number in [0, 1); use uniform',
    );
    expect(issueFor(param('learning_rate', { distribution: 'q_normal', mu: 0.01, sigma: 0.001, q: 0.001 }), 'parameters.learning_rate.distribution')).toBe(
      'q_normal can produce any multiple of q = 0.001, negative ones too, but learning_rate must be a number > 0; use log_normal, q_log_normal or log_uniform_values',
    );
    expect(validateSpec(param('learning_rate', { distribution: 'beta', a: 1, b: 9 })).parameters['learning_rate']).toEqual({ kind: 'beta', a: 1, b: 9 });
    expect(validateSpec(param('dropout', { distribution: 'beta' })).parameters['dropout']).toEqual({ kind: 'beta', a: 1, b: 1 });
  });

  test('q_beta needs q < 1; a and b must be positive; keys belong to their distribution', () => {
    expect(issueFor(param('dropout', { distribution: 'q_beta', q: 1 }), 'parameters.dropout.q')).toBe('q_beta rounds to multiples of q strictly between 0 and 1, so q must be below 1, got 1');
    expect(validateSpec(param('dropout', { distribution: 'q_beta', q: 0.3 })).parameters['dropout']).toEqual({ kind: 'q_beta', a: 1, b: 1, q: 0.3 });
    expect(issueFor(param('dropout', { distribution: 'beta', a: 0 }), 'parameters.dropout.a')).toBe('expected a number > 0, got 0');
    expect(issueFor(param('dropout', { distribution: 'beta', min: 0 }), 'parameters.dropout.min')).toBe('not used by beta; beta takes a, b');
    expect(issueFor(param('dropout', { a: 2, b: 2 }), 'parameters.dropout.distribution')).toBe('a/b need an explicit distribution: beta or q_beta');
    expect(issueFor(param('learning_rate', { distribution: 'log_uniform', min: -9 }), 'parameters.learning_rate.max')).toBe('required: log_uniform needs min and max');
  });

  test("W&B's categorical_w_probabilities is categorical", () => {
    expect(validateSpec(param('optimizer', { distribution: 'categorical_w_probabilities', values: ['adam', 'sgd'], probabilities: [0.75, 0.25] })).parameters['optimizer']).toEqual({
      kind: 'categorical',
      values: ['adam', 'sgd'],
      probabilities: [0.75, 0.25],
    });
  });

  test('grid search refuses the new continuous and unbounded kinds, as W&B does', () => {
    for (const body of [
      { distribution: 'log_uniform', min: -9, max: -2 },
      { distribution: 'inv_log_uniform_values', min: 0.0001, max: 0.1 },
      { distribution: 'q_log_uniform', min: -9, max: -2, q: 0.0001 },
      { distribution: 'q_log_normal', mu: -7, q: 0.0001 },
      { distribution: 'beta', a: 2, b: 2 },
      { distribution: 'q_beta', q: 0.1 },
    ]) {
      expect(issueFor(base({ parameters: { learning_rate: body } }), 'parameters.learning_rate')).toMatch(/^grid search needs a finite set of values, but learning_rate uses the (continuous )?distribution \w+; grid takes value, values, int_uniform and q_uniform/);
    }
  });
});
