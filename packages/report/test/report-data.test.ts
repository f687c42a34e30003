import { describe, expect, it } from 'vitest';
import { metricValue } from '@sweepq/results';
import { dominates, paretoFront, type MetricSpec, type ParameterSpec, type SweepSpec } from '@sweepq/sweep-config';
import { buildReportData, describeParameters, isLogScaled, parseLearningCurve, roundSig } from '../src/index.js';
import { SPEC, metricsJsonl, sweepRecord, trialResult } from './fixtures.js';

describe('parseLearningCurve', () => {
  it('extracts per-epoch series in epoch order', () => {
    const c = parseLearningCurve(metricsJsonl(3, 0.8).split('\n').reverse().join('\n'));
    expect(c.epoch).toEqual([1, 2, 3]);
    expect(c.val_accuracy[2]).toBeCloseTo(0.8);
    expect(c.loss).toHaveLength(3);
    expect(c.accuracy).toHaveLength(3);
    expect(c.val_loss).toHaveLength(3);
  });

  it('skips blank and half-written lines, keeps the last copy of an epoch written again after a resume', () => {
    const text = [
      JSON.stringify({ epoch: 1, loss: 1, accuracy: 0.5, val_loss: 1, val_accuracy: 0.5 }),
      '',
      'not json',
      JSON.stringify({ epoch: 2, loss: 0.9, accuracy: 0.6, val_loss: 0.95, val_accuracy: 0.55 }),
      JSON.stringify({ epoch: 2, loss: 0.8, accuracy: 0.7, val_loss: 0.9, val_accuracy: 0.6 }),
      JSON.stringify({ epoch: 0, loss: 5 }),
      JSON.stringify([1, 2]),
      '{"epoch": 3, "loss": 0.7, "accur',
    ].join('\n');
    const c = parseLearningCurve(text);
    expect(c.epoch).toEqual([1, 2]);
    expect(c.loss).toEqual([1, 0.8]);
    expect(c.val_accuracy).toEqual([0.5, 0.6]);
  });

  it('turns missing or non-finite values into NaN gaps and accepts no metrics at all', () => {
    const c = parseLearningCurve('{"epoch":1,"loss":null,"accuracy":0.5}\n');
    expect(c.loss[0]).toBeNaN();
    expect(c.val_loss[0]).toBeNaN();
    expect(c.accuracy).toEqual([0.5]);
    expect(parseLearningCurve(undefined)).toEqual({ epoch: [], loss: [], accuracy: [], val_loss: [], val_accuracy: [] });
  });
});

