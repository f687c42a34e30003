import { describe, expect, test } from 'vitest';
import { DEFAULT_DATASET_URI, MAX_TRIALS, validateSpec } from '../src/index.js';
import { base, issueFor, validateError } from './helpers.js';

function param(name: string, body: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return base({ parameters: { [name]: body }, ...extra });
}

describe('method', () => {
  test('bayes is accepted and needs run_cap', () => {
    expect(validateSpec(base({ method: 'bayes', run_cap: 20 })).method).toBe('bayes');
    expect(issueFor(base({ method: 'bayes' }), 'run_cap')).toBe('required for method bayes (it proposes trials until run_cap is reached); add e.g. run_cap: 30');
  });
  test('other values list the allowed ones, with a suggestion', () => {
    expect(issueFor(base({ method: 'grdi' }), 'method')).toBe('expected one of grid, random, bayes, got "grdi". Did you mean grid?');
    expect(issueFor(base({ method: 'bayesian' }), 'method')).toBe('expected one of grid, random, bayes, got "bayesian". Did you mean bayes?');
    expect(issueFor(base({ method: 3 }), 'method')).toBe('expected one of grid, random, bayes, got 3');
    expect(issueFor({ parameters: {} }, 'method')).toMatch(/^required/);
  });
});

describe('top level', () => {
  test('unknown keys are errors with a suggestion', () => {
    expect(issueFor(base({ paramters: {} }), 'paramters')).toMatch(/^unknown top-level key "paramters"; allowed: name, .*\. Did you mean parameters\?$/);
  });
  test('W&B program/command/project/entity are accepted and kept under ignored', () => {
    const spec = validateSpec(base({ program: 'train.py', command: ['${env}', 'python', '${program}'], project: 'p', entity: 'e' }));
    expect(spec.ignored).toEqual({ program: 'train.py', command: ['${env}', 'python', '${program}'], project: 'p', entity: 'e' });
  });
  test('early_terminate needs a known type and is stored as written', () => {
    const epochs9 = { parameters: { epochs: { value: 9 } } };
    expect(validateSpec(base({ ...epochs9, early_terminate: { type: 'hyperband', min_iter: 3, eta: 2 } })).early_terminate).toEqual({ type: 'hyperband', min_iter: 3, eta: 2 });
    expect(issueFor(base({ early_terminate: { min_iter: 3 } }), 'early_terminate.type')).toMatch(/^required: expected one of hyperband, median/);
    expect(issueFor(base({ early_terminate: 'hyperband' }), 'early_terminate')).toMatch(/^expected a mapping such as \{type: hyperband/);
  });
  test('name is at most 200 characters; seed, run_cap and trial_timeout are checked', () => {
    expect(validateSpec(base({ name: 'x'.repeat(200) })).name).toHaveLength(200);
    expect(issueFor(base({ name: 'x'.repeat(201) }), 'name')).toBe('expected at most 200 characters, got 201');
    expect(issueFor(base({ run_cap: 0 }), 'run_cap')).toBe('expected a number > 0, got 0');
    expect(issueFor(base({ run_cap: 2.5 }), 'run_cap')).toBe('expected an integer, got 2.5');
    expect(issueFor(base({ run_cap: MAX_TRIALS + 1 }), 'run_cap')).toMatch(/<= 100000/);
    expect(issueFor(base({ seed: -1 }), 'seed')).toBe('expected a number >= 0, got -1');
    expect(issueFor(base({ seed: 'abc' }), 'seed')).toBe('expected a number, got "abc"');
    expect(issueFor(base({ trial_timeout: 0 }), 'trial_timeout')).toBe('expected a number > 0, got 0');
    expect(validateSpec(base({ trial_timeout: 90.5 })).trial_timeout).toBe(90.5);
  });
  test('defaults: seed 0, metric val_accuracy/maximize, builtin dataset', () => {
    const spec = validateSpec(base());
    expect(spec.seed).toBe(0);
    expect(spec.metric).toEqual({ name: 'val_accuracy', goal: 'maximize' });
    expect(spec.dataset.uri).toBe(DEFAULT_DATASET_URI);
    expect(spec.dataset.format).toBeUndefined();
  });
  test('parameters is required and must be a mapping', () => {
    expect(issueFor({ method: 'grid' }, 'parameters')).toMatch(/^required/);
    expect(issueFor(base({ parameters: [] }), 'parameters')).toMatch(/expected a mapping .* got a list/);
  });
  test('metric name and goal are checked', () => {
    expect(issueFor(base({ metric: { name: 'f1' } }), 'metric.name')).toBe('expected one of val_accuracy, val_loss, accuracy, loss, model_bytes, param_count, latency_ms, got "f1"');
    expect(issueFor(base({ metric: { name: 'loss', goal: 'min' } }), 'metric.goal')).toBe('expected one of maximize, minimize, got "min"');
    expect(issueFor(base({ metric: { name: 'loss', gaol: 'min' } }), 'metric.gaol')).toBe('unknown key "gaol"; allowed: name, goal, target, impute, impute_while_running. Did you mean goal?');
  });
  test('every issue is reported at once, one per line', () => {
    const error = validateError({ method: 'bayesian', parameters: { lr: { value: 1 }, epochs: { value: 0 } }, seed: -1 });
    expect(error.issues.map((i) => i.path).sort()).toEqual(['method', 'parameters.epochs.value', 'parameters.lr', 'seed']);
    expect(error.message.split('\n')).toHaveLength(4);
  });
  test('non-mapping input', () => {
    expect(validateError([1]).message).toMatch(/expected the spec to be a mapping/);
    expect(validateError(null).message).toMatch(/got null/);
  });
});

describe('parameters', () => {
  test('unknown names suggest the closest allowed name, including Keras names', () => {
    expect(issueFor(param('learning_rat', { value: 0.1 }), 'parameters.learning_rat')).toMatch(/^unknown parameter "learning_rat"; allowed: max_words, .*, mask_zero\. Did you mean learning_rate\?$/);
    expect(issueFor(param('lr', { value: 0.1 }), 'parameters.lr')).toMatch(/Did you mean learning_rate\?$/);
    expect(issueFor(param('num_words', { value: 5 }), 'parameters.num_words')).toMatch(/Did you mean max_words\?$/);
    expect(issueFor(param('maxlen', { value: 5 }), 'parameters.maxlen')).toMatch(/Did you mean max_len\?$/);
    expect(issueFor(param('units', { value: 5 }), 'parameters.units')).toMatch(/Did you mean lstm_units\?$/);
    expect(issueFor(param('Recurrent-Dropout', { value: 0 }), 'parameters.Recurrent-Dropout')).toMatch(/Did you mean recurrent_dropout\?$/);
    expect(issueFor(param('colour', { value: 5 }), 'parameters.colour')).not.toMatch(/Did you mean/);
  });

  test('wrong types name the parameter key and the expectation', () => {
    expect(issueFor(param('learning_rate', { min: 'fast', max: 0.1 }), 'parameters.learning_rate.min')).toBe('expected a number, got "fast"');
    expect(issueFor(param('batch_size', { value: '32' }), 'parameters.batch_size.value')).toBe('expected an integer in [1, 65536], got "32"');
    expect(issueFor(param('optimizer', { values: ['adam', 'adamw'] }), 'parameters.optimizer.values[1]')).toBe('expected one of adam, sgd, rmsprop, adagrad, got "adamw"');
    expect(issueFor(param('batch_size', 32), 'parameters.batch_size')).toMatch(/expected a mapping such as \{value: x\}.*got 32/);
    expect(issueFor(param('epochs', { value: 2, step: 1 }), 'parameters.epochs.step')).toMatch(/^unknown key "step"/);
    expect(issueFor(param('epochs', { values: [] }), 'parameters.epochs.values')).toBe('expected at least 1 item(s), got 0');
    expect(issueFor(param('epochs', { value: 2.5 }), 'parameters.epochs.value')).toBe('expected an integer in [1, 10000], got 2.5 (epochs is an integer parameter)');
  });

  test('out-of-range values', () => {
    expect(issueFor(param('dropout', { value: 1 }), 'parameters.dropout.value')).toBe('expected a number in [0, 1), got 1');
    expect(issueFor(param('recurrent_dropout', { values: [0, -0.1] }), 'parameters.recurrent_dropout.values[1]')).toBe('expected a number in [0, 1), got -0.1');
    expect(issueFor(param('learning_rate', { value: 0 }), 'parameters.learning_rate.value')).toBe('expected a number > 0, got 0');
    expect(issueFor(param('max_words', { value: 1 }), 'parameters.max_words.value')).toBe('expected an integer in [2, 1000000], got 1');
    expect(issueFor(param('dropout', { min: 0, max: 1.5 }), 'parameters.dropout.max')).toBe('uniform can produce values up to 1.5, but dropout must be a number in [0, 1)');
    expect(issueFor(param('learning_rate', { min: 0, max: 0.1 }), 'parameters.learning_rate.min')).toBe('uniform can produce 0, but learning_rate must be a number > 0');
    expect(issueFor(param('lstm_units', { min: 0, max: 64 }), 'parameters.lstm_units.min')).toBe('int_uniform can produce 0, but lstm_units must be an integer in [1, 4096]');
    expect(issueFor(param('batch_size', { distribution: 'q_uniform', min: 0, max: 64, q: 16 }), 'parameters.batch_size.min')).toBe('q_uniform can produce 0, but batch_size must be an integer in [1, 65536]');
  });

  test('uniform bounds may reach 1 for dropout because uniform never produces max', () => {
    expect(validateSpec(param('dropout', { min: 0, max: 1 }, { method: 'random', run_cap: 1 })).parameters['dropout']).toEqual({ kind: 'uniform', min: 0, max: 1 });
  });

  test('min must be below max (ints may be equal)', () => {
    expect(issueFor(param('dropout', { min: 0.5, max: 0.5 }), 'parameters.dropout.max')).toBe('max must be greater than min (0.5), got 0.5; for a single value use value: 0.5');
    expect(issueFor(param('epochs', { min: 5, max: 2 }), 'parameters.epochs.max')).toBe('max must be >= min (5), got 2');
    expect(validateSpec(param('epochs', { min: 3, max: 3 })).parameters['epochs']).toEqual({ kind: 'int_uniform', min: 3, max: 3 });
  });

  test('{min, max} is int_uniform on integer parameters with integer bounds, uniform otherwise', () => {
    const spec = validateSpec(base({ method: 'random', run_cap: 1, parameters: { lstm_units: { min: 8, max: 64 }, dropout: { min: 0, max: 1 } } }));
    expect(spec.parameters['lstm_units']?.kind).toBe('int_uniform');
    expect(spec.parameters['dropout']?.kind).toBe('uniform');
    expect(issueFor(param('lstm_units', { min: 8.5, max: 64 }), 'parameters.lstm_units')).toMatch(/so this is a uniform distribution, which produces non-integer values, but lstm_units must be an integer/);
  });

  test('uniform on an integer parameter suggests int_uniform', () => {
    expect(issueFor(param('lstm_units', { distribution: 'uniform', min: 8, max: 64 }), 'parameters.lstm_units.distribution')).toBe(
      'uniform produces non-integer values, but lstm_units must be an integer in [1, 4096]; use int_uniform (or q_uniform with an integer q)',
    );
    expect(issueFor(param('batch_size', { distribution: 'log_uniform_values', min: 8, max: 64 }), 'parameters.batch_size.distribution')).toMatch(/use q_log_uniform_values with q: 1$/);
    expect(issueFor(param('batch_size', { distribution: 'q_uniform', min: 8, max: 64, q: 0.5 }), 'parameters.batch_size.q')).toBe('batch_size needs integers, so q must be a whole number, got 0.5');
  });

  test('distribution names: unknown ones and typos', () => {
    expect(issueFor(param('learning_rate', { distribution: 'unifrom', min: 0.1, max: 0.2 }), 'parameters.learning_rate.distribution')).toMatch(/got "unifrom"\. Did you mean uniform\?$/);
    expect(issueFor(param('learning_rate', { distribution: 'inv_log_uniform_value', min: 0.1, max: 1 }), 'parameters.learning_rate.distribution')).toMatch(/Did you mean inv_log_uniform_values\?$/);
  });

  test('keys must match the distribution', () => {
    expect(issueFor(param('epochs', { value: 1, values: [1, 2] }), 'parameters.epochs')).toBe('give either value (a constant) or values (a list), not both');
    expect(issueFor(param('epochs', { values: [1, 2], min: 1 }), 'parameters.epochs.min')).toBe('not used by categorical; categorical takes values, probabilities');
    expect(issueFor(param('epochs', { distribution: 'int_uniform', min: 1 }), 'parameters.epochs.max')).toBe('required: int_uniform needs min and max');
    expect(issueFor(param('epochs', {}), 'parameters.epochs')).toMatch(/^expected value: x, values: \[\.\.\.\], or min and max/);
    expect(issueFor(param('learning_rate', { mu: -7 }), 'parameters.learning_rate.distribution')).toMatch(/normal, log_normal, q_normal or q_log_normal/);
  });

  test('log distributions need min > 0', () => {
    expect(issueFor(param('learning_rate', { distribution: 'log_uniform_values', min: 0, max: 0.1 }), 'parameters.learning_rate.min')).toMatch(/needs min > 0 \(min and max are actual values, not exponents\), got 0/);
    expect(issueFor(param('embedding_dim', { distribution: 'q_log_uniform_values', min: 0, max: 64, q: 8 }), 'parameters.embedding_dim.min')).toMatch(/needs min > 0/);
  });

  test('q_uniform needs a multiple of q inside [min, max]', () => {
    expect(issueFor(param('batch_size', { distribution: 'q_uniform', min: 17, max: 31, q: 16 }), 'parameters.batch_size.q')).toBe('no multiple of q = 16 lies in [17, 31]');
    expect(validateSpec(param('dropout', { distribution: 'q_uniform', min: 0, max: 0.3, q: 0.1 })).parameters['dropout']).toEqual({ kind: 'q_uniform', min: 0, max: 0.3, q: 0.1 });
    expect(validateSpec(param('epochs', { distribution: 'q_uniform', min: 1, max: 9 })).parameters['epochs']).toEqual({ kind: 'q_uniform', min: 1, max: 9, q: 1 });
  });

  test('normal and log_normal only where every value they produce is valid', () => {
    const spec = validateSpec(param('learning_rate', { distribution: 'log_normal', mu: -7, sigma: 1 }, { method: 'random', run_cap: 3 }));
    expect(spec.parameters['learning_rate']).toEqual({ kind: 'log_normal', mu: -7, sigma: 1 });
    expect(issueFor(param('learning_rate', { distribution: 'normal', mu: 0.01, sigma: 0.001 }), 'parameters.learning_rate.distribution')).toBe(
      'normal can produce any real number, but learning_rate must be a number > 0; use log_normal, q_log_normal or log_uniform_values',
    );
    expect(issueFor(param('dropout', { distribution: 'log_normal' }), 'parameters.dropout.distribution')).toMatch(/use uniform$/);
    expect(issueFor(param('epochs', { distribution: 'normal', mu: 3, sigma: 1 }), 'parameters.epochs.distribution')).toMatch(/non-integer values/);
    expect(issueFor(param('learning_rate', { distribution: 'log_normal', sigma: 0 }), 'parameters.learning_rate.sigma')).toBe('expected a number > 0, got 0');
  });

  test('optimizer only takes categorical forms', () => {
    expect(issueFor(param('optimizer', { min: 1, max: 2 }), 'parameters.optimizer')).toMatch(/optimizer is categorical .* use values: \[\.\.\.\] or value: x, not uniform/);
  });

  test('categorical probabilities: same length, sum to 1; duplicates refused', () => {
    expect(issueFor(param('epochs', { values: [1, 2], probabilities: [1] }), 'parameters.epochs.probabilities')).toBe('expected 2 probabilities (one per value), got 1');
    expect(issueFor(param('epochs', { values: [1, 2], probabilities: [0.5, 0.4] }), 'parameters.epochs.probabilities')).toBe('must sum to 1, got 0.9');
    expect(issueFor(param('epochs', { values: [1, 2], probabilities: [1.5, -0.5] }), 'parameters.epochs.probabilities[0]')).toBe('expected a number <= 1, got 1.5');
    expect(issueFor(param('epochs', { values: [1, 2, 1] }), 'parameters.epochs.values[2]')).toBe('duplicate of values[0] (1)');
    expect(validateSpec(param('epochs', { values: [1, 2, 3], probabilities: [0.1, 0.2, 0.7] })).parameters['epochs']).toEqual({ kind: 'categorical', values: [1, 2, 3], probabilities: [0.1, 0.2, 0.7] });
  });
});

describe('method/parameter combinations', () => {
  test('grid with a continuous distribution names the parameter', () => {
    expect(issueFor(param('learning_rate', { distribution: 'log_uniform_values', min: 0.001, max: 0.1 }), 'parameters.learning_rate')).toBe(
      'grid search needs a finite set of values, but learning_rate uses the continuous distribution log_uniform_values; grid takes value, values, int_uniform and q_uniform (as W&B\'s does): use values: [...] (or int_uniform / q_uniform), or method: random',
    );
  });
  test('grid accepts int_uniform and q_uniform (finite)', () => {
    const spec = validateSpec(base({ parameters: { epochs: { min: 1, max: 3 }, batch_size: { distribution: 'q_uniform', min: 16, max: 64, q: 16 } } }));
    expect(spec.parameters['epochs']?.kind).toBe('int_uniform');
  });
  test('random without run_cap says it is required', () => {
    expect(issueFor(base({ method: 'random' }), 'run_cap')).toBe('required for method random (random search never runs out of combinations); add e.g. run_cap: 20');
  });
  test('a grid over MAX_TRIALS needs run_cap', () => {
    const parameters = { max_words: { min: 2, max: 1001 }, max_len: { min: 1, max: 101 } };
    expect(issueFor(base({ parameters }), 'parameters')).toMatch(/the grid has 101000 combinations, more than the 100000/);
    expect(validateSpec(base({ parameters, run_cap: 10 })).run_cap).toBe(10);
  });
});

describe('dataset', () => {
  const ds = (dataset: unknown) => base({ dataset });
  test('defaults and format inference', () => {
    expect(validateSpec(ds({ uri: '/data/train.TSV' })).dataset).toEqual({ uri: '/data/train.TSV', format: 'tsv', text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 42 });
    expect(validateSpec(ds({ uri: 'file:///data/a%20b.ndjson' })).dataset.format).toBe('jsonl');
    expect(validateSpec(ds({ uri: 's3://bucket/x/y.csv' })).dataset.format).toBe('csv');
    expect(validateSpec(ds({ uri: 's3://bucket/x/y.dat', format: 'csv' })).dataset.format).toBe('csv');
    expect(validateSpec(ds({ uri: 'data/train.jsonl' })).dataset.format).toBe('jsonl');
    expect(validateSpec(ds({ uri: 'C:\\data\\train.csv' })).dataset.format).toBe('csv');
    expect(validateSpec(ds({ uri: 'data/train.tsv.gz' })).dataset.format).toBe('tsv');
    expect(validateSpec(ds({ uri: 'data/train.tab' })).dataset.format).toBe('tsv');
    expect(validateSpec(ds(null)).dataset.uri).toBe('builtin:spam-assassin');
  });
  test('no extension, or an unknown one: format stays unset (the reader tells it from the content)', () => {
    expect(validateSpec(ds({ uri: './SMSSpamCollection' })).dataset).toEqual({ uri: './SMSSpamCollection', text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 42 });
    expect(validateSpec(ds({ uri: 's3://bucket/x/y.json' })).dataset.format).toBeUndefined();
  });
  test('header and columns by 0-based index', () => {
    expect(validateSpec(ds({ uri: 'a.tsv.gz', header: false, text_field: 1, label_field: 0 })).dataset).toMatchObject({ header: false, text_field: 1, label_field: 0 });
  });
  test('an unknown built-in dataset is an error with a suggestion', () => {
    expect(issueFor(ds({ uri: 'builtin:spam-assasin' }), 'dataset.uri')).toBe(
      'unknown built-in dataset "builtin:spam-assasin"; did you mean builtin:spam-assassin? Available: builtin:spam-assassin, or a file (local path, file:// or s3://)',
    );
    expect(issueFor(ds({ uri: 'builtin:imdb' }), 'dataset.uri')).toMatch(/^unknown built-in dataset "builtin:imdb" Available: builtin:spam-assassin/);
  });
  test('bad uri and format', () => {
    expect(issueFor(ds({ uri: 'http://example.com/a.csv' }), 'dataset.uri')).toMatch(/unsupported scheme "http:"; use builtin:<name>, s3:\/\/bucket\/key, https:\/\/… or a local path/);
    expect(issueFor(ds({ uri: 'https://example.com/' }), 'dataset.uri')).toMatch(/expected https:\/\/host\/path naming one file/);
    expect(validateSpec(ds({ uri: 'https://example.com/data/a.csv?x=1' })).dataset).toMatchObject({ uri: 'https://example.com/data/a.csv?x=1', format: 'csv' });
    expect(issueFor(ds({ uri: 's3://Bad_Bucket/a.csv' }), 'dataset.uri')).toMatch(/valid bucket name/);
    expect(issueFor(ds({ uri: 's3://bucket' }), 'dataset.uri')).toMatch(/naming one object/);
    expect(issueFor(ds({ uri: 'builtin:' }), 'dataset.uri')).toMatch(/expected builtin:<name>/);
    expect(issueFor(ds({ uri: 'file://host/a.csv' }), 'dataset.uri')).toMatch(/expected a file URL/);
    expect(issueFor(ds({ uri: 'builtin:spam-assassin', format: 'csv' }), 'dataset.format')).toMatch(/builtin datasets have a fixed format/);
    expect(issueFor(ds({ uri: 'a.csv', format: 'parquet' }), 'dataset.format')).toBe('expected one of csv, tsv, jsonl, got "parquet"');
    expect(issueFor(ds({ uri: '' }), 'dataset.uri')).toBe('must not be empty');
  });
  test('splits, fields and other keys', () => {
    expect(issueFor(ds({ validation_split: 1 }), 'dataset.validation_split')).toBe('expected a number < 1, got 1');
    expect(issueFor(ds({ validation_split: 0.6, test_split: 0.4 }), 'dataset.test_split')).toMatch(/validation_split \+ test_split must be < 1/);
    expect(issueFor(ds({ text_field: 'x', label_field: 'x' }), 'dataset.label_field')).toMatch(/must differ from text_field/);
    expect(issueFor(ds({ text_field: 1, label_field: 1 }), 'dataset.label_field')).toMatch(/must differ from text_field/);
    expect(issueFor(ds({ text_field: -1 }), 'dataset.text_field')).toBeDefined();
    expect(issueFor(ds({ header: 'yes' }), 'dataset.header')).toMatch(/boolean|true|false/);
    expect(issueFor(ds({ max_rows: 0 }), 'dataset.max_rows')).toBe('expected a number > 0, got 0');
    expect(issueFor(ds({ path: 'a.csv' }), 'dataset.path')).toMatch(/^unknown key "path"; allowed: uri, /);
    expect(issueFor(ds('a.csv'), 'dataset')).toBe('expected a mapping, got "a.csv"');
  });
});
