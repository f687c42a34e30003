import { beforeAll, describe, expect, it } from 'vitest';
import { LATENCY_RUNS, LATENCY_WARMUP, buildModel, initBackend, median, medianLatencyMs, paramCount, savedBytes, serializeModel } from '../src/index.js';
import { TINY } from './helpers.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('model costs (one owner for the worker and the tabular benchmark)', () => {
  it('savedBytes counts strings as UTF-8 and byte arrays as their length; median of odd and even lists', () => {
    expect(savedBytes(['{"a":1}', 'é', new Uint8Array(10), new Float32Array(3)])).toBe(7 + 2 + 10 + 12);
    expect(savedBytes([])).toBe(0);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/median of no values/);
  });

  it('paramCount is the layers-model count, and 4 bytes each in the saved weights', async () => {
    const model = buildModel(TINY);
    try {
      // Embedding 50 x 8, LSTM 4 gates x (8 x (8 + 8) + 8), Dense 8 x 2 + 2.
      expect(paramCount(model)).toBe(50 * 8 + 4 * (8 * 16 + 8) + 18);
      expect((await serializeModel(model)).weights.byteLength).toBe(4 * paramCount(model));
    } finally {
      model.dispose();
    }
  });

  it('medianLatencyMs encodes and classifies one input per call, warm-up calls untimed, inputs in turn', async () => {
    const model = buildModel(TINY);
    try {
      const seen: number[] = [];
      const ms = await medianLatencyMs(model, [1, 2, 3], (k) => {
        seen.push(k);
        return new Int32Array(TINY.maxLen).fill(k);
      });
      expect(ms).toBeGreaterThan(0);
      expect(seen).toHaveLength(LATENCY_WARMUP + LATENCY_RUNS);
      expect(seen.slice(0, 4)).toEqual([1, 2, 3, 1]);
      expect(await medianLatencyMs(model, ['a'], () => new Int32Array(TINY.maxLen), { warmup: 0, runs: 1 })).toBeGreaterThan(0);
      await expect(medianLatencyMs(model, [], () => new Int32Array(TINY.maxLen))).rejects.toThrow(/no inputs to classify/);
      await expect(medianLatencyMs(model, [1], () => new Int32Array(TINY.maxLen), { runs: 0 })).rejects.toThrow(/runs must be a positive integer, got 0/);
    } finally {
      model.dispose();
    }
  });
});
