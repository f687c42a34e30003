import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../src/index.js';

describe('mapLimit', () => {
  it('keeps input order whatever order the calls finish in, with at most `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 3, async (n) => {
      most = Math.max(most, ++inFlight);
      for (let i = 0; i < n; i++) await tick();
      inFlight -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(3);
  });

  it('starts nothing after a rejection, and rejects with the first error once the calls in flight have settled', async () => {
    const started: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let outcome: unknown;
    const run = mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 1) throw new Error('item 1 failed');
      await gate;
      if (n === 0) throw new Error('item 0 failed later');
      return n;
    });
    run.catch((err: unknown) => (outcome = err));
    for (let i = 0; i < 5; i++) await tick();
    // Item 0 is still in flight: the caller has not heard of item 1's failure yet.
    expect(outcome).toBeUndefined();
    release();
    await expect(run).rejects.toThrow('item 1 failed');
    expect(started).toEqual([0, 1]);
  });
});
