import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createRng, validateSpec } from '@sweepq/sweep-config';
import type { SweepSpec } from '@sweepq/sweep-config';
import { ashaRule, medianRule } from '@sweepq/search';
import { RungStore } from '../src/index.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

function hyperband(extra: Record<string, unknown> = {}, metric = 'val_accuracy', epochs = 9): SweepSpec {
  return validateSpec({ method: 'random', run_cap: 10, metric: { name: metric }, parameters: { epochs: { value: epochs } }, early_terminate: { type: 'hyperband', min_iter: 1, eta: 3, ...extra } });
}

describe('RungStore (real Redis)', () => {
  let redis: Redis;
  const stores: RungStore[] = [];
  const prefix = `{sweepq-test-${randomUUID().slice(0, 8)}}`;
  const store = (sweepId = randomUUID()): RungStore => {
    const s = new RungStore(redis, prefix, sweepId);
    stores.push(s);
    return s;
  };

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: false });
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.clear();
    expect(await redis.keys(`${prefix}*`)).toEqual([]);
  });
  afterAll(async () => {
    await redis.quit();
  });

  test('successive halving at a rung, maximize and minimize; non-rung epochs are not stored', async () => {
    const spec = hyperband();
    const s = store();
    const seq: Array<[string, number, boolean]> = [
      ['t1', 0.5, true],
      ['t2', 0.6, true],
      ['t3', 0.4, false],
      ['t4', 0.7, true],
      ['t5', 0.65, false],
      ['t6', 0.66, true],
    ];
    for (const [trial, value, expected] of seq) {
      const d = await s.report(trial, 1, value, spec);
      expect(d.continue, `${trial}: ${d.reason}`).toBe(expected);
      expect(d.rung).toBe(1);
    }
    expect((await s.report('t1', 2, 0.1, spec))).toEqual({ continue: true, rung: null });
    expect(await redis.exists(`${prefix}:sweepq:rung:x:e2:values`)).toBe(0);
    const lossSpec = hyperband({}, 'val_loss');
    const m = store();
    expect((await m.report('a', 3, 0.5, lossSpec)).continue).toBe(true);
    expect((await m.report('b', 3, 0.6, lossSpec)).continue).toBe(true);
    const c = await m.report('c', 3, 0.4, lossSpec);
    expect(c).toEqual({ continue: true, rung: 3, reason: 'val_loss 0.4000 ranks 1 of 3 at the epoch-3 rung; the top 1 (1/3) continue, cutoff 0.4000' });
    const d = await m.report('d', 3, 0.45, lossSpec);
    expect(d.continue).toBe(false);
    expect(d.reason).toBe('val_loss 0.4500 ranks 2 of 4 at the epoch-3 rung; the top 1 (1/3) continue, cutoff 0.4000');
  });

  test("strict (W&B's default) ranks the value at the rung; strict: false each trial's best value up to it", async () => {
    // Three trials with the same curves under both settings, rung at epoch 3 (min_iter 3, eta 3, 9 epochs).
    // a peaks at epoch 2 then drops; b and c rise steadily. At epoch 3: a 0.5, b 0.6, c 0.55; best so far: a 0.8.
    const curves: Record<string, number[]> = { a: [0.7, 0.8, 0.5], b: [0.4, 0.5, 0.6], c: [0.3, 0.45, 0.55] };
    const run = async (strict: boolean | undefined): Promise<Record<string, boolean>> => {
      const spec = hyperband({ min_iter: 3, ...(strict === undefined ? {} : { strict }) });
      const s = store();
      const out: Record<string, boolean> = {};
      for (const [trial, values] of Object.entries(curves)) {
        for (let e = 1; e <= values.length; e++) {
          const d = await s.report(trial, e, values[e - 1] as number, spec);
          if (e < 3) expect(d).toEqual({ continue: true, rung: null });
          else out[trial] = d.continue;
        }
      }
      return out;
    };
    // n = 3 = eta at c's report: only the best of the three continues.
    expect(await run(undefined)).toEqual({ a: true, b: true, c: false });
    expect(await run(true)).toEqual({ a: true, b: true, c: false });
    const lenient = await run(false);
    expect(lenient).toEqual({ a: true, b: true, c: false });
    // Ranked by best so far, a (0.8) beats b (0.6): a fourth trial at 0.7 is stopped only without strict.
    const spec = hyperband({ min_iter: 3, strict: false });
    const s = store();
    for (const [trial, values] of Object.entries(curves)) for (let e = 1; e <= 3; e++) await s.report(trial, e, values[e - 1] as number, spec);
    for (let e = 1; e <= 2; e++) await s.report('d', e, 0.1, spec);
    const d = await s.report('d', 3, 0.7, spec);
    expect(d.reason).toBe('best val_accuracy so far 0.7000 ranks 2 of 4 at the epoch-3 rung; the top 1 (1/3) continue, cutoff 0.8000');
    expect(d.continue).toBe(false);
    const strictSpec = hyperband({ min_iter: 3 });
    const t = store();
    for (const [trial, values] of Object.entries(curves)) await t.report(trial, 3, values[2] as number, strictSpec);
    const dStrict = await t.report('d', 3, 0.7, strictSpec);
    expect(dStrict).toMatchObject({ continue: true, reason: 'val_accuracy 0.7000 ranks 1 of 4 at the epoch-3 rung; the top 1 (1/3) continue, cutoff 0.7000' });
    // strict: false records every epoch up to the last rung, and the rung values (the curve the sampler reads) are bests.
    expect(await s.trialValues('a', spec)).toEqual({ 3: 0.8 });
    expect(await t.trialValues('a', strictSpec)).toEqual({ 3: 0.5 });
  });

  test('idempotent: a repeated report returns the first decision, even with another value', async () => {
    const spec = hyperband();
    const s = store();
    for (const [t, v] of [['a', 0.9], ['b', 0.8]] as const) await s.report(t, 1, v, spec);
    const first = await s.report('c', 1, 0.1, spec);
    expect(first.continue).toBe(false);
    await s.report('d', 1, 0.95, spec);
    expect(await s.report('c', 1, 0.99, spec)).toEqual(first);
    // The repeated report did not overwrite c's value (0.1): with 0.99 stored e would rank 5 of 5.
    expect((await s.report('e', 1, 0.5, spec)).reason).toMatch(/ranks 4 of 5/);
  });

  test('ties at a rung: equal values get the same decision', async () => {
    const spec = hyperband();
    const s = store();
    const decisions = [];
    for (const t of ['a', 'b', 'c', 'd', 'e', 'f']) decisions.push((await s.report(t, 1, 0.5, spec)).continue);
    expect(decisions).toEqual([true, true, true, true, true, true]);
    expect((await s.report('g', 1, 0.49, spec)).continue).toBe(false);
  });

  test('concurrent reports from many connections are decided one at a time (serialisable)', async () => {
    const spec = hyperband({}, 'val_accuracy', 9);
    const sweepId = randomUUID();
    store(sweepId); // registered for clear()
    const clients = Array.from({ length: 4 }, () => new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }));
    try {
      const rng = createRng(11);
      const values = Array.from({ length: 60 }, () => Math.round(rng.next() * 20) / 20); // many ties
      const results = await Promise.all(
        values.map((v, i) => new RungStore(clients[i % clients.length] as Redis, prefix, sweepId).report(`t${i}`, 3, v, spec)),
      );
      // Each decision saw a distinct count n = its position in Redis' serial order; replaying ashaRule in that order
      // must reproduce every decision.
      const parsed = results.map((d, i) => ({ i, d, n: Number(/ranks \d+ of (\d+)|: (\d+) of the first/.exec(d.reason ?? '')?.slice(1).find((x) => x !== undefined)) }));
      expect(parsed.map((p) => p.n).sort((a, b) => a - b)).toEqual(values.map((_, k) => k + 1));
      const order = [...parsed].sort((a, b) => a.n - b.n);
      order.forEach((p, k) => {
        const seen = order.slice(0, k + 1).map((q) => values[q.i] as number);
        expect(p.d.continue).toBe(ashaRule(seen, values[p.i] as number, 3, true).continue);
      });
      expect(results.filter((d) => d.continue).length).toBeLessThan(values.length / 2);
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  test('the Lua script and ashaRule agree on random sequences, both goals', async () => {
    for (const goal of ['val_accuracy', 'val_loss'] as const) {
      const spec = hyperband({ eta: 2 }, goal);
      const s = store();
      const rng = createRng(goal.length);
      const seen: number[] = [];
      for (let i = 0; i < 40; i++) {
        const v = Math.round(rng.next() * 30) / 30;
        seen.push(v);
        const d = await s.report(`t${i}`, 1, v, spec);
        expect(d.continue).toBe(ashaRule(seen, v, 2, goal === 'val_accuracy').continue);
      }
    }
  });

  test('median rule: best-so-far against the median of other trials at the same epoch, after warm-up', async () => {
    const spec = validateSpec({ method: 'random', run_cap: 10, parameters: { epochs: { value: 5 } }, early_terminate: { type: 'median', min_iter: 2, warmup_trials: 2 } });
    const s = store();
    // epoch 1 is before min_iter: recorded, never decided
    expect(await s.report('a', 1, 0.9, spec)).toEqual({ continue: true, rung: null });
    expect((await s.report('a', 2, 0.8, spec)).continue).toBe(true); // best so far 0.9; no others yet
    await s.report('b', 1, 0.7, spec);
    expect((await s.report('b', 2, 0.75, spec)).continue).toBe(true); // one other: warm-up
    await s.report('c', 1, 0.5, spec);
    const c = await s.report('c', 2, 0.6, spec); // others' best so far: 0.9, 0.75 -> median 0.825
    expect(c.continue).toBe(false);
    expect(c.reason).toBe('best val_accuracy so far 0.6000 at epoch 2 is worse than the median 0.8250 of 2 other trial(s)');
    await s.report('d', 1, 0.85, spec);
    expect((await s.report('d', 2, 0.1, spec)).continue).toBe(true); // best so far 0.85 > median(0.9, 0.75, 0.6) = 0.75
    expect(medianRule([0.9, 0.75, 0.6], 0.85, 2, true).continue).toBe(true);
    // the last epoch is never a rung
    expect(await s.report('d', 5, 0.1, spec)).toEqual({ continue: true, rung: null });
  });

  test('trialValues: the values a trial recorded at each rung it reached, in one round trip', async () => {
    const spec = hyperband(); // rungs at epochs 1 and 3 of 9
    const s = store();
    await s.report('a', 1, 0.5, spec);
    await s.report('b', 1, 0.6, spec);
    await s.report('a', 2, 0.55, spec); // not a rung: not stored
    await s.report('a', 3, 0.7, spec);
    await s.report('a', 9, 0.8, spec); // the last epoch: not stored
    expect(await s.trialValues('a', spec)).toEqual({ 1: 0.5, 3: 0.7 });
    expect(await s.trialValues('b', spec)).toEqual({ 1: 0.6 });
    expect(await s.trialValues('nobody', spec)).toEqual({});
    expect(await s.trialValues('a', validateSpec({ method: 'grid', parameters: {} }))).toEqual({});
    // median: the best value so far at each epoch from min_iter
    const median = validateSpec({ method: 'random', run_cap: 10, parameters: { epochs: { value: 5 } }, early_terminate: { type: 'median', min_iter: 2, warmup_trials: 2 } });
    const m = store();
    for (const [e, v] of [[1, 0.9], [2, 0.8], [3, 0.95], [4, 0.7]] as const) await m.report('a', e, v, median);
    expect(await m.trialValues('a', median)).toEqual({ 2: 0.9, 3: 0.95, 4: 0.95 });
  });

  test('no early_terminate: always continue; bad input is rejected', async () => {
    const s = store();
    const plain = validateSpec({ method: 'grid', parameters: {} });
    expect(await s.report('a', 1, 0.1, plain)).toEqual({ continue: true, rung: null });
    await expect(s.report('a', 0, 0.1, hyperband())).rejects.toThrow(RangeError);
    await expect(s.report('a', 1, Number.NaN, hyperband())).rejects.toThrow(RangeError);
  });
});