describe('log-scaled axes from the spec', () => {
  const cases: [string, ParameterSpec | undefined, boolean][] = [
    ['log_uniform_values', { kind: 'log_uniform_values', min: 1e-4, max: 1e-1 }, true],
    ['q_log_uniform_values', { kind: 'q_log_uniform_values', min: 16, max: 1024, q: 16 }, true],
    ['log_normal', { kind: 'log_normal', mu: 0, sigma: 1 }, true],
    ['log_uniform (W&B exponents)', { kind: 'log_uniform', min: -9, max: -2 }, true],
    ['inv_log_uniform_values', { kind: 'inv_log_uniform_values', min: 1e-4, max: 1e-1 }, true],
    ['q_log_normal', { kind: 'q_log_normal', mu: -7, sigma: 1, q: 1e-4 }, true],
    ['beta', { kind: 'beta', a: 2, b: 2 }, false],
    ['uniform', { kind: 'uniform', min: 0.0001, max: 0.1 }, false],
    ['int_uniform', { kind: 'int_uniform', min: 1, max: 1000 }, false],
    ['normal', { kind: 'normal', mu: 0, sigma: 1 }, false],
    ['constant', { kind: 'constant', value: 0.001 }, false],
    ['values spanning two decades', { kind: 'categorical', values: [0.0001, 0.001, 0.01] }, true],
    ['values spanning less', { kind: 'categorical', values: [8, 16, 32, 64] }, false],
    ['values with zero', { kind: 'categorical', values: [0, 0.001, 0.1] }, false],
    ['strings', { kind: 'categorical', values: ['adam', 'sgd'] }, false],
    ['one value', { kind: 'categorical', values: [0.001] }, false],
    ['not in the spec', undefined, false],
  ];
  it.each(cases)('%s', (_name, spec, log) => {
    expect(isLogScaled(spec)).toBe(log);
  });

  it('describes each parameter: type, log axis, varying, categorical values', () => {
    const trials = [0, 1, 2, 3].map((i) => ({ params: trialResult(i, 0.7).params }));
    const ps = Object.fromEntries(describeParameters(SPEC, trials).map((p) => [p.name, p]));
    expect(ps.learning_rate).toMatchObject({ type: 'numeric', log: true, varying: true, distribution: 'log_uniform_values' });
    // A grid-style list of numbers is drawn as categories; sampled and log-scaled numbers on value/log axes.
    expect(ps.lstm_units).toMatchObject({ type: 'numeric', log: false, varying: true, values: [8, 16, 32] });
    expect(ps.learning_rate?.values).toBeUndefined();
    expect(ps.dropout?.values).toBeUndefined();
    expect(ps.optimizer).toMatchObject({ type: 'categorical', log: false, varying: true, values: ['adam', 'rmsprop'] });
    expect(ps.epochs).toMatchObject({ varying: false, distribution: 'constant' });
    expect(ps.max_words).toMatchObject({ varying: false });
    expect(ps.max_words?.distribution).toBeUndefined();
    // Without a spec nothing is log-scaled, but what varies still shows.
    const bare = Object.fromEntries(describeParameters(null, trials).map((p) => [p.name, p]));
    expect(bare.learning_rate).toMatchObject({ log: false, varying: true });
  });

  it('draws booleans and the cell as categories', () => {
    const spec: SweepSpec = { ...SPEC, parameters: { ...SPEC.parameters, bidirectional: { kind: 'categorical', values: [true, false] }, cell: { kind: 'categorical', values: ['lstm', 'gru'] } } };
    const trials = [0, 1, 2, 3].map((i) => ({ params: { ...trialResult(i, 0.7).params, bidirectional: i % 2 === 0, cell: i < 2 ? ('gru' as const) : ('lstm' as const) } }));
    const ps = Object.fromEntries(describeParameters(spec, trials).map((p) => [p.name, p]));
    expect(ps.bidirectional).toMatchObject({ type: 'categorical', log: false, varying: true, values: ['false', 'true'], distribution: 'categorical' });
    expect(ps.cell).toMatchObject({ type: 'categorical', log: false, varying: true, values: ['gru', 'lstm'] });
    expect(ps.mask_zero).toMatchObject({ type: 'categorical', varying: false });
  });
});

