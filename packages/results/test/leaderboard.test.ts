import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '@sweepq/spec';
import { buildLeaderboard, leaderboardCsv, leaderboardTable, type TrialResult } from '../src/index.js';

function result(index: number, state: TrialResult['state'], value: number | null): TrialResult {
  return {
    sweepId: 's',
    trialId: `t${String(index).padStart(4, '0')}`,
    index,
    state,
    params: { ...DEFAULT_PARAMS, lstm_units: 8 * (index + 1) },
    metric: { name: 'val_loss', goal: 'minimize', value },
    final: value === null ? null : { epoch: 1, loss: 1, accuracy: 0.5, val_loss: value, val_accuracy: 0.5, seconds: 1, samplesPerSec: 10 },
    test: null,
    epochs: 1,
    durationSec: 1,
    samplesPerSec: 10,
    backend: 'wasm',
    tfjsVersion: '4.22.0',
    worker: 'w',
    attempt: 1,
    finishedAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('leaderboard', () => {
  const results = [result(0, 'completed', 0.5), result(1, 'failed', null), result(2, 'completed', 0.2), result(3, 'completed', 0.5), result(4, 'cancelled', 0.1)];

  it('ranks completed trials by the goal, ties by index, and lists the rest unranked', () => {
    const min = buildLeaderboard('s', { name: 'val_loss', goal: 'minimize' }, results);
    expect(min.rows.map((r) => [r.trialId, r.rank])).toEqual([
      ['t0002', 1],
      ['t0000', 2],
      ['t0003', 3],
      ['t0001', null],
      ['t0004', null],
    ]);
    const max = buildLeaderboard('s', { name: 'val_loss', goal: 'maximize' }, results);
    expect(max.rows.slice(0, 3).map((r) => r.trialId)).toEqual(['t0000', 't0003', 't0002']);
  });

  it('writes CSV with a header, one row per trial, parameters as columns', () => {
    const csv = leaderboardCsv(buildLeaderboard('s', { name: 'val_loss', goal: 'minimize' }, results)).trim().split('\n');
    expect(csv).toHaveLength(6);
    expect(csv[0]).toMatch(/^rank,trial_id,state,reason,val_loss,/);
    expect(csv[1]).toMatch(/^1,t0002,completed,,0.2,/);
    expect(csv[0]!.split(',')).toHaveLength(csv[1]!.split(',').length);
  });

  it('prints a table showing the parameters that vary', () => {
    const t = leaderboardTable(buildLeaderboard('s', { name: 'val_loss', goal: 'minimize' }, results));
    expect(t.split('\n')[0]).toMatch(/lstm_units/);
    expect(t).toMatch(/t0002\s+completed\s+0\.2000/);
  });
});
