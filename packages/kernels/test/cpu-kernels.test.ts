import * as tf from '@tensorflow/tfjs';
import { useBackend } from './helpers.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFastCpuKernels } from '../src/index.js';
import { unregisterFastCpuKernels } from '../src/testing.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Run `f` with the stock cpu kernels and with sweepq's, returning both results as arrays plus shapes. */
function both(f: () => tf.Tensor): Array<{ shape: number[]; values: number[]; dtype: string }> {
  const run = (): { shape: number[]; values: number[]; dtype: string } => {
    const t = f();
    const r = { shape: t.shape, values: Array.from(t.dataSync()), dtype: t.dtype };
    t.dispose();
    return r;
  };
  unregisterFastCpuKernels();
  const a = run();
  registerFastCpuKernels();
  const b = run();
  return [a, b];
}

describe('fast cpu kernels match the stock ones', () => {
  const x = tf.tensor(Float32Array.from({ length: 5 * 3 * 4 }, (_, i) => i * 0.5 - 7), [5, 3, 4]);
  const xi = tf.tensor(Int32Array.from({ length: 6 * 2 }, (_, i) => i - 3), [6, 2], 'int32');

  it('GatherV2 on axis 0 (float32 and int32, 1-d and 2-d indices) and other axes', () => {
    const cases: Array<() => tf.Tensor> = [
      () => tf.gather(x, tf.tensor1d([4, 0, 0, 2], 'int32')),
      () => tf.gather(x, tf.tensor2d([[1, 3], [3, 1]], [2, 2], 'int32')),
      () => tf.gather(xi, tf.tensor1d([5, 1], 'int32')),
      () => tf.gather(x, tf.tensor1d([2, 0], 'int32'), 1),
      () => tf.gather(x, tf.tensor1d([], 'int32')),
    ];
    for (const c of cases) {
      const [a, b] = both(() => tf.tidy(c));
      expect(b).toEqual(a);
    }
    expect(() => tf.tidy(() => tf.gather(x, tf.tensor1d([5], 'int32')))).toThrow(/index/);
  });

  it('Transpose of rank 2 and every rank-3 permutation, int32, and identity', () => {
    const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for (const p of perms) {
      const [a, b] = both(() => tf.transpose(x, p));
      expect(b).toEqual(a);
    }
    for (const f of [() => tf.transpose(xi), () => tf.transpose(tf.reshape(x, [15, 4]))]) {
      const [a, b] = both(() => tf.tidy(f));
      expect(b).toEqual(a);
    }
  });

  it('does not leak tensors', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.gather(x, tf.tensor1d([1, 2], 'int32'));
      tf.transpose(x, [2, 0, 1]);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
