import { describe, expect, test } from 'vitest';
import { DEFAULT_MAX_SPEC_BYTES, SpecError, parseSpec } from '../src/index.js';
import { fixture, parseError } from './helpers.js';

describe('parseSpec: valid W&B-style files', () => {
  test('grid fixture resolves with defaults and keeps parameter order', () => {
    const spec = parseSpec(fixture('grid.yaml'));
    expect(spec).toEqual({
      name: 'lstm-grid',
      description: 'Embedding -> LSTM -> Dense on spam-assassin',
      method: 'grid',
      metric: { name: 'val_accuracy', goal: 'maximize' },
      run_cap: 10,
      seed: 0,
      parameters: {
        lstm_units: { kind: 'categorical', values: [32, 64, 128] },
        optimizer: { kind: 'categorical', values: ['adam', 'rmsprop'] },
        dropout: { kind: 'categorical', values: [0, 0.2] },
        epochs: { kind: 'constant', value: 2 },
      },
      dataset: { uri: 'builtin:spam-assassin', text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 42 },
      ignored: { program: 'train.py' },
    });
    expect(Object.keys(spec.parameters)).toEqual(['lstm_units', 'optimizer', 'dropout', 'epochs']);
  });

  test('random fixture: every distribution normalised, goal inferred, format inferred, early_terminate stored', () => {
    const spec = parseSpec(fixture('random.yaml'));
    expect(spec.method).toBe('random');
    expect(spec.metric).toEqual({ name: 'val_loss', goal: 'minimize' });
    expect(spec.seed).toBe(7);
    expect(spec.trial_timeout).toBe(1800);
    expect(spec.early_terminate).toEqual({ type: 'hyperband', min_iter: 2 });
    expect(spec.parameters).toEqual({
      learning_rate: { kind: 'log_uniform_values', min: 0.0001, max: 0.1 },
      embedding_dim: { kind: 'q_log_uniform_values', min: 16, max: 256, q: 8 },
      lstm_units: { kind: 'int_uniform', min: 16, max: 128 },
      batch_size: { kind: 'q_uniform', min: 16, max: 128, q: 16 },
      dropout: { kind: 'uniform', min: 0, max: 0.5 },
      recurrent_dropout: { kind: 'categorical', values: [0, 0.1, 0.3], probabilities: [0.5, 0.3, 0.2] },
      optimizer: { kind: 'categorical', values: ['adam', 'sgd', 'rmsprop', 'adagrad'] },
      max_len: { kind: 'constant', value: 120 },
      max_words: { kind: 'int_uniform', min: 2000, max: 20000 },
      epochs: { kind: 'constant', value: 3 },
    });
    expect(spec.dataset).toEqual({
      uri: 's3://sweeps-data/imdb/train.jsonl',
      format: 'jsonl',
      text_field: 'review',
      label_field: 'sentiment',
      validation_split: 0.2,
      test_split: 0.1,
      seed: 42,
      max_rows: 5000,
    });
  });

  test('JSON text is accepted', () => {
    const spec = parseSpec(JSON.stringify({ method: 'grid', parameters: { batch_size: { values: [16, 32] } } }, null, '\t'));
    expect(spec.parameters).toEqual({ batch_size: { kind: 'categorical', values: [16, 32] } });
    expect(spec.metric).toEqual({ name: 'val_accuracy', goal: 'maximize' });
  });

  test('a byte-order mark and CRLF line endings (files saved on Windows) are fine', () => {
    expect(parseSpec('\uFEFFmethod: grid\r\nparameters:\r\n  epochs: {values: [1, 2]}\r\n').parameters).toEqual({ epochs: { kind: 'categorical', values: [1, 2] } });
  });

  test('metric goal is inferred from the name when omitted', () => {
    expect(parseSpec('method: grid\nparameters: {}\nmetric: {name: accuracy}').metric.goal).toBe('maximize');
    expect(parseSpec('method: grid\nparameters: {}\nmetric: {name: loss}').metric.goal).toBe('minimize');
    expect(parseSpec('method: grid\nparameters: {}\nmetric: {name: val_loss, goal: maximize}').metric.goal).toBe('maximize');
  });

  test('a few aliases are fine; the document may start with --- and end with ...', () => {
    const spec = parseSpec('---\nmethod: grid\nparameters:\n  batch_size: &s {values: [16, 32]}\n  lstm_units: *s\n...\n');
    expect(spec.parameters).toEqual({
      batch_size: { kind: 'categorical', values: [16, 32] },
      lstm_units: { kind: 'categorical', values: [16, 32] },
    });
  });
});

describe('parseSpec: hostile or malformed text', () => {
  test('YAML syntax errors carry line and column', () => {
    const error = parseError('method: grid\nparameters:\n  batch_size: {values: [16, 32}\n');
    expect(error.code).toBe('SPEC_INVALID');
    expect(error.issues.length).toBeGreaterThanOrEqual(1);
    for (const issue of error.issues) expect(issue.message).toMatch(/^YAML syntax error at line 3, column \d+: /);
  });

  test('duplicate keys are a syntax error with their line', () => {
    expect(parseError('method: grid\nparameters: {}\nmethod: random\n').message).toMatch(/line 3, column 1: Map keys must be unique/);
  });

  test('source prefixes every line of the message', () => {
    const error = parseError('method: grid\nparameters: {lr: {value: 1}, epochs: {value: 0}}', { source: 'spec.yaml' });
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.startsWith('spec.yaml: parameters.')).toBe(true);
    expect(error.source).toBe('spec.yaml');
  });

  test('text over maxBytes is rejected before parsing, counting UTF-8 bytes', () => {
    expect(parseError('a'.repeat(DEFAULT_MAX_SPEC_BYTES + 1)).message).toMatch(/more than the 1048576 allowed/);
    expect(parseError(`description: "${'é'.repeat(60)}"`, { maxBytes: 100 }).message).toMatch(/is 13\d bytes, more than the 100 allowed/);
  });

  test('alias bombs (billion laughs) are refused', () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'method: grid',
      'parameters: {}',
    ].join('\n');
    expect(parseError(bomb).message).toMatch(/too many YAML aliases/);
  });

  test('several documents are refused', () => {
    expect(parseError('method: grid\nparameters: {}\n---\nmethod: random\n').message).toMatch(/found 2 YAML documents/);
  });

  test('non-mapping and empty documents are refused', () => {
    expect(parseError('- method: grid\n').message).toMatch(/expected a mapping at the top level .* got a list/);
    expect(parseError('grid').message).toMatch(/got a single value/);
    expect(parseError('').message).toMatch(/the spec is empty/);
    expect(parseError('# only a comment\n').message).toMatch(/the spec is empty/);
    expect(parseError('~').message).toMatch(/the spec is empty/);
  });

  test('unknown tags are refused rather than silently read as strings', () => {
    expect(parseError('method: !!python/name:os.system grid\nparameters: {}').message).toMatch(/YAML syntax error.*tag/i);
  });

  test('YAML merge keys are not special (YAML 1.2 core) and end up as an unknown key', () => {
    expect(parseError('x: &x {method: grid}\n<<: *x\nparameters: {}').issues.map((i) => i.path)).toContain('<<');
  });

  test('every error is a SpecError with issues', () => {
    const error = parseError('method: [');
    expect(error).toBeInstanceOf(SpecError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SpecError');
  });
});
