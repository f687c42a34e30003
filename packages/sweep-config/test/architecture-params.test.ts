import { describe, expect, expectTypeOf, test } from 'vitest';
import {
  DEFAULT_PARAMS,
  MODEL_FIELDS,
  PARAMETERS,
  PARAMETER_NAMES,
  PARAMETER_RULES,
  activeParameters,
  gridSize,
  outsideSpace,
  paramsKey,
  parseSpec,
  specHash,
  specToConfig,
  validateSpec,
  withDefaultParams,
  type TrialParams,
} from '../src/index.js';
import { base, issueFor, parseError } from './helpers.js';

// lstm_layers, bidirectional, cell and mask_zero: the architecture parameters (sweepq issue 17).
const param = (name: string, body: unknown) => base({ parameters: { [name]: body } });

describe('architecture parameters: rules and defaults', () => {
  test('defaults keep the single-layer, unidirectional, unmasked LSTM', () => {
    expect({ lstm_layers: DEFAULT_PARAMS.lstm_layers, bidirectional: DEFAULT_PARAMS.bidirectional, cell: DEFAULT_PARAMS.cell, mask_zero: DEFAULT_PARAMS.mask_zero }).toEqual({
      lstm_layers: 1,
      bidirectional: false,
      cell: 'lstm',
      mask_zero: false,
    });
    expect(PARAMETER_RULES.bidirectional).toEqual({ type: 'bool' });
    expect(PARAMETER_RULES.cell).toEqual({ type: 'enum', values: ['lstm', 'gru'] });
    expect(PARAMETER_RULES.lstm_layers).toEqual({ type: 'int', min: 1, max: 4 });
  });

  test('TrialParams is typed per rule', () => {
    expectTypeOf<TrialParams['bidirectional']>().toEqualTypeOf<boolean>();
    expectTypeOf<TrialParams['mask_zero']>().toEqualTypeOf<boolean>();
    expectTypeOf<TrialParams['cell']>().toEqualTypeOf<'lstm' | 'gru'>();
    expectTypeOf<TrialParams['optimizer']>().toEqualTypeOf<'adam' | 'sgd' | 'rmsprop' | 'adagrad'>();
    expectTypeOf<TrialParams['lstm_layers']>().toEqualTypeOf<number>();
  });

  test('MODEL_FIELDS lists exactly the rows that name a model field', () => {
    const named = PARAMETER_NAMES.filter((n) => 'model' in PARAMETERS[n]);
    expect(Object.keys(MODEL_FIELDS)).toEqual(named);
    expect(MODEL_FIELDS).toMatchObject({ lstm_layers: 'lstmLayers', bidirectional: 'bidirectional', cell: 'cell', mask_zero: 'maskZero', lstm_units: 'lstmUnits' });
    expect(named).not.toContain('batch_size');
    expect(named).not.toContain('epochs');
  });
});