describe('buildReportData', () => {
  const results = [trialResult(0, 0.7), trialResult(1, null), trialResult(2, 0.9), trialResult(3, 0.7), trialResult(4, 0.8)];
  const metrics = new Map([
    ['t0000', metricsJsonl(3, 0.7)],
    ['t0002', metricsJsonl(3, 0.9)],
    ['t0003', metricsJsonl(3, 0.7)],
    ['t0004', metricsJsonl(3, 0.8)],
  ]);

  it('orders trials like the leaderboard, in the direction of the goal', () => {
    const d = buildReportData({ sweep: sweepRecord(), results, metrics });
    expect(d.trials.map((t) => [t.trialId, t.rank])).toEqual([
      ['t0002', 1],
      ['t0004', 2],
      ['t0000', 3],
      ['t0003', 4],
      ['t0001', null],
    ]);
    const min = buildReportData({ sweep: sweepRecord({ metric: { name: 'val_accuracy', goal: 'minimize' } }), results, metrics });
    expect(min.trials.slice(0, 4).map((t) => t.trialId)).toEqual(['t0000', 't0003', 't0004', 't0002']);
    expect(d.best).toMatchObject({ trialId: 't0002', metric: 0.9 });
    expect(d.best?.evaluation?.confusion).toEqual([
      [6, 1],
      [1, 2],
    ]);
    expect(d.trials[0]!.curve.epoch).toEqual([1, 2, 3]);
    expect(d.trials[0]!.curve.val_accuracy[2]).toBeCloseTo(0.9);
  });

  it('keeps a failed trial without metrics as a row with nulls and empty curves', () => {
    const d = buildReportData({ sweep: sweepRecord(), results, metrics });
    const failed = d.trials.find((t) => t.trialId === 't0001')!;
    expect(failed).toMatchObject({ state: 'failed', rank: null, metric: null, final: null, testAccuracy: null, epochs: 0, reason: 'error', error: 'Error: boom' });
    expect(failed.curve.epoch).toEqual([]);
  });

  it('has no best and no ranked rows when every trial failed', () => {
    const d = buildReportData({ sweep: sweepRecord(), results: [trialResult(0, null), trialResult(1, null)], metrics: new Map() });
    expect(d.best).toBeNull();
    expect(d.trials.every((t) => t.rank === null)).toBe(true);
  });

  it('lists running trials (metrics, no result) and queued ones (nothing yet) after the finished ones', () => {
    const pending = new Map([
      ['t0005', { index: 5, params: trialResult(5, 0.5).params }],
      ['t0006', { index: 6 }],
    ]);
    const m = new Map(metrics);
    m.set('t0005', metricsJsonl(2, 0.75).split('\n').slice(0, 1).join('\n'));
    const d = buildReportData({ sweep: sweepRecord(), results, metrics: m, pending });
    const running = d.trials.find((t) => t.trialId === 't0005')!;
    const queued = d.trials.find((t) => t.trialId === 't0006')!;
    expect(running).toMatchObject({ state: 'running', rank: null, epochs: 1 });
    expect(running.metric).toBeCloseTo(0.625);
    expect(queued).toMatchObject({ state: 'queued', rank: null, metric: null, final: null, epochs: 0 });
    expect(d.trials.map((t) => t.trialId).slice(4)).toEqual(['t0001', 't0005', 't0006']);
    // A pending entry for a trial that has a result is ignored.
    const again = buildReportData({ sweep: sweepRecord(), results, metrics, pending: new Map([['t0002', { index: 2 }]]) });
    expect(again.trials.filter((t) => t.trialId === 't0002')).toHaveLength(1);
  });

  it('drops the resolved spec from the sweep record, keeps it separately, and rounds numbers', () => {
    const d = buildReportData({ sweep: sweepRecord(), specText: 'name: x\n', results, metrics, final: true, now: new Date(0) });
    expect('spec' in d.sweep).toBe(false);
    expect(d.spec?.method).toBe('random');
    expect(d.specText).toBe('name: x\n');
    expect(d.final).toBe(true);
    expect(d.generatedAt).toBe('1970-01-01T00:00:00.000Z');
    expect(roundSig(0.123456789)).toBe(0.123457);
    expect(roundSig(0)).toBe(0);
    for (const t of d.trials) if (t.durationSec !== null) expect(String(t.durationSec).replace(/^0\.0*|\./g, '').length).toBeLessThanOrEqual(6);
  });

  it('cuts very long error texts', () => {
    const d = buildReportData({ sweep: sweepRecord(), results: [trialResult(0, null, { error: 'x'.repeat(10_000) })], metrics: new Map() });
    expect(d.trials[0]!.error!.length).toBeLessThan(2100);
  });
});

