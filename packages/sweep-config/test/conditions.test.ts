import { describe, expect, test } from 'vitest';
import { DEFAULT_PARAMS, PARAMETER_NAMES, activeParameters, parseSpec, rungEpochs, specToConfig, validateSpec } from '../src/index.js';
import { base, fixture, validateError } from './helpers.js';

function issues(obj: unknown): Record<string, string> {
  return Object.fromEntries(validateError(obj).issues.map((i) => [i.path, i.message]));
}

const yaml = fixture('conditions.yaml');

describe('conditional parameters', () => {
  test('YAML condition: {param: {values|value|min|max}} is normalised onto the parameter', () => {
    const spec = parseSpec(yaml);
    expect(spec.parameters['learning_rate']).toEqual({ kind: 'categorical', values: [0.1, 0.01], condition: { optimizer: { values: ['sgd'] } } });
    expect(spec.parameters['recurrent_dropout']).toEqual({ kind: 'categorical', values: [0.1, 0.3], condition: { lstm_units: { min: 64 } } });
    expect(validateSpec(specToConfig(spec))).toEqual(spec);
  });

  test('activeParameters: conditions hold, and chain through inactive parents', () => {
    const spec = parseSpec(yaml);
    const p = { ...DEFAULT_PARAMS, optimizer: 'adam', lstm_units: 128 };
    expect([...activeParameters(spec, p)].sort()).toEqual(['lstm_units', 'optimizer', 'recurrent_dropout']);
    expect([...activeParameters(spec, { ...p, optimizer: 'sgd', lstm_units: 32 })].sort()).toEqual(['learning_rate', 'lstm_units', 'optimizer']);
    const chained = validateSpec({
      method: 'random',
      run_cap: 5,
      parameters: {
        optimizer: { values: ['adam', 'sgd'] },
        learning_rate: { values: [0.1, 0.01], condition: { optimizer: { values: ['sgd'] } } },
        dropout: { min: 0, max: 0.5, condition: { learning_rate: { max: 0.05 } } },
      },
    });
    // dropout depends on learning_rate, which does not apply with adam: dropout does not apply either.
    expect(activeParameters(chained, { ...DEFAULT_PARAMS, optimizer: 'adam', learning_rate: 0.001 }).has('dropout')).toBe(false);
    expect(activeParameters(chained, { ...DEFAULT_PARAMS, optimizer: 'sgd', learning_rate: 0.01 }).has('dropout')).toBe(true);
  });

  test('validation explains a bad condition', () => {
    const got = issues(
      base({
        parameters: {
          optimizer: { values: ['adam', 'sgd'] },
          dropout: { values: [0, 0.2] },
          lstm_units: { values: [32, 64], condition: { optimizer: { values: ['sgdd'] } } },
          embedding_dim: { values: [16, 32], condition: { optimiser: { value: 'sgd' } } },
          batch_size: { values: [16, 32], condition: { batch_size: { min: 16 } } },
          epochs: { values: [1, 2], condition: { max_len: { min: 50 } } },
          max_words: { values: [100, 200], condition: { learning_rate: { min: 0.01 } } },
          learning_rate: { values: [0.1, 0.01], condition: { optimizer: { min: 1 } } },
          recurrent_dropout: { values: [0.1], condition: { lstm_units: { min: 128 } } },
          max_len: { values: [10, 20], condition: 'sgd' },
        },
      }),
    );
    expect(got).toEqual({
      'parameters.lstm_units.condition.optimizer.values[0]': '"sgdd" is not a value optimizer can take (one of adam, sgd), so this condition could never hold for it',
      'parameters.embedding_dim.condition.optimiser': `unknown parameter "optimiser"; allowed: ${PARAMETER_NAMES.join(', ')}. Did you mean optimizer?`,
      'parameters.batch_size.condition.batch_size': 'batch_size cannot depend on itself',
      'parameters.epochs.condition.max_len': 'max_len is written below epochs; a condition may only name parameters written above it (move epochs below max_len), which also rules out cycles',
      'parameters.max_words.condition.learning_rate': 'learning_rate is written below max_words; a condition may only name parameters written above it (move max_words below learning_rate), which also rules out cycles',
      'parameters.learning_rate.condition.optimizer': 'optimizer is categorical (one of adam, sgd); use values: [...] instead of min/max',
      'parameters.recurrent_dropout.condition.lstm_units': 'lstm_units never falls in [128, Infinity] (lstm_units is one of 32, 64), so recurrent_dropout would never apply',
      'parameters.max_len.condition': 'expected a mapping of parameter names to {values: [...]} or {min: a, max: b}, e.g. {optimizer: {values: [sgd]}} or {lstm_units: {min: 64}}; got "sgd"',
    });
  });

  test('more condition errors: unswept reference, continuous with values, clause shape', () => {
    const got = issues(
      base({
        method: 'random',
        run_cap: 3,
        parameters: {
          dropout: { min: 0, max: 0.5 },
          optimizer: { values: ['adam', 'sgd'] },
          lstm_units: { values: [32, 64], condition: { embedding_dim: { min: 16 } } },
          learning_rate: { values: [0.1], condition: { dropout: { values: [0.1] } } },
          batch_size: { values: [16], condition: { optimizer: { values: ['sgd'], min: 1 } } },
          epochs: { values: [1], condition: { optimizer: { vlaues: ['sgd'] } } },
          max_len: { values: [10], condition: { dropout: { min: 0.4, max: 0.2 } } },
        },
      }),
    );
    expect(got).toEqual({
      'parameters.lstm_units.condition.embedding_dim': 'embedding_dim is not under parameters, so it is always 64 (its default) and this condition would be fixed; add embedding_dim to parameters or drop the condition',
      'parameters.learning_rate.condition.dropout.values': 'dropout is continuous (uniform), so it never equals a listed value; use min/max instead (e.g. {dropout: {min: …}})',
      'parameters.batch_size.condition.optimizer': 'give either values (a list of allowed values) or min/max (a range), not both',
      'parameters.epochs.condition.optimizer.vlaues': 'unknown key "vlaues"; allowed: value, values, min, max. Did you mean values?',
      'parameters.max_len.condition.dropout.max': 'max must be >= min (0.4), got 0.2',
    });
  });

  test('a typo of condition is suggested', () => {
    expect(issues(base({ parameters: { lstm_units: { values: [1], conditon: {} } } }))['parameters.lstm_units.conditon']).toMatch(/Did you mean condition\?$/);
  });
});