describe('architecture parameters: validation', () => {
  test('booleans take value and values (W&B categorical), and nothing else', () => {
    expect(validateSpec(param('bidirectional', { value: true })).parameters['bidirectional']).toEqual({ kind: 'constant', value: true });
    expect(validateSpec(param('mask_zero', { values: [true, false] })).parameters['mask_zero']).toEqual({ kind: 'categorical', values: [true, false] });
    expect(validateSpec(param('mask_zero', { distribution: 'categorical', values: [false, true], probabilities: [0.25, 0.75] })).parameters['mask_zero']).toEqual({
      kind: 'categorical',
      values: [false, true],
      probabilities: [0.25, 0.75],
    });
    expect(parseSpec('method: grid\nparameters:\n  bidirectional: {values: [true, false]}\n').parameters['bidirectional']).toEqual({ kind: 'categorical', values: [true, false] });
  });

  test('a bad boolean names the parameter and says true or false', () => {
    expect(issueFor(param('bidirectional', { value: 'yes' }), 'parameters.bidirectional.value')).toBe(
      'expected true or false, got "yes" (bidirectional is a boolean parameter: write true or false without quotes)',
    );
    expect(issueFor(param('mask_zero', { values: [true, 1] }), 'parameters.mask_zero.values[1]')).toBe('expected true or false, got 1');
    expect(issueFor(param('mask_zero', { values: [true, true] }), 'parameters.mask_zero.values[1]')).toBe('duplicate of values[0] (true)');
    expect(issueFor(param('bidirectional', { min: 0, max: 1 }), 'parameters.bidirectional')).toBe('bidirectional is categorical (true or false); use values: [...] or value: x, not uniform');
    expect(issueFor(param('bidirectional', { distribution: 'uniform', min: 0, max: 1 }), 'parameters.bidirectional.distribution')).toMatch(/^bidirectional is categorical \(true or false\)/);
    // YAML 1.2 reads `yes` as a string, not a boolean.
    expect(parseError('method: grid\nparameters:\n  mask_zero: {value: yes}\n').message).toMatch(/parameters\.mask_zero\.value: expected true or false, got "yes"/);
  });

  test('cell is an enum of lstm and gru; lstm_layers an integer in [1, 4]', () => {
    expect(validateSpec(param('cell', { values: ['lstm', 'gru'] })).parameters['cell']).toEqual({ kind: 'categorical', values: ['lstm', 'gru'] });
    expect(issueFor(param('cell', { value: 'rnn' }), 'parameters.cell.value')).toBe('expected one of lstm, gru, got "rnn"');
    expect(validateSpec(param('lstm_layers', { min: 1, max: 3 })).parameters['lstm_layers']).toEqual({ kind: 'int_uniform', min: 1, max: 3 });
    expect(issueFor(param('lstm_layers', { value: 5 }), 'parameters.lstm_layers.value')).toBe('expected an integer in [1, 4], got 5');
    expect(issueFor(param('lstm_layers', { min: 1, max: 8 }), 'parameters.lstm_layers.max')).toBe('int_uniform can produce 8, but lstm_layers must be an integer in [1, 4]');
    expect(issueFor(param('num_layers', { value: 2 }), 'parameters.num_layers')).toMatch(/Did you mean lstm_layers\?$/);
    expect(issueFor(param('rnn_type', { value: 'gru' }), 'parameters.rnn_type')).toMatch(/Did you mean cell\?$/);
  });

  test('conditions compare booleans and the cell by value, and refuse ranges on them', () => {
    const spec = validateSpec({
      method: 'grid',
      parameters: {
        cell: { values: ['lstm', 'gru'] },
        bidirectional: { values: [false, true] },
        lstm_units: { values: [8, 16], condition: { bidirectional: { value: true }, cell: { values: ['gru'] } } },
      },
    });
    expect(spec.parameters['lstm_units']?.condition).toEqual({ bidirectional: { values: [true] }, cell: { values: ['gru'] } });
    const at = (cell: 'lstm' | 'gru', bidirectional: boolean) => activeParameters(spec, { ...DEFAULT_PARAMS, cell, bidirectional }).has('lstm_units');
    expect([at('gru', true), at('gru', false), at('lstm', true)]).toEqual([true, false, false]);
    // 3 combinations without lstm_units, and gru+bidirectional twice.
    expect(gridSize(spec.parameters)).toBe(5);
    const bad = { method: 'grid', parameters: { bidirectional: { values: [false, true] }, lstm_units: { value: 8, condition: { bidirectional: { min: 1 } } } } };
    expect(issueFor(bad, 'parameters.lstm_units.condition.bidirectional')).toBe('bidirectional is categorical (one of false, true); use values: [...] instead of min/max');
    const never = { method: 'grid', parameters: { mask_zero: { value: false }, lstm_units: { value: 8, condition: { mask_zero: { value: true } } } } };
    expect(issueFor(never, 'parameters.lstm_units.condition.mask_zero.value')).toBe('true is not a value mask_zero can take (always false), so this condition could never hold for it');
  });

  test('specToConfig round-trips booleans and the cell', () => {
    const spec = validateSpec({ method: 'grid', parameters: { bidirectional: { values: [true, false] }, cell: { value: 'gru' }, mask_zero: { value: true } } });
    expect(validateSpec(specToConfig(spec))).toEqual(spec);
  });
});

describe('records written before the architecture parameters existed', () => {
  const { lstm_layers: _l, bidirectional: _b, cell: _c, mask_zero: _m, ...old } = DEFAULT_PARAMS;

  test('withDefaultParams fills in what an older record lacks, keeps what it has', () => {
    expect(withDefaultParams(old)).toEqual(DEFAULT_PARAMS);
    expect(Object.keys(withDefaultParams({ ...old, lstm_units: 7, extra: 1 }))).toEqual(PARAMETER_NAMES);
    expect(withDefaultParams({ ...old, lstm_units: 7 }).lstm_units).toBe(7);
    expect(paramsKey(withDefaultParams(old))).toBe(paramsKey(DEFAULT_PARAMS));
    expect(outsideSpace(validateSpec(base()), withDefaultParams(old))).toBeUndefined();
  });

  test("specHash of a spec that leaves them out (or spells their defaults) is what it was; setting one changes it", () => {
    // The pinned hash in hash.test.ts was computed before these parameters existed.
    const text = 'method: grid\nparameters:\n  epochs: {values: [1, 2]}\n';
    const h = specHash(parseSpec(text));
    expect(specHash(parseSpec(`${text}  cell: {value: lstm}\n  bidirectional: {value: false}\n  mask_zero: {value: false}\n  lstm_layers: {value: 1}\n`))).toBe(h);
    expect(specHash(parseSpec(`${text}  cell: {value: gru}\n`))).not.toBe(h);
    expect(specHash(parseSpec(`${text}  mask_zero: {value: true}\n`))).not.toBe(h);
  });
});
