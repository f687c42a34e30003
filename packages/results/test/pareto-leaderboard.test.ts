import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, describeBestRule, dominates, type BestRule } from '@sweepq/sweep-config';
import { buildLeaderboard, leaderboardCsv, leaderboardTable, pickByRule, type TrialResult } from '../src/index.js';
import { trialResult } from '../src/testing.js';

const OBJECTIVES = [
  { name: 'val_accuracy', goal: 'maximize' },
  { name: 'model_bytes', goal: 'minimize' },
] as const;
const METRIC = { name: 'val_accuracy', goal: 'maximize' } as const;

/** A finished trial with its validation accuracy and model size; `bytes` null: a result without costs (older worker). */
function result(index: number, acc: number | null, bytes: number | null, state: TrialResult['state'] = 'completed'): TrialResult {
  return trialResult(index, acc, bytes === null ? undefined : { model_bytes: bytes, param_count: bytes / 4, latency_ms: bytes / 1000 }, {
    state,
    params: { ...DEFAULT_PARAMS, lstm_units: 8 * (index + 1) },
    final: acc === null ? null : { epoch: 1, loss: 1, accuracy: 0.5, val_loss: 1 - acc, val_accuracy: acc, seconds: 1, samplesPerSec: 10 },
  });
}

//             front: t0, t1, t2 (a trade-off)   t3 dominated by t0   t4 dominated by t3   t5 no costs   t6 failed    t7 equal to t1
const RESULTS = [result(0, 0.9, 9000), result(1, 0.85, 3000), result(2, 0.7, 1000), result(3, 0.88, 9500), result(4, 0.8, 9600), result(5, 0.99, null), result(6, null, null, 'failed'), result(7, 0.85, 3000)];