describe('bayes, max_in_flight and early_terminate validation', () => {
  test('bayes block: fields checked, only with method bayes', () => {
    const spec = validateSpec(base({ method: 'bayes', run_cap: 10, max_in_flight: 3, bayes: { n_startup_trials: 4, gamma: 0.2, multivariate: false } }));
    expect(spec.bayes).toEqual({ n_startup_trials: 4, gamma: 0.2, multivariate: false });
    expect(spec.max_in_flight).toBe(3);
    expect(issues(base({ method: 'bayes', run_cap: 10, bayes: { gamma: 1, n_ei_candidates: 0, n_startup: 3, multivariate: 'yes' } }))).toEqual({
      'bayes.n_startup': 'unknown key "n_startup"; allowed: n_startup_trials, n_ei_candidates, gamma, multivariate, startup_design. Did you mean n_startup_trials?',
      'bayes.multivariate': 'expected true or false, got "yes"',
      'bayes.gamma': 'expected a number < 1, got 1',
      'bayes.n_ei_candidates': 'expected a number > 0, got 0',
    });
    expect(validateSpec(base({ method: 'bayes', run_cap: 10, bayes: { startup_design: 'latin_hypercube' } })).bayes).toEqual({ startup_design: 'latin_hypercube' });
    expect(issues(base({ method: 'bayes', run_cap: 10, bayes: { startup_design: 'lhs' } }))['bayes.startup_design']).toMatch(/random.*latin_hypercube.*"lhs"/);
    expect(issues(base({ bayes: {} }))['bayes']).toBe('only used by method: bayes, but method is grid; remove the bayes block or set method: bayes');
    expect(issues(base({ max_in_flight: 0 }))['max_in_flight']).toBe('expected a number > 0, got 0');
  });

  test('hyperband: min_iter, or max_iter with s; eta a number > 1; strict; a rung before the last epoch', () => {
    const p = { parameters: { epochs: { value: 9 } } };
    expect(validateSpec(base({ ...p, early_terminate: { type: 'hyperband', max_iter: 27, s: 2, eta: 3 } })).early_terminate).toEqual({ type: 'hyperband', max_iter: 27, s: 2, eta: 3 });
    const et = (e: Record<string, unknown>, extra: Record<string, unknown> = p) => issues(base({ ...extra, early_terminate: e }));
    expect(et({ type: 'hyperband' })).toEqual({ 'early_terminate.min_iter': 'required: hyperband needs min_iter (the epoch of the first rung, e.g. 1), or max_iter with s' });
    expect(et({ type: 'hyperband', min_iter: 1, max_iter: 9 })).toEqual({ early_terminate: 'give either min_iter (first rung; later ones at min_iter * eta^k) or max_iter with s (rungs at max_iter / eta^k for k = s..1), not both' });
    expect(et({ type: 'hyperband', max_iter: 9 })).toEqual({ 'early_terminate.s': 'required with max_iter: the number of rungs below max_iter (rungs at max_iter / eta^k, k = s..1)' });
    // As in W&B, rungs below one epoch are left out: 9 / 3^3 < 1, so the rungs are 9 / 3^2 and 9 / 3.
    const deep = validateSpec(base({ ...p, early_terminate: { type: 'hyperband', max_iter: 9, s: 3 } }));
    expect(rungEpochs(deep)).toEqual([1, 3]);
    // W&B's eta is any number > 1; fractional rungs are rounded down and merged.
    const fractional = validateSpec(base({ ...p, early_terminate: { type: 'hyperband', min_iter: 1, eta: 1.5 } }));
    expect(rungEpochs(fractional)).toEqual([1, 2, 3, 5, 7]);
    expect(et({ type: 'hyperband', min_iter: 1, eta: 1 })).toEqual({ 'early_terminate.eta': 'expected a number > 1, got 1' });
    expect(et({ type: 'hyperband', min_iter: 0 })).toEqual({ 'early_terminate.min_iter': 'expected a number > 0, got 0' });
    expect(validateSpec(base({ ...p, early_terminate: { type: 'hyperband', min_iter: 1, strict: false } })).early_terminate).toEqual({ type: 'hyperband', min_iter: 1, strict: false });
    expect(et({ type: 'hyperband', min_iter: 1, strict: 'yes' })).toEqual({ 'early_terminate.strict': 'expected true or false, got "yes"' });
    expect(et({ type: 'hyperband', min_iter: 1, stric: true })).toEqual({ 'early_terminate.stric': 'unknown key "stric"; allowed: type, min_iter, max_iter, s, eta, strict. Did you mean strict?' });
    expect(et({ type: 'hyperband', min_iter: 3 }, { parameters: { epochs: { values: [2, 3] } } })).toEqual({
      'early_terminate.min_iter': 'no rung falls before the last epoch (trials run at most 3 epochs), so nothing would ever be stopped; use an earlier first rung or more epochs',
    });
    expect(et({ type: 'hyperbnd', min_iter: 1 })).toEqual({ 'early_terminate.type': 'got "hyperbnd": expected one of hyperband, median (e.g. {type: hyperband, min_iter: 1, eta: 3} or {type: median, min_iter: 2, warmup_trials: 5}). Did you mean hyperband?' });
  });

  test('median: min_iter and warmup_trials', () => {
    expect(validateSpec(base({ early_terminate: { type: 'median', min_iter: 2, warmup_trials: 0 } })).early_terminate).toEqual({ type: 'median', min_iter: 2, warmup_trials: 0 });
    expect(issues(base({ early_terminate: { type: 'median', warmup_trials: -1, eta: 3 } }))).toEqual({
      'early_terminate.eta': 'unknown key "eta"; allowed: type, min_iter, warmup_trials.',
      'early_terminate.warmup_trials': 'expected a number >= 0, got -1',
    });
  });
});