describe('buildReportData with several objectives', () => {
  const objectives: MetricSpec[] = [
    { name: 'val_accuracy', goal: 'maximize' },
    { name: 'model_bytes', goal: 'minimize' },
    { name: 'latency_ms', goal: 'minimize' },
  ];
  const costs = (model_bytes: number, latency_ms: number) => ({ costs: { model_bytes, param_count: Math.round(model_bytes / 4), latency_ms } });
  //                 val_accuracy  model_bytes    latency_ms
  const results = [
    trialResult(0, 0.9, costs(400_000, 2)),
    trialResult(1, null),
    trialResult(2, 0.95, costs(1_234_567, 3.123456789)),
    trialResult(3, 0.85, costs(100_000, 1)),
    trialResult(4, 0.88, costs(500_000, 0.5)), // dominated by t0000 on accuracy and size, the fastest
    trialResult(5, 0.8, costs(120_000, 1.2)), // dominated by t0003 on all three
    trialResult(6, 0.93), // an older result: no costs
  ];
  const sweep = (objs: MetricSpec[]) => sweepRecord({ spec: { ...SPEC, metric: objs[0]!, objectives: objs } });
  const pending = new Map([['t0007', { index: 7 }]]);
  const build = (objs: MetricSpec[]) => buildReportData({ sweep: sweep(objs), results, metrics: new Map(), pending, now: new Date(0) });

  it('ranks the trials as the leaderboard does: Pareto fronts from their costs, the front first, then by the metric', () => {
    const d = build(objectives.slice(0, 2));
    expect(d.trials.map((t) => [t.trialId, t.rank, t.front])).toEqual([
      ['t0002', 1, 0],
      ['t0000', 2, 0],
      ['t0003', 3, 0],
      ['t0004', 4, 1],
      ['t0005', 5, 1],
      // Without a value of every objective a trial is not ranked (the leaderboard's rule): t0006 lacks costs.
      ['t0001', null, null],
      ['t0006', null, null],
      ['t0007', null, null],
    ]);
    expect(d.best?.trialId, 'the best by the first objective').toBe('t0002');
    expect(d.pareto).toEqual({
      objectives: [
        { name: 'val_accuracy', goal: 'maximize', log: false },
        { name: 'model_bytes', goal: 'minimize', log: true },
      ],
      size: 3,
      pairs: [{ a: 0, b: 1, front: ['t0002', 't0000', 't0003'] }],
    });
    const byId = Object.fromEntries(d.trials.map((t) => [t.trialId, t]));
    expect(byId.t0002!.objectives).toEqual([0.95, 1_234_567]);
    expect(byId.t0006!.objectives).toEqual([0.93, null]);
    expect(byId.t0001!.objectives).toEqual([null, null]);
    expect(byId.t0007).toMatchObject({ state: 'queued', objectives: [null, null], front: null });
    // The front is what no other trial dominates.
    const ranked = d.trials.filter((t) => t.front !== null && t.front !== undefined);
    for (const t of ranked) {
      const beaten = ranked.some((o) => dominates(o.objectives!, t.objectives!, ['maximize', 'minimize']));
      expect(t.front === 0, `${t.trialId} on the front`).toBe(!beaten);
    }
  });

  it('with three objectives, gives the front of every pair, the same as over all trials', () => {
    const d = build(objectives);
    expect(d.pareto!.size).toBe(4);
    expect(d.trials.filter((t) => t.front === 0).map((t) => t.trialId)).toEqual(['t0002', 't0000', 't0004', 't0003']);
    expect(d.pareto!.pairs.map((p) => [p.a, p.b, [...p.front].sort()])).toEqual([
      [0, 1, ['t0000', 't0002', 't0003']],
      [0, 2, ['t0000', 't0002', 't0004']],
      [1, 2, ['t0003', 't0004']],
    ]);
    const measured = results.filter((r) => r.costs && r.metric.value !== null);
    for (const p of d.pareto!.pairs) {
      const goals = [objectives[p.a]!.goal, objectives[p.b]!.goal];
      const pts = measured.map((r) => [metricValue(r, objectives[p.a]!.name), metricValue(r, objectives[p.b]!.name)]);
      expect([...p.front].sort()).toEqual(paretoFront(pts, goals).map((i) => measured[i]!.trialId).sort());
    }
    // A latency from 0.5 to 3.1 ms stays on a linear axis; values keep 6 significant digits, integers exactly.
    expect(d.pareto!.objectives.map((o) => o.log)).toEqual([false, true, false]);
    expect(d.trials[0]!.objectives).toEqual([0.95, 1_234_567, 3.12346]);
  });

  it('leaves a single-metric sweep as it was, costs or not', () => {
    const plain = results.map(({ costs: _c, ...r }) => r);
    const withCosts = buildReportData({ sweep: sweepRecord(), results, metrics: new Map(), pending, now: new Date(0) });
    const without = buildReportData({ sweep: sweepRecord(), results: plain, metrics: new Map(), pending, now: new Date(0) });
    expect(withCosts).toEqual(without);
    expect(withCosts.pareto).toBeUndefined();
    expect(withCosts.trials.some((t) => 'objectives' in t || 'front' in t)).toBe(false);
    expect(withCosts.trials.map((t) => t.trialId)).toEqual(['t0002', 't0006', 't0000', 't0004', 't0003', 't0005', 't0001', 't0007']);
  });
});
