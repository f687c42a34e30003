import * as tf from '@tensorflow/tfjs';
import { useBackend } from './helpers.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { fastKernelsRegistered, PINNED_TFJS_VERSION, registerFastKernels, wasmFastPathStatus, wasmInternalsStatus } from '../src/index.js';
import { forcePublicWasmPath, unregisterFastKernels } from '../src/testing.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function rand(shape: number[], seed: number): tf.Tensor {
  const r = lcg(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() - 0.5), shape);
}

/** Run `f` with the stock wasm kernels and with sweepq's, returning both results' values and shapes. */
function both(f: () => tf.Tensor): { stock: { v: number[]; s: number[] }; fast: { v: number[]; s: number[] } } {
  const grab = (): { v: number[]; s: number[] } => {
    const t = f();
    const out = { v: Array.from(t.dataSync()), s: t.shape };
    t.dispose();
    return out;
  };
  unregisterFastKernels();
  const stock = grab();
  expect(registerFastKernels()).toBe(true);
  const fast = grab();
  return { stock, fast };
}

describe('wasm fast paths: version pin and guard', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it(`are active on the pinned tfjs version (${PINNED_TFJS_VERSION}); fails when tfjs is upgraded, so the internals get re-checked`, () => {
    expect(tf.version.tfjs).toBe(PINNED_TFJS_VERSION);
    expect(wasmInternalsStatus(tf.backend())).toEqual({ ok: true });
    expect(wasmFastPathStatus()).toEqual({ ok: true });
    expect(fastKernelsRegistered()).toBe(true);
  });

  it('refuses another tfjs version or a backend whose members changed, naming the reason', () => {
    expect(wasmInternalsStatus(tf.backend(), '4.23.0')).toMatchObject({ ok: false, reason: expect.stringMatching(/4\.23\.0.*4\.22\.0/) });
    const { typedArrayFromHeap: _, ...changed } = Object.assign(Object.create(null), tf.backend(), { makeOutput: () => 0, disposeData: () => 0 }) as Record<string, unknown>;
    expect(wasmInternalsStatus(changed)).toMatchObject({ ok: false, reason: expect.stringMatching(/typedArrayFromHeap/) });
    expect(wasmInternalsStatus(undefined)).toMatchObject({ ok: false });
  });

  it('can be forced off, naming why, and come back', () => {
    expect(forcePublicWasmPath(true)).toBe(false);
    try {
      expect(wasmFastPathStatus()).toEqual({ ok: false, reason: 'public path forced' });
    } finally {
      forcePublicWasmPath(false);
    }
    expect(wasmFastPathStatus()).toEqual({ ok: true });
  });
});

