import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseSpec, specHash, specNotices, specToConfig, validateSpec } from '../src/index.js';
import { base, issueFor, validateError } from './helpers.js';

const TWO = [{ name: 'val_accuracy', goal: 'maximize' }, { name: 'model_bytes', goal: 'minimize' }];
const multi = (extra: Record<string, unknown> = {}): Record<string, unknown> => base({ method: 'random', run_cap: 4, metric: TWO, ...extra });

describe('metric: as a list (several objectives)', () => {
  test('resolves to objectives in the order written, metric the first, goals defaulted as for one metric', () => {
    const spec = parseSpec('method: grid\nparameters: {}\nmetric:\n  - {name: val_loss}\n  - {name: latency_ms}\n  - {name: accuracy, goal: maximize}\n');
    expect(spec.objectives).toEqual([
      { name: 'val_loss', goal: 'minimize' },
      { name: 'latency_ms', goal: 'minimize' },
      { name: 'accuracy', goal: 'maximize' },
    ]);
    expect(spec.metric).toEqual({ name: 'val_loss', goal: 'minimize' });
    expect(spec).not.toHaveProperty('best');
    // The resolved spec shares nothing between metric and objectives.
    expect(spec.metric).not.toBe(spec.objectives?.[0]);
  });

  test('a single metric resolves exactly as before: no objectives or best key, and the same hash', () => {
    const spec = validateSpec(base({ metric: { name: 'val_loss' } }));
    expect(Object.keys(spec)).not.toContain('objectives');
    expect(Object.keys(spec)).not.toContain('best');
    // Pinned in hash.test.ts too: a spec without metric: hashes as on the commit before objectives existed.
    expect(specHash(validateSpec({ method: 'grid', parameters: { epochs: { values: [1, 2] } } }))).toBe('78db640ba4cc573dbf1da20b6589a19f1e86f7746c633894159cce50ca985a4a');
    // Objectives are part of what a sweep is: adding one changes the hash.
    const first = validateSpec(base({ metric: TWO[0] }));
    expect(specHash(validateSpec(base({ metric: TWO })))).not.toBe(specHash(first));
  });

  test('2 to 4 objectives, each a different metric', () => {
    expect(issueFor(base({ metric: [TWO[0]] }), 'metric')).toBe(
      'a list of metrics holds 2 to 4 objectives such as [{name: val_accuracy, goal: maximize}, {name: model_bytes, goal: minimize}], got 1; for one metric write a mapping, metric: {name: val_accuracy, goal: maximize}',
    );
    expect(issueFor(base({ metric: [] }), 'metric')).toMatch(/holds 2 to 4 objectives .* got 0$/);
    const five = ['val_accuracy', 'val_loss', 'model_bytes', 'param_count', 'latency_ms'].map((name) => ({ name }));
    expect(issueFor(base({ metric: five }), 'metric')).toMatch(/holds 2 to 4 objectives .* got 5$/);
    expect(issueFor(base({ metric: [{ name: 'model_bytes' }, { name: 'model_bytes', goal: 'minimize' }] }), 'metric[1].name')).toBe(
      'model_bytes is already objective 0; each objective must be a different metric',
    );
  });

  test('each entry is {name, goal}: target, other keys, bad names and goals are named', () => {
    expect(issueFor(base({ metric: [{ name: 'val_accuracy', target: 0.9 }, TWO[1]] }), 'metric[0].target')).toBe(
      'not allowed in the list form: with several objectives no single value ends the sweep; remove target, or write metric: as one mapping {name, goal, target}',
    );
    expect(issueFor(base({ metric: [TWO[0], { name: 'model_bytes', impute: 'worst' }] }), 'metric[1].impute')).toBe('unknown key "impute"; allowed: name, goal.');
    expect(issueFor(base({ metric: [TWO[0], { name: 'latency' }] }), 'metric[1].name')).toBe(
      'got "latency": expected one of val_accuracy, val_loss, accuracy, loss, model_bytes, param_count, latency_ms. Did you mean latency_ms?',
    );
    expect(issueFor(base({ metric: [TWO[0], { goal: 'minimize' }] }), 'metric[1].name')).toMatch(/^required: expected one of val_accuracy/);
    expect(issueFor(base({ metric: [TWO[0], { name: 'latency_ms', goal: 'lower' }] }), 'metric[1].goal')).toBe('expected one of maximize, minimize, got "lower"');
    expect(issueFor(base({ metric: [TWO[0], 'model_bytes'] }), 'metric[1]')).toBe('expected a mapping {name, goal} such as {name: model_bytes, goal: minimize}, got "model_bytes"');
    expect(issueFor(base({ metric: 'val_accuracy' }), 'metric')).toMatch(/or a list of 2-4 of them for several objectives, got "val_accuracy"$/);
  });

  test("W&B's top-level metrics: says to write metric: as a list", () => {
    expect(issueFor(base({ metrics: TWO }), 'metrics')).toBe(
      "W&B's multi-objective metrics (with method: custom) is not read: write the objectives as a list under metric:, e.g. metric: [{name: val_accuracy, goal: maximize}, {name: model_bytes, goal: minimize}]",
    );
  });

  test('grid, random and bayes all take several objectives', () => {
    for (const method of ['grid', 'random', 'bayes']) expect(validateSpec(multi({ method })).objectives).toHaveLength(2);
  });
});

