import { describe, expect, it } from 'vitest';
import { SweepState, buildLeaderboard, type SweepRecord, type TrialResult } from '@sweepq/results';
import { trialResult } from '@sweepq/results/testing';
import { DEFAULT_PARAMS } from '@sweepq/sweep-config';
import { describeOutcome } from '../src/outcome.js';
import { statusText, type SweepStatus } from '../src/sweep-status.js';

const OBJECTIVES = [
  { name: 'val_accuracy', goal: 'maximize' },
  { name: 'model_bytes', goal: 'minimize' },
] as const;
const RULE = { pick: 'model_bytes', within: { val_accuracy: 0.005 } } as const;

const finished: SweepRecord = {
  sweepId: 'mo',
  state: SweepState.Completed,
  method: 'random',
  metric: { name: 'val_accuracy', goal: 'maximize' },
  spec: { method: 'random', metric: OBJECTIVES[0], objectives: OBJECTIVES },
  trials: { total: 3, completed: 3, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 0 },
  best: { trialId: 't0000', value: 0.9, values: [0.9, 9000] },
  front: { trialIds: ['t0000', 't0001'] },
  submittedAt: '2026-01-01T00:00:00Z',
  finishedAt: '2026-01-01T00:01:00Z',
  updatedAt: '2026-01-01T00:01:00Z',
};
const status = (sweep: SweepRecord): SweepStatus => ({ sweep, trials: sweep.trials, owner: null, alive: { coordinators: null, workers: null }, running: [], warnings: [] });

function result(index: number, acc: number, bytes: number): TrialResult {
  return trialResult(index, acc, { model_bytes: bytes, param_count: 1, latency_ms: 1 }, { sweepId: 'mo', params: { ...DEFAULT_PARAMS, lstm_units: 8 * (index + 1) } });
}

describe('status and watch with several objectives', () => {
  it('status names the objectives, the front and what best/ holds', () => {
    const text = statusText(status(finished)).split('\n');
    expect(text).toContain('method   random; objectives val_accuracy (maximize), model_bytes (minimize)');
    expect(text).toContain("front    2 trials on the Pareto front: t0000, t0001; best/ holds each one's model");
    expect(text).toContain('best     t0000 val_accuracy=0.9000 model_bytes=9000 (the front trial best by the first objective)');
  });

  it('status with a best rule names the rule and its pick', () => {
    const sweep = { ...finished, spec: { ...(finished.spec as object), best: RULE }, best: { trialId: 't0001', value: 0.896, values: [0.896, 4000] }, front: { trialIds: ['t0000', 't0001'], pick: 't0001' } };
    const text = statusText(status(sweep)).split('\n');
    expect(text).toContain("front    2 trials on the Pareto front: t0000, t0001; best/ holds the rule's pick");
    expect(text).toContain("best     t0001 val_accuracy=0.8960 model_bytes=4000 (rule: lowest model_bytes within 0.005 of the front's best val_accuracy)");
  });

  it('a single metric shows as before', () => {
    const single = { ...finished, spec: { method: 'random' }, best: { trialId: 't0000', value: 0.9 } };
    const { front: _front, ...noFront } = single;
    const text = statusText(status(noFront)).split('\n');
    expect(text).toContain('method   random; metric val_accuracy (maximize)');
    expect(text).toContain('best     t0000 val_accuracy=0.9000');
    expect(text.some((l) => l.startsWith('front'))).toBe(false);
  });

  it("watch's outcome shows the front in the table and links best/ as the front's models", async () => {
    const lb = buildLeaderboard('mo', OBJECTIVES[0], [result(0, 0.9, 9000), result(1, 0.8, 3000), result(2, 0.85, 9500)], new Date(0), { objectives: OBJECTIVES });
    const files = { exists: async (p: string) => p === 'best/front.json' || p === 'report.html', show: (p: string) => `s3://b/sweeps/mo/${p}` };
    const lines = (await describeOutcome(finished, lb, { files })).join('\n');
    expect(lines).toMatch(/t0001\s+completed\s+0\s+0\.8000\s+3000/);
    expect(lines).toMatch(/t0002\s+completed\s+1\s+0\.8500\s+9500/);
    expect(lines).toContain('Pareto front (front 0): 2 trials on val_accuracy (maximize), model_bytes (minimize)');
    expect(lines).toContain("  Pareto front's models: s3://b/sweeps/mo/best/ (one folder per trial; see its README.md and front.json)");
    expect(lines).not.toContain('best model:');
  });
});
