import { describe, expect, test } from 'vitest';
import { validateSpec } from '@sweepq/sweep-config';
import type { SweepSpec } from '@sweepq/sweep-config';
import { ashaRule, describeRungOutcome, medianRule, rungEpochs, rungStep } from '../src/index.js';

function hyperband(extra: Record<string, unknown> = {}, metric = 'val_accuracy', epochs = 9): SweepSpec {
  return validateSpec({ method: 'random', run_cap: 10, metric: { name: metric }, parameters: { epochs: { value: epochs } }, early_terminate: { type: 'hyperband', min_iter: 1, eta: 3, ...extra } });
}

describe('rungEpochs', () => {
  test('hyperband min_iter * eta^k below the last epoch; max_iter / eta^k for k = s..1; median every epoch from min_iter', () => {
    expect(rungEpochs(hyperband())).toEqual([1, 3]);
    expect(rungEpochs(hyperband({}, 'val_accuracy', 10))).toEqual([1, 3, 9]);
    expect(rungEpochs(hyperband({ min_iter: 2, eta: 2 }, 'val_accuracy', 20))).toEqual([2, 4, 8, 16]);
    expect(rungEpochs(validateSpec({ method: 'grid', parameters: { epochs: { values: [10, 30] } }, early_terminate: { type: 'hyperband', max_iter: 27, s: 2 } }))).toEqual([3, 9]);
    expect(rungEpochs(validateSpec({ method: 'grid', parameters: { epochs: { value: 5 } }, early_terminate: { type: 'median', min_iter: 2 } }))).toEqual([2, 3, 4]);
    expect(rungEpochs(validateSpec({ method: 'grid', parameters: {} }))).toEqual([]);
  });
});

describe('ashaRule and medianRule', () => {
  test('the first eta - 1 trials at a rung continue; then the top floor(n / eta)', () => {
    expect(ashaRule([0.5], 0.5, 3, true).continue).toBe(true);
    expect(ashaRule([0.5, 0.4], 0.4, 3, true).continue).toBe(true);
    expect(ashaRule([0.5, 0.4, 0.45], 0.45, 3, true)).toEqual({ continue: false, rank: 2, n: 3, keep: 1, threshold: 0.5 });
    expect(ashaRule([0.5, 0.4, 0.45, 0.6], 0.6, 3, true)).toEqual({ continue: true, rank: 1, n: 4, keep: 1, threshold: 0.6 });
    expect(ashaRule([0.5, 0.4, 0.45, 0.6, 0.55, 0.52], 0.55, 3, true)).toMatchObject({ continue: true, rank: 2, keep: 2 });
    // minimize: lower is better
    expect(ashaRule([0.5, 0.4, 0.45], 0.4, 3, false)).toMatchObject({ continue: true, rank: 1 });
  });
  test('ties share the better rank, so equal values get equal decisions whatever the order', () => {
    expect(ashaRule([0.5, 0.5, 0.5], 0.5, 3, true)).toMatchObject({ continue: true, rank: 1, keep: 1 });
    expect(ashaRule([0.6, 0.5, 0.5, 0.5, 0.5, 0.5], 0.5, 3, true)).toMatchObject({ continue: true, rank: 2, keep: 2 });
    expect(ashaRule([0.6, 0.7, 0.5, 0.5, 0.5, 0.5], 0.5, 3, true)).toMatchObject({ continue: false, rank: 3, keep: 2 });
  });
  test('median: continue during warm-up and on ties, stop when strictly worse', () => {
    expect(medianRule([0.9, 0.8], 0.1, 3, true)).toMatchObject({ continue: true, threshold: null });
    expect(medianRule([0.9, 0.8, 0.7], 0.8, 3, true)).toMatchObject({ continue: true, threshold: 0.8 });
    expect(medianRule([0.9, 0.8, 0.7, 0.6], 0.7, 3, true)).toMatchObject({ continue: false, threshold: 0.75 });
    expect(medianRule([0.9, 0.8, 0.7, 0.6], 0.7, 3, false)).toMatchObject({ continue: true });
  });
});

describe('rungStep', () => {
  test('hyperband strict: decide at rungs only; strict: false also records every epoch up to the last rung', () => {
    const strict = hyperband({ min_iter: 3 }, 'val_loss');
    expect(rungStep(strict, 3)).toEqual({ mode: 'asha', eta: 3, warmup: 0, maximize: false });
    expect(rungStep(strict, 2)).toBeNull();
    const lenient = hyperband({ min_iter: 3, strict: false });
    expect([1, 2, 3, 4].map((e) => rungStep(lenient, e)?.mode ?? null)).toEqual(['record', 'record', 'asha_best', null]);
  });
  test('median: records before min_iter, decides from it, nothing at the last epoch; none without early_terminate', () => {
    const spec = validateSpec({ method: 'random', run_cap: 10, parameters: { epochs: { value: 5 } }, early_terminate: { type: 'median', min_iter: 2 } });
    expect([1, 2, 4, 5].map((e) => rungStep(spec, e)?.mode ?? null)).toEqual(['record', 'median', 'median', null]);
    expect(rungStep(spec, 2)).toEqual({ mode: 'median', eta: 0, warmup: 5, maximize: true });
    expect(rungStep(validateSpec({ method: 'grid', parameters: {} }), 1)).toBeNull();
  });
  test('describeRungOutcome names the metric, the rank or the median, and the cutoff', () => {
    const spec = hyperband({}, 'val_loss');
    const step = rungStep(spec, 3);
    if (step === null) throw new Error('epoch 3 is a rung');
    expect(describeRungOutcome(spec, step, 3, ashaRule([0.5, 0.6, 0.4, 0.45], 0.45, 3, false), 0.45)).toBe(
      'val_loss 0.4500 ranks 2 of 4 at the epoch-3 rung; the top 1 (1/3) continue, cutoff 0.4000',
    );
    const median = { mode: 'median', eta: 0, warmup: 2, maximize: true } as const;
    expect(describeRungOutcome(hyperband(), median, 2, medianRule([0.9, 0.75], 0.6, 2, true), 0.6)).toBe(
      'best val_accuracy so far 0.6000 at epoch 2 is worse than the median 0.8250 of 2 other trial(s)',
    );
  });
});