describe('leaderboard with several objectives', () => {
  const lb = buildLeaderboard('s', METRIC, RESULTS, new Date(0), { objectives: OBJECTIVES });

  it('orders rows by Pareto rank, then the first objective, then index; unranked rows last in index order', () => {
    expect(lb.rows.map((r) => [r.trialId, r.rank, r.front])).toEqual([
      ['t0000', 1, 0],
      ['t0001', 2, 0],
      ['t0007', 3, 0],
      ['t0002', 4, 0],
      ['t0003', 5, 1],
      ['t0004', 6, 2],
      ['t0005', null, null],
      ['t0006', null, null],
    ]);
    expect(lb.rows[1]!.values).toEqual([0.85, 3000]);
    expect(lb.rows[6]!.values).toEqual([0.99, null]);
    expect(lb.objectives).toEqual(OBJECTIVES);
    expect(lb.front).toEqual(['t0000', 't0001', 't0007', 't0002']);
    expect(lb.pick).toBeUndefined();
  });

  it('puts exactly the non-dominated finished trials on the front', () => {
    const measured = RESULTS.filter((r) => r.costs && r.metric.value !== null);
    const point = (r: TrialResult) => [r.metric.value, r.costs!.model_bytes];
    const brute = measured.filter((r) => !measured.some((q) => dominates(point(q), point(r), ['maximize', 'minimize']))).map((r) => r.trialId);
    expect([...lb.front!].sort()).toEqual(brute.sort());
  });

  it('does not rank a cancelled trial even with values', () => {
    const cancelled = { ...result(8, 0.95, 10), state: 'cancelled' as const };
    const lb2 = buildLeaderboard('s', METRIC, [...RESULTS, cancelled], new Date(0), { objectives: OBJECTIVES });
    expect(lb2.front).toEqual(lb.front);
    expect(lb2.rows.find((r) => r.trialId === 't0008')).toMatchObject({ rank: null, front: null });
  });

  it('names the rule and its pick', () => {
    const rule: BestRule = { pick: 'model_bytes', within: { val_accuracy: 0.05 } };
    const withRule = buildLeaderboard('s', METRIC, RESULTS, new Date(0), { objectives: OBJECTIVES, best: rule });
    // Within 0.05 of 0.9: t0000 (0.9) and t0001/t0007 (0.85, the margin's edge); the smallest is t0001 (lower index).
    expect(withRule.pick).toBe('t0001');
    expect(withRule.bestRule).toEqual(rule);
    expect(withRule.rows.map((r) => r.trialId)).toEqual(lb.rows.map((r) => r.trialId));
  });

  it('a single objective is the single-metric leaderboard', () => {
    const single = buildLeaderboard('s', METRIC, RESULTS, new Date(0));
    expect(buildLeaderboard('s', METRIC, RESULTS, new Date(0), { objectives: [METRIC] })).toEqual(single);
    expect(single.rows[0]).not.toHaveProperty('front');
    expect(single).not.toHaveProperty('objectives');
    expect(single.rows[0]!.trialId).toBe('t0005');
  });

  it('CSV: front rank and each objective after the metric', () => {
    const [header, first, ...rest] = leaderboardCsv(lb).trim().split('\n').map((l) => l.split(','));
    expect(header!.slice(0, 7)).toEqual(['rank', 'trial_id', 'state', 'reason', 'val_accuracy', 'front', 'model_bytes']);
    expect(first!.slice(0, 7)).toEqual(['1', 't0000', 'completed', '', '0.9', '0', '9000']);
    expect(rest.find((r) => r[1] === 't0004')!.slice(5, 7)).toEqual(['2', '9600']);
    expect(rest.find((r) => r[1] === 't0005')!.slice(5, 7)).toEqual(['', '']);
    expect(new Set(header).size).toBe(header!.length);
  });

  it('table: front and objective columns, the pick marked, a line on the front under it', () => {
    const withRule = buildLeaderboard('s', METRIC, RESULTS, new Date(0), { objectives: OBJECTIVES, best: { pick: 'model_bytes', within: { val_accuracy: 0.05 } } });
    const t = leaderboardTable(withRule).split('\n');
    expect(t[0]).toMatch(/^#\s+trial\s+state\s+front\s+val_accuracy\s+model_bytes\s+val_loss\s+test_acc/);
    expect(t.find((l) => l.includes('t0001'))).toMatch(/t0001\s+completed\s+0 pick\s+0\.8500\s+3000\s/);
    expect(t.find((l) => l.includes('t0007'))).toMatch(/t0007\s+completed\s+0\s+0\.8500\s+3000\s/);
    expect(t.find((l) => l.includes('t0004'))).toMatch(/t0004\s+completed\s+2\s+0\.8000\s+9600\s/);
    expect(t.at(-1)).toBe(
      "Pareto front (front 0): 4 trials on val_accuracy (maximize), model_bytes (minimize); best rule (lowest model_bytes within 0.05 of the front's best val_accuracy): t0001",
    );
    expect(leaderboardTable(lb).split('\n').at(-1)).toBe('Pareto front (front 0): 4 trials on val_accuracy (maximize), model_bytes (minimize)');
  });
});

describe('pickByRule', () => {
  const front = [result(0, 0.97, 9000), result(1, 0.965, 5000), result(2, 0.96, 2000), result(3, 0.9, 100)];

  it('the smallest model within half a point of the best accuracy, the margin inclusive despite rounding', () => {
    // 0.97 - 0.965 is 0.0050000000000000044 in floating point; the rule means to include it.
    expect(pickByRule(front, OBJECTIVES, { pick: 'model_bytes', within: { val_accuracy: 0.005 } })?.trialId).toBe('t0001');
    expect(pickByRule(front, OBJECTIVES, { pick: 'model_bytes', within: { val_accuracy: 0.004 } })?.trialId).toBe('t0000');
    expect(pickByRule(front, OBJECTIVES, { pick: 'model_bytes' })?.trialId).toBe('t0003');
    expect(pickByRule(front, OBJECTIVES, { pick: 'val_accuracy' })?.trialId).toBe('t0000');
  });

  it('margins count from the whole front; a metric outside the objectives takes its default goal; ties to the lower index', () => {
    // latency_ms (bytes / 1000) is no objective: minimized by default. Both margins are measured on all four trials.
    const rule: BestRule = { pick: 'latency_ms', within: { val_accuracy: 0.011, model_bytes: 7000 } };
    expect(pickByRule(front, OBJECTIVES, rule)?.trialId).toBe('t0002');
    // Within 1000 bytes of the front's smallest (100) leaves only t0003, which is 0.07 below the best accuracy.
    expect(pickByRule(front, OBJECTIVES, { pick: 'latency_ms', within: { val_accuracy: 0.011, model_bytes: 1000 } })).toBeUndefined();
    const tie = [result(5, 0.9, 100), result(4, 0.9, 100)];
    expect(pickByRule(tie, OBJECTIVES, { pick: 'model_bytes' })?.trialId).toBe('t0004');
  });

  it('no pick when no trial has the values the rule needs', () => {
    expect(pickByRule([], OBJECTIVES, { pick: 'model_bytes' })).toBeUndefined();
    expect(pickByRule([result(0, 0.9, null)], OBJECTIVES, { pick: 'latency_ms' })).toBeUndefined();
    expect(describeBestRule({ pick: 'val_accuracy', within: { model_bytes: 1000 } }, OBJECTIVES)).toBe("highest val_accuracy within 1000 of the front's best model_bytes");
  });
});
