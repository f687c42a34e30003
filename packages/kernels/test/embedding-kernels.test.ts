import * as tf from '@tensorflow/tfjs';
import { useBackend } from './helpers.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TensorInfo } from '@tensorflow/tfjs';
import { registerEmbeddingKernels } from '../src/index.js';
import { stockKernel } from '../src/embedding-kernels.js';

interface Case {
  name: string;
  x: number[];
  xShape: number[];
  dtype: 'float32' | 'int32';
  ids: number[];
  idsShape: number[];
  numSegments: number;
}

function randomCase(name: string, seed: number, xShape: number[], idsRank: number, dtype: 'float32' | 'int32', numSegments: number): Case {
  let s = seed;
  const rand = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const size = xShape.reduce((a, b) => a * b, 1);
  const idsShape = xShape.slice(0, idsRank);
  const idsSize = idsShape.reduce((a, b) => a * b, 1);
  const x = Array.from({ length: size }, () => (dtype === 'int32' ? Math.floor(rand() * 200) - 100 : (rand() - 0.5) * 1e3 * rand()));
  // Includes negative and out-of-range ids, which the stock kernel drops.
  const ids = Array.from({ length: idsSize }, () => Math.floor(rand() * (numSegments + 4)) - 2);
  return { name, x, xShape, dtype, ids, idsShape, numSegments };
}

const CASES: Case[] = [
  { name: 'doc example', x: [1, 2, 3, 4], xShape: [4], dtype: 'float32', ids: [1, 2, 0, 1], idsShape: [4], numSegments: 3 },
  { name: 'int32 with dropped ids', x: [1, 2, 3, 4, 5, 6, 7, 8], xShape: [4, 2], dtype: 'int32', ids: [0, -1, 2, 5], idsShape: [4], numSegments: 3 },
  randomCase('float32 embedding grad shape', 1, [37, 5], 1, 'float32', 11),
  randomCase('int32 2-d', 2, [20, 3], 1, 'int32', 7),
  randomCase('float32 3-d x, 1-d ids', 3, [9, 4, 3], 1, 'float32', 5),
  randomCase('float32 2-d ids (stock elementwise semantics)', 4, [8, 3], 2, 'float32', 4),
  randomCase('int32 3-d x, 3-d ids', 5, [6, 2, 3], 3, 'int32', 3),
  randomCase('many rows into few segments (accumulation order)', 6, [500, 2], 1, 'float32', 3),
  { name: 'negative zero (a segment of only -0 sums to +0)', x: [-0, 1, -0, 2], xShape: [4], dtype: 'float32', ids: [0, 1, 0, 1], idsShape: [4], numSegments: 3 },
  randomCase('the same shape again after others (reused buffers)', 1, [37, 5], 1, 'float32', 11),
];

function stockCpu(c: Case): { values: Float32Array; shape: number[]; dtype: string } {
  const stock = stockKernel('cpu');
  if (stock == null) throw new Error('stock cpu kernel was not kept');
  const x = tf.tensor(c.x, c.xShape, c.dtype);
  const ids = tf.tensor(c.ids, c.idsShape, 'int32');
  const info = stock.kernelFunc({ inputs: { x, segmentIds: ids }, attrs: { numSegments: c.numSegments }, backend: tf.backend() }) as TensorInfo;
  const out = tf.engine().makeTensorFromTensorInfo(info);
  const result = { values: out.dataSync() as Float32Array, shape: out.shape, dtype: out.dtype };
  tf.dispose([x, ids, out]);
  return result;
}

function ours(c: Case): { values: Float32Array; shape: number[]; dtype: string } {
  const x = tf.tensor(c.x, c.xShape, c.dtype);
  const ids = tf.tensor(c.ids, c.idsShape, 'int32');
  const out = tf.unsortedSegmentSum(x, ids as tf.Tensor1D, c.numSegments);
  const result = { values: out.dataSync() as Float32Array, shape: out.shape, dtype: out.dtype };
  tf.dispose([x, ids, out]);
  return result;
}

describe('UnsortedSegmentSum scatter-add kernel', () => {
  beforeAll(async () => {
    // Loads and registers the wasm backend, then leaves cpu active.
    await useBackend('wasm');
    await useBackend('cpu');
  });

  it('replaces the stock cpu kernel once and keeps it', () => {
    const stock = stockKernel('cpu');
    expect(stock).toBeDefined();
    registerEmbeddingKernels();
    expect(stockKernel('cpu')).toBe(stock);
    expect(tf.getKernel('UnsortedSegmentSum', 'cpu')).not.toBe(stock);
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
    // wasm ships none: nothing to keep.
    expect(stockKernel('wasm')).toBeUndefined();
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    describe(`on ${backend}`, () => {
      for (const c of CASES) {
        it(`matches the stock cpu kernel bit for bit: ${c.name}`, async () => {
          await tf.setBackend('cpu');
          const expected = stockCpu(c);
          await tf.setBackend(backend);
          const actual = ours(c);
          expect(actual.shape).toEqual(expected.shape);
          expect(actual.dtype).toBe(expected.dtype);
          expect(Array.from(actual.values)).toEqual(Array.from(expected.values));
        });
      }

      it('rejects ids whose rank is neither 1 nor the rank of x (stock expands them at the wrong axis)', async () => {
        await tf.setBackend(backend);
        const x = tf.zeros([6, 2, 3]);
        const ids = tf.zeros([6, 2], 'int32');
        expect(() => tf.unsortedSegmentSum(x, ids as tf.Tensor1D, 3)).toThrow(/1-d or have the rank of x/);
        tf.dispose([x, ids]);
      });

      it('gives the embedding gather gradient', async () => {
        await tf.setBackend(backend);
        const before = tf.memory().numTensors;
        const table = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
        const idx = tf.tensor1d([3, 0, 3, 1, 3], 'int32');
        const dy = tf.tensor2d([1, 1, 2, 2, 3, 3, 4, 4, 5, 5], [5, 2]);
        const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), dy)))(table);
        expect(Array.from(grad.dataSync())).toEqual([2, 2, 4, 4, 0, 0, 9, 9]);
        tf.dispose([table, idx, dy, grad]);
        expect(tf.memory().numTensors).toBe(before);
      });
    });
  }
});