describe('replacement wasm kernels match the stock ones', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  const sliceCases: Array<{ shape: number[]; begin: number[]; size: number[] }> = [
    { shape: [100, 32, 8], begin: [7, 0, 0], size: [1, -1, -1] },
    { shape: [32, 100, 8], begin: [0, 7, 0], size: [-1, 1, -1] },
    { shape: [5, 6, 7], begin: [1, 2, 3], size: [3, 2, 4] },
    { shape: [9, 4], begin: [2, 1], size: [5, 2] },
    { shape: [2, 3, 4, 5], begin: [1, 0, 2, 1], size: [1, 3, 2, 3] },
    { shape: [12], begin: [3], size: [0] },
  ];
  for (const c of sliceCases) {
    it(`Slice [${c.shape.join(',')}] from [${c.begin.join(',')}] size [${c.size.join(',')}]`, () => {
      const x = rand(c.shape, 3);
      const r = both(() => tf.slice(x, c.begin, c.size));
      expect(r.fast).toEqual(r.stock);
      x.dispose();
    });
  }

  for (const [shape, axes] of [
    [[32, 100, 64], [1]],
    [[100, 32, 64], [0]],
    [[4, 5, 6], [2]],
    [[4, 5, 6], [-1]],
    [[7], [0]],
    [[3, 4, 5], [0, 2]],
  ] as Array<[number[], number[]]>) {
    it(`Reverse [${shape.join(',')}] along ${axes.join(', ')} (several axes via the stock kernel), and its gradient`, () => {
      const x = rand(shape, 5);
      expect(both(() => tf.reverse(x, axes)).fast).toEqual(both(() => tf.reverse(x, axes)).stock);
      const w = rand(shape, 6);
      const g = both(() => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.reverse(v, axes), w)))(x));
      expect(g.fast).toEqual(g.stock);
      tf.dispose([x, w]);
    });
  }

  it('Reverse with no axis (all of them) goes to the stock kernel; an axis out of range is refused', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(Array.from(tf.reverse(x).dataSync())).toEqual([6, 5, 4, 3, 2, 1]);
    expect(Array.from(tf.reverse(tf.tensor1d([1, 2, 3])).dataSync())).toEqual([3, 2, 1]);
    expect(() => tf.reverse(x, 5)).toThrow();
    x.dispose();
  });

  it('Reverse of int32', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
    const r = both(() => tf.reverse(x, 1));
    expect(r.fast).toEqual(r.stock);
    x.dispose();
  });

  it('Slice of int32', () => {
    const x = tf.tensor2d(Int32Array.from({ length: 20 }, (_, i) => i * 3), [4, 5], 'int32');
    const r = both(() => tf.slice(x, [1, 1], [2, 3]));
    expect(r.fast).toEqual(r.stock);
    x.dispose();
  });

  it('Transpose: identity permutations share the input (no copy), others via the stock kernel', () => {
    const x = rand([4, 3, 2], 8);
    for (const perm of [
      [0, 1, 2],
      [2, 0, 1],
      [1, 0, 2],
    ]) {
      const r = both(() => tf.transpose(x, perm));
      expect(r.fast).toEqual(r.stock);
    }
    const before = tf.memory().numDataBuffers;
    const y = tf.transpose(x, [0, 1, 2]);
    expect(y.dataId).toBe(x.dataId);
    expect(tf.memory().numDataBuffers).toBe(before);
    x.dispose();
    // The shared data outlives the input's disposal.
    expect(Array.from(y.dataSync())).toHaveLength(24);
    const again = rand([4, 3, 2], 8);
    expect(Array.from(y.dataSync())).toEqual(Array.from(again.dataSync()));
    tf.dispose([y, again]);
  });

  it('GatherV2 on axis 0 (embedding lookup), and other axes via the stock kernel', () => {
    const table = rand([50, 6], 4);
    const ids = tf.tensor2d(Int32Array.from({ length: 24 }, (_, i) => (i * 7) % 50), [4, 6], 'int32');
    const r0 = both(() => tf.gather(table, ids));
    expect(r0.fast).toEqual(r0.stock);
    const r1 = both(() => tf.gather(table, tf.tensor1d([5, 0, 5], 'int32'), 1));
    expect(r1.fast).toEqual(r1.stock);
    expect(() => tf.gather(table, tf.tensor1d([50], 'int32'))).toThrow(/not in \[0, 49\]/);
    tf.dispose([table, ids]);
  });

  for (const [ta, tb] of [
    [true, false],
    [false, true],
    [true, true],
    [false, false],
  ] as const) {
    it(`BatchMatMul transposeA=${ta} transposeB=${tb}, 2-d and batched`, () => {
      const a = rand(ta ? [7, 5] : [5, 7], 5);
      const b = rand(tb ? [3, 7] : [7, 3], 6);
      const r = both(() => tf.matMul(a, b, ta, tb));
      expect(r.fast.s).toEqual(r.stock.s);
      r.fast.v.forEach((v, i) => expect(v).toBeCloseTo(r.stock.v[i]!, 5));
      const a3 = rand(ta ? [2, 7, 5] : [2, 5, 7], 7);
      const b3 = rand(tb ? [2, 3, 7] : [2, 7, 3], 8);
      const r3 = both(() => tf.matMul(a3, b3, ta, tb));
      expect(r3.fast.s).toEqual(r3.stock.s);
      r3.fast.v.forEach((v, i) => expect(v).toBeCloseTo(r3.stock.v[i]!, 5));
      tf.dispose([a, b, a3, b3]);
    });
  }

  it('does not leak heap tensors', () => {
    const x = rand([4, 5, 6], 9);
    const before = tf.memory().numTensors;
    const dataIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    tf.tidy(() => {
      tf.slice(x, [1, 0, 0], [2, -1, -1]);
      tf.matMul(tf.reshape(x, [20, 6]), tf.reshape(x, [20, 6]), true, false);
      tf.gather(tf.reshape(x, [20, 6]), tf.tensor1d([1, 2], 'int32'));
    });
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataIds);
    x.dispose();
  });
});