describe('best: (which front trial best/ holds)', () => {
  test('pick and within, names among the objectives, kept as written', () => {
    const rule = { pick: 'model_bytes', within: { val_accuracy: 0.005 } };
    expect(validateSpec(multi({ best: rule })).best).toEqual(rule);
    expect(validateSpec(multi({ best: { pick: 'val_accuracy' } })).best).toEqual({ pick: 'val_accuracy' });
    expect(validateSpec(multi({ best: { pick: 'model_bytes', within: { val_accuracy: 0 } } })).best?.within).toEqual({ val_accuracy: 0 });
  });

  test('only with several objectives', () => {
    expect(issueFor(base({ best: { pick: 'val_accuracy' } }), 'best')).toBe(
      'chooses among the Pareto front of several objectives, but this spec has one metric (best/ holds its best trial); remove best, or write metric: as a list such as [{name: val_accuracy, goal: maximize}, {name: model_bytes, goal: minimize}]',
    );
  });

  test('every mistake is named with what would be right', () => {
    expect(issueFor(multi({ best: { pick: 'latency_ms' } }), 'best.pick')).toBe('latency_ms is not an objective of this sweep: expected one of the objectives val_accuracy, model_bytes');
    expect(issueFor(multi({ best: { pick: 'model_byte' } }), 'best.pick')).toBe('got "model_byte": expected one of the objectives val_accuracy, model_bytes. Did you mean model_bytes?');
    expect(issueFor(multi({ best: {} }), 'best.pick')).toBe('required: expected one of the objectives val_accuracy, model_bytes');
    expect(issueFor(multi({ best: 'smallest' }), 'best')).toBe('expected a mapping such as {pick: model_bytes, within: {val_accuracy: 0.005}}, got "smallest"');
    expect(issueFor(multi({ best: { pick: 'model_bytes', within: { val_accuracy: -0.01 } } }), 'best.within.val_accuracy')).toBe(
      "expected a number >= 0 (how far from the front's best val_accuracy a trial may be), got -0.01",
    );
    expect(issueFor(multi({ best: { pick: 'model_bytes', within: { val_loss: 0.1 } } }), 'best.within.val_loss')).toMatch(/^val_loss is not an objective of this sweep/);
    expect(issueFor(multi({ best: { pick: 'model_bytes', within: 0.005 } }), 'best.within')).toMatch(/^expected a mapping of objectives to how far/);
    expect(issueFor(multi({ best: { pick: 'model_bytes', smallest: true } }), 'best.smallest')).toBe('unknown key "smallest"; allowed: pick, within.');
  });
});

describe('early_terminate with several objectives or a cost metric', () => {
  const hyperband = { type: 'hyperband', min_iter: 1 };

  test('refused with several objectives, saying why and what to do', () => {
    expect(issueFor(multi({ parameters: { epochs: { value: 9 } }, early_terminate: hyperband }), 'early_terminate')).toBe(
      'not available with several objectives: a rung ranks trials by val_accuracy alone, so it would stop a trial on the Pareto front (a small or fast model that is less accurate at the rung); remove early_terminate (keep epochs small instead), or optimise one metric',
    );
  });

  test('refused for a single cost metric (measured after training); a training metric keeps it', () => {
    expect(issueFor(base({ metric: { name: 'latency_ms' }, early_terminate: { type: 'median' } }), 'early_terminate')).toMatch(/^latency_ms is measured once a trial's training ends/);
    expect(validateSpec(base({ metric: { name: 'val_loss' }, early_terminate: hyperband })).early_terminate).toEqual(hyperband);
    // A cost as the single metric is fine without early termination (every trial records its costs).
    expect(validateSpec(base({ metric: { name: 'param_count' } })).metric).toEqual({ name: 'param_count', goal: 'minimize' });
  });

  test('all issues of a spec are reported together', () => {
    const error = validateError(multi({ early_terminate: hyperband, best: { pick: 'loss' } }));
    expect(error.issues.map((i) => i.path).sort()).toEqual(['best.pick', 'early_terminate']);
  });
});

describe('the W&B-dialect paths show the objectives', () => {
  test('specToConfig writes metric: as the list again, and round-trips', () => {
    const spec = validateSpec(multi({ best: { pick: 'model_bytes', within: { val_accuracy: 0.005 } } }));
    const config = specToConfig(spec);
    expect(config['metric']).toEqual(TWO);
    expect(config).not.toHaveProperty('objectives');
    expect(config['best']).toEqual({ pick: 'model_bytes', within: { val_accuracy: 0.005 } });
    expect(validateSpec(config)).toEqual(spec);
    expect(specHash(validateSpec(config))).toBe(specHash(spec));
  });

  test('specNotices names the objectives and what best/ will hold', () => {
    expect(specNotices(validateSpec(multi()))).toEqual([
      '2 objectives: val_accuracy (maximize), model_bytes (minimize); the sweep searches for their Pareto front (the trials no other trial beats on every objective) and best/ holds every trial of the front',
    ]);
    expect(specNotices(validateSpec(multi({ best: { pick: 'model_bytes', within: { val_accuracy: 0.005 } } })))[0]).toBe(
      "2 objectives: val_accuracy (maximize), model_bytes (minimize); the sweep searches for their Pareto front (the trials no other trial beats on every objective) and best/ holds the front trial with the lowest model_bytes within 0.005 of the front's best val_accuracy",
    );
    expect(specNotices(validateSpec(multi({ best: { pick: 'val_accuracy' } })))[0]).toMatch(/best\/ holds the front trial with the highest val_accuracy$/);
  });
});

describe('the example specs', () => {
  const dir = new URL('../../../examples/', import.meta.url);
  test.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('%s is valid', (file) => {
    const spec = parseSpec(readFileSync(new URL(file, dir), 'utf8'), { source: file });
    expect(spec.method).toMatch(/^(grid|random|bayes)$/);
    if (file === 'multi-objective-sweep.yaml') {
      expect(spec.objectives?.map((o) => o.name)).toEqual(['val_accuracy', 'model_bytes']);
      expect(spec.best).toEqual({ pick: 'model_bytes', within: { val_accuracy: 0.005 } });
    }
  });
});
