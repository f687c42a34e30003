import { describe, expect, it } from 'vitest';
import { SweepState, type SweepRecord } from '@sweepq/results';
import { preparationLine, statusText } from '../src/sweep-status.js';

const base: SweepRecord = { sweepId: 's1', state: SweepState.Preparing, submittedAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
const preparation = { phase: 'read', rows: 1_234_567, bytes: 512_400_000, mbPerSec: 7.8, seconds: 66, at: '2026-01-01T00:01:06Z' } as const;

describe('preparation progress in status and watch', () => {
  it('shows rows read, MB and MB/s while the sweep prepares its dataset', () => {
    const sweep = { ...base, preparation };
    expect(preparationLine(sweep)).toBe('preparing (reading): 1,234,567 rows read, 512 MB, 7.8 MB/s, 66 s');
    const text = statusText({ sweep, trials: undefined, owner: null, alive: { coordinators: null, workers: null }, running: [], warnings: [] });
    expect(text).toContain('dataset  preparing (reading): 1,234,567 rows read');
  });

  it('shows nothing once prepared, or before any progress', () => {
    expect(preparationLine(base)).toBeUndefined();
    expect(preparationLine({ ...base, preparation: { ...preparation, phase: 'done' } })).toBeUndefined();
    expect(preparationLine({ ...base, state: SweepState.Running, preparation })).toBeUndefined();
  });
});
