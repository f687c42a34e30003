import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, FastDropout, fastDropout, initBackend, serializeModel, tf } from '../src/index.js';
import { dropoutMask } from '../src/fast-dropout.js';
import { buildModelWith } from '../src/testing.js';
import { TINY } from './helpers.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('FastDropout', () => {
  it('keeps about 1 - rate of the elements, scaled by 1 / (1 - rate), reproducibly for a seed', () => {
    const rate = 0.3;
    const m1 = dropoutMask([40, 500], rate, 1234);
    const v = m1.dataSync();
    const scale = Math.fround(1 / (1 - rate));
    let kept = 0;
    for (const x of v) {
      expect(x === 0 || x === scale).toBe(true);
      if (x !== 0) kept++;
    }
    expect(Math.abs(kept / v.length - (1 - rate))).toBeLessThan(0.02);
    const m2 = dropoutMask([40, 500], rate, 1234);
    const m3 = dropoutMask([40, 500], rate, 1235);
    expect(Array.from(m2.dataSync())).toEqual(Array.from(v));
    expect(Array.from(m3.dataSync())).not.toEqual(Array.from(v));
    tf.dispose([m1, m2, m3]);
  });

  it('drops in training only, honours noiseShape, and does not leak', () => {
    const layer = fastDropout({ rate: 0.5, noiseShape: [2, 1, 4], seed: 7 });
    const x = tf.ones([2, 3, 4]);
    const before = tf.memory().numTensors;
    const inf = layer.apply(x) as tf.Tensor;
    expect(Array.from(inf.dataSync())).toEqual(Array.from(x.dataSync()));
    const y = layer.call(x, { training: true }) as tf.Tensor;
    const yv = y.arraySync() as number[][][];
    for (const batch of yv) for (const row of batch) expect(row).toEqual(batch[0]);
    tf.dispose([inf, y]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('is used by the fused model and saved as the standard Dropout class', async () => {
    const fused = buildModel({ ...TINY, dropout: 0.2 });
    const stock = buildModelWith({ ...TINY, dropout: 0.2 }, { lstmImplementation: 'stock' });
    expect(fused.layers[1]).toBeInstanceOf(FastDropout);
    expect(stock.layers[1]).not.toBeInstanceOf(FastDropout);
    expect(fused.layers[1]!.getClassName()).toBe('Dropout');
    const files = await serializeModel(fused);
    const text = JSON.stringify(files.modelJson);
    expect(text).toContain('"class_name":"Dropout"');
    expect(text).not.toContain('Sweepq');
    fused.dispose();
    stock.dispose();
  });
});
