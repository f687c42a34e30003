import { describe, expect, it } from 'vitest';
import { UNKNOWN_WORKER, buildReportData, buildTimeline, optimizationHistory } from '../src/index.js';
import { SPEC, sweepRecord, syntheticSweep, trialResult } from './fixtures.js';

describe('buildTimeline', () => {
  it('draws recorded attempts exactly: a hand-off is two segments on two workers', () => {
    const r = trialResult(0, 0.9, {
      worker: 'w2',
      attempt: 2,
      durationSec: 30,
      finishedAt: '2026-01-01T00:02:00.000Z',
      attempts: [
        { attempt: 1, worker: 'w1', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:01:00.000Z', fromEpoch: 0 },
        { attempt: 2, worker: 'w2', startedAt: '2026-01-01T00:01:30.000Z', fromEpoch: 2 },
      ],
    });
    const tl = buildTimeline([r], {});
    expect(tl.exact).toBe(true);
    expect(tl.workers).toEqual(['w1', 'w2']);
    expect(tl.segments.map((s) => [s.worker, s.kind, s.outcome, s.end - s.start, s.estimated])).toEqual([
      ['w1', 'first', 'handed-off', 60_000, false],
      ['w2', 'resume', 'completed', 30_000, false],
    ]);
  });

  it("reconstructs today's results: the last attempt from finishedAt - durationSec, earlier ones from resumes, estimated", () => {
    const plain = trialResult(1, 0.8, { worker: 'w1', durationSec: 10, finishedAt: '2026-01-01T00:00:20.000Z' });
    const resumed = trialResult(2, 0.8, {
      worker: 'w3',
      attempt: 2,
      epochs: 4,
      durationSec: 20,
      finishedAt: '2026-01-01T00:01:00.000Z',
      resumes: [{ attempt: 2, worker: 'w3', fromEpoch: 2, at: '2026-01-01T00:00:40.000Z' }],
    });
    const retried = trialResult(3, null, { worker: 'w2', attempt: 3, durationSec: 5, finishedAt: '2026-01-01T00:00:30.000Z' });
    const tl = buildTimeline([plain, resumed, retried], { retries: [{ at: '2026-01-01T00:05:00.000Z', trials: ['t0003'] }] });
    expect(tl.exact).toBe(false);
    const by = (id: string) => tl.segments.filter((s) => s.trialId === id).map((s) => ({ w: s.worker, k: s.kind, o: s.outcome, start: new Date(s.start).toISOString(), est: s.estimated }));
    expect(by('t0001')).toEqual([{ w: 'w1', k: 'first', o: 'completed', start: '2026-01-01T00:00:10.000Z', est: false }]);
    // 2 epochs at the last attempt's pace (20 s for 2 epochs) before the resume at 00:40.
    expect(by('t0002')).toEqual([
      { w: UNKNOWN_WORKER, k: 'first', o: 'handed-off', start: '2026-01-01T00:00:20.000Z', est: true },
      { w: 'w3', k: 'resume', o: 'completed', start: '2026-01-01T00:00:40.000Z', est: false },
    ]);
    expect(by('t0003')).toEqual([{ w: 'w2', k: 'retry', o: 'failed', start: '2026-01-01T00:00:25.000Z', est: false }]);
    expect(tl.retries).toEqual([{ at: Date.parse('2026-01-01T00:05:00.000Z'), trials: ['t0003'] }]);
  });
});

describe('the report analysis', () => {
  it('history: best so far by index and by finishing time, in the goal direction', () => {
    const results = [
      trialResult(0, 0.7, { finishedAt: '2026-01-01T00:03:00.000Z' }),
      trialResult(1, 0.9, { finishedAt: '2026-01-01T00:01:00.000Z' }),
      trialResult(2, 0.8, { finishedAt: '2026-01-01T00:02:00.000Z' }),
      trialResult(3, null),
    ];
    const d = buildReportData({ sweep: sweepRecord(), results, metrics: new Map() });
    expect(d.analysis.history.byIndex.map((r) => [r[0], r[1], r[2]])).toEqual([
      [0, 0.7, 0.7],
      [1, 0.9, 0.9],
      [2, 0.8, 0.9],
    ]);
    expect(d.analysis.history.byTime.map((r) => [r[3], r[2]])).toEqual([
      ['t0001', 0.9],
      ['t0002', 0.9],
      ['t0000', 0.9],
    ]);
    expect(optimizationHistory(d.trials, false).byIndex.map((r) => r[2])).toEqual([0.7, 0.7, 0.7]);
  });

  it('rungs come from early_terminate; importance ranks the parameter that decides the metric first', () => {
    const s = syntheticSweep({ trials: 120, epochs: 12 });
    const d = buildReportData({ ...s, final: true });
    expect(d.analysis.rungs).toEqual([1, 3, 9]);
    expect(d.analysis.earlyTerminate).toBe('hyperband');
    expect(d.analysis.importance!.params[0]!.name).toBe('learning_rate');
    expect(d.trials.some((t) => t.state === 'stopped' && t.stoppedAtEpoch !== undefined)).toBe(true);
    expect(buildReportData({ sweep: sweepRecord({ spec: SPEC }), results: [], metrics: new Map() }).analysis).toMatchObject({ rungs: [], earlyTerminate: null, importance: null });
  });
});
