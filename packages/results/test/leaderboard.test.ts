import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '@sweepq/sweep-config';
import { buildLeaderboard, formatSignificant, leaderboardCsv, leaderboardTable, type TrialResult } from '../src/index.js';
import { trialResult } from '../src/testing.js';

function result(index: number, state: TrialResult['state'], value: number | null): TrialResult {
  return trialResult(index, null, undefined, {
    state,
    params: { ...DEFAULT_PARAMS, lstm_units: 8 * (index + 1) },
    metric: { name: 'val_loss', goal: 'minimize', value },
    final: value === null ? null : { epoch: 1, loss: 1, accuracy: 0.5, val_loss: value, val_accuracy: 0.5, seconds: 1, samplesPerSec: 10 },
  });
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

  it('names every CSV column once: the epochs a trial trained apart from the epochs parameter', () => {
    const lb = buildLeaderboard('s', { name: 'val_loss', goal: 'minimize' }, [{ ...result(0, 'stopped', 0.4), epochs: 2, params: { ...DEFAULT_PARAMS, epochs: 9 } }]);
    const [header, row] = leaderboardCsv(lb).trim().split('\n').map((l) => l.split(','));
    expect(new Set(header).size).toBe(header!.length);
    for (const metric of ['val_accuracy', 'val_loss', 'accuracy', 'loss'] as const) {
      const h = leaderboardCsv({ ...lb, metric: { name: metric, goal: 'maximize' } }).split('\n')[0]!.split(',');
      expect(new Set(h).size, metric).toBe(h.length);
    }
    expect(row![header!.indexOf('epochs_done')]).toBe('2');
    expect(row![header!.indexOf('epochs')]).toBe('9');
  });

  it('keeps full precision in CSV and prints 4 significant digits in the table', () => {
    const lr = 0.0019064667082208317;
    const lb = buildLeaderboard('s', { name: 'val_loss', goal: 'minimize' }, [
      { ...result(0, 'completed', 0.123456789), params: { ...DEFAULT_PARAMS, learning_rate: lr, lstm_units: 8 } },
      { ...result(1, 'completed', 0.000123456), params: { ...DEFAULT_PARAMS, learning_rate: 0.01, lstm_units: 16 } },
    ]);
    expect(leaderboardCsv(lb)).toContain(String(lr));
    expect(leaderboardCsv(lb)).toContain('0.123456789');
    const table = leaderboardTable(lb);
    expect(table).not.toContain(String(lr));
    expect(table).toMatch(/t0001\s+completed\s+0\.0001235\s+0\.0001235\s+-\s+1\s+1\s+16\s+0\.01$/m);
    expect(table).toMatch(/t0000\s+completed\s+0\.1235\s+0\.1235\s+-\s+1\s+1\s+8\s+0\.001906$/m);
    expect(table.split('\n')[0]).toMatch(/epochs_done/);
  });

  it('lists booleans and the cell in CSV and table, and fills parameters an older result lacks with their defaults', () => {
    const { lstm_layers: _l, bidirectional: _b, cell: _c, mask_zero: _m, ...older } = DEFAULT_PARAMS;
    const lb = buildLeaderboard('s', { name: 'val_loss', goal: 'minimize' }, [
      { ...result(0, 'completed', 0.3), params: { ...DEFAULT_PARAMS, bidirectional: true, cell: 'gru', mask_zero: true, lstm_layers: 2 } },
      { ...result(1, 'completed', 0.2), params: older as TrialResult['params'] },
    ]);
    const [header, first, second] = leaderboardCsv(lb).trim().split('\n').map((l) => l.split(','));
    const col = (row: string[] | undefined, name: string) => row![header!.indexOf(name)];
    expect(['lstm_layers', 'bidirectional', 'cell', 'mask_zero'].map((n) => col(second, n))).toEqual(['2', 'true', 'gru', 'true']);
    expect(['lstm_layers', 'bidirectional', 'cell', 'mask_zero'].map((n) => col(first, n))).toEqual(['1', 'false', 'lstm', 'false']);
    const table = leaderboardTable(lb);
    expect(table.split('\n')[0]).toMatch(/lstm_layers\s+bidirectional\s+cell\s+mask_zero$/);
    expect(table).toMatch(/t0000 .*\s2\s+true\s+gru\s+true$/m);
    expect(table).toMatch(/t0001 .*\s1\s+false\s+lstm\s+false$/m);
  });

  it('formats numbers for people: significant digits, integers whole, nothing for missing values', () => {
    expect(formatSignificant(0.0019064667082208317)).toBe('0.001906');
    expect(formatSignificant(0.2)).toBe('0.2000');
    expect(formatSignificant(0.2, { trimZeros: true })).toBe('0.2');
    expect(formatSignificant(0.96444)).toBe('0.9644');
    expect(formatSignificant(0.99996)).toBe('1.000');
    expect(formatSignificant(64)).toBe('64');
    expect(formatSignificant(10000)).toBe('10000');
    expect(formatSignificant(12345.678)).toBe('12346');
    expect(formatSignificant(123.456)).toBe('123.5');
    expect(formatSignificant(-0.000123456)).toBe('-0.0001235');
    expect(formatSignificant(1.5e-9, { trimZeros: true })).toBe('1.5e-9');
    expect(formatSignificant(0.123456, { digits: 2 })).toBe('0.12');
    for (const v of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) expect(formatSignificant(v)).toBe('-');
  });
});
