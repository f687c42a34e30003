import { describe, expect, test } from 'vitest';
import { canonicalJson, parseSpec, specHash, specToConfig, validateSpec } from '../src/index.js';
import { fixture } from './helpers.js';

describe('specHash', () => {
  test('is 64 hex characters and stable across calls and re-parses', () => {
    const a = specHash(parseSpec(fixture('random.yaml')));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(specHash(parseSpec(fixture('random.yaml')))).toBe(a);
  });

  test('a pinned value: the canonical form must not drift between versions', () => {
    const spec = validateSpec({ method: 'grid', parameters: { epochs: { values: [1, 2] } } });
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
    expect(specHash(spec)).toBe('78db640ba4cc573dbf1da20b6589a19f1e86f7746c633894159cce50ca985a4a');
  });

  test('ignores formatting, key order (outside grid order) and defaults spelled out', () => {
    const a = parseSpec('method: random\nrun_cap: 5\nparameters:\n  epochs: {values: [1, 2]}\n  dropout: {min: 0, max: 0.5}\n');
    const b = parseSpec('{"parameters": {"dropout": {"max": 0.5, "min": 0.0, "distribution": "uniform"}, "epochs": {"values": [1, 2]}, "max_len": {"value": 100}}, "seed": 0, "run_cap": 5, "method": "random", "metric": {"name": "val_accuracy"}, "dataset": {"uri": "builtin:spam-assassin"}}');
    expect(specHash(b)).toBe(specHash(a));
  });

  test('changes with anything that changes the trials or the data', () => {
    const text = 'method: grid\nparameters:\n  epochs: {values: [1, 2]}\n  batch_size: {values: [16, 32]}\n';
    const h = specHash(parseSpec(text));
    expect(specHash(parseSpec(`${text}seed: 1\n`))).not.toBe(h);
    expect(specHash(parseSpec(`${text}run_cap: 3\n`))).not.toBe(h);
    expect(specHash(parseSpec(text.replace('[16, 32]', '[16, 64]')))).not.toBe(h);
    expect(specHash(parseSpec(`${text}dataset: {uri: a.csv}\n`))).not.toBe(h);
    // Grid order decides which trial gets which index (see plan.test.ts in @sweepq/search), so it is part of the hash.
    const swapped = 'method: grid\nparameters:\n  batch_size: {values: [16, 32]}\n  epochs: {values: [1, 2]}\n';
    expect(specHash(parseSpec(swapped))).not.toBe(h);
  });
});

describe('specToConfig', () => {
  test('round-trips both fixtures through validateSpec', () => {
    for (const name of ['grid.yaml', 'random.yaml']) {
      const spec = parseSpec(fixture(name));
      const again = validateSpec(specToConfig(spec));
      expect(again).toEqual(spec);
      expect(Object.keys(again.parameters)).toEqual(Object.keys(spec.parameters));
      expect(specHash(again)).toBe(specHash(spec));
    }
  });

  test('writes W&B distribution names', () => {
    const config = specToConfig(parseSpec(fixture('random.yaml')));
    expect((config['parameters'] as Record<string, unknown>)['learning_rate']).toEqual({ distribution: 'log_uniform_values', min: 0.0001, max: 0.1 });
    expect((config['parameters'] as Record<string, unknown>)['epochs']).toEqual({ value: 3 });
  });
});
