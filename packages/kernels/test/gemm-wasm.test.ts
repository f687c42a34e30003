import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { setFastPathWarningSink } from '../src/fast-kernels.js';
import { forceTfjsMatmuls, gemmStatus, heapGemm, initGemm, relaxedSimdSupported, type Gemm } from '../src/gemm-wasm.js';
import { enableRelaxedSimd, useBackend } from './helpers.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

const addrOf = (t: tf.Tensor): number =>
  (tf.backend() as unknown as { dataIdMap: { get(id: object): { memoryOffset: number } } }).dataIdMap.get(t.dataId).memoryOffset;

/**
 * `C (+)= A·B` (or `Aᵀ·B` with A stored `[K, M]`) by the own matmul over tensors on the tfjs heap, against float64 loops;
 * the largest difference relative to the largest reference value.
 */
function check(g: Gemm, M: number, N: number, K: number, trans: boolean, add: boolean, seed: number): number {
  const rand = lcg(seed);
  const av = Float32Array.from({ length: M * K }, rand);
  const bv = Float32Array.from({ length: K * N }, rand);
  const cv = Float32Array.from({ length: M * N }, rand);
  const [a, b, c] = [tf.tensor1d(av), tf.tensor1d(bv), tf.tensor1d(cv)];
  (trans ? g.tn : g.nn)(M, N, K, addrOf(a), 4 * (trans ? M : K), addrOf(b), 4 * N, addrOf(c), 4 * N, add);
  const got = c.dataSync();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = add ? cv[i * N + j]! : 0;
      for (let k = 0; k < K; k++) s += av[trans ? k * M + i : i * K + k]! * bv[k * N + j]!;
      diff = Math.max(diff, Math.abs(got[i * N + j]! - s));
      scale = Math.max(scale, Math.abs(s));
    }
  }
  tf.dispose([a, b, c]);
  return diff / scale;
}

// The fused op's products at the seed shape (T·B = 3200, D = H = 64) and at shapes with row, column and K-chunk tails.
const SHAPES: Array<[string, number, number, number, boolean]> = [
  ['input projection', 3200, 256, 64, false],
  ['recurrent step', 32, 256, 64, false],
  ['backward recurrent step', 32, 64, 256, false],
  ['input gradient', 3200, 64, 256, false],
  ['kernel gradient (transposed A)', 64, 256, 3200, true],
  ['tails', 7, 12, 5, false],
  ['tails, transposed A', 9, 20, 300, true],
  ['single row and column tile', 1, 4, 1, false],
  // Column counts not multiples of 4 (a 50-unit or 30-wide layer): the last N mod 4 columns are summed in JS.
  ['column tail', 13, 50, 30, false],
  ['column tail, transposed A', 30, 6, 40, true],
  ['columns in the tail only', 5, 3, 7, false],
];

describe('own wasm matmul', () => {
  beforeAll(async () => {
    await enableRelaxedSimd();
    await useBackend('wasm');
  });
  afterAll(async () => {
    forceTfjsMatmuls(false);
    await initGemm({ reinit: true });
  });

  it('detects relaxed SIMD where the engine has it (here, with the flag on Node 20)', async () => {
    expect(await relaxedSimdSupported()).toBe(true);
  });

  for (const edition of ['relaxed', 'simd'] as const) {
    it(`${edition} edition: matches float64 loops on the LSTM's shapes and tails, overwriting and accumulating`, async () => {
      const s = await initGemm({ reinit: true, plainSimd: edition === 'simd' });
      expect(s).toEqual({ ok: true });
      expect(gemmStatus()).toEqual({ ok: true, kind: edition });
      const g = heapGemm();
      expect(g?.kind).toBe(edition);
      const before = tf.memory().numTensors;
      SHAPES.forEach(([name, M, N, K, trans], i) => {
        for (const add of [false, true]) expect(check(g!, M, N, K, trans, add, i * 7 + (add ? 1 : 0)), `${name}${add ? ' (add)' : ''}`).toBeLessThan(1e-5);
      });
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  for (const edition of ['relaxed', 'simd'] as const) {
    it(`${edition} edition: an overflowing result is NaN, as with separate multiplies and adds`, async () => {
      await initGemm({ reinit: true, plainSimd: edition === 'simd' });
      const g = heapGemm()!;
      expect(g.kind).toBe(edition);
      // Row [1e30, 1e30] times columns (1e30, -1e30) and (1e30, 1e30): Inf - Inf, and Inf.
      const a = tf.tensor1d([1e30, 1e30]);
      const b = tf.tensor1d([1e30, 1e30, 1e30, 1e30, -1e30, 1e30, -1e30, 1e30]);
      const c = tf.zeros([4]);
      g.nn(1, 4, 2, addrOf(a), 8, addrOf(b), 16, addrOf(c), 16, false);
      expect(Array.from(c.dataSync())).toEqual([Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
      // Finite results are untouched (here accumulated onto d).
      const d = tf.tensor1d([1, 2, 3, 4]);
      const e = tf.tensor1d([1e-30, 0, 0, 1e-30, 0, 0, 0, 0]);
      g.nn(1, 4, 2, addrOf(a), 8, addrOf(e), 16, addrOf(d), 16, true);
      expect(Array.from(d.dataSync())).toEqual([2, 2, 3, 5]);
      tf.dispose([a, b, c, d, e]);
    });
  }

  it('is not offered off the wasm backend or when forced off', async () => {
    await initGemm({ reinit: true });
    expect(heapGemm()).not.toBeNull();
    expect(forceTfjsMatmuls(true)).toBe(false);
    expect(heapGemm()).toBeNull();
    expect(gemmStatus()).toEqual({ ok: false, reason: 'tfjs matmuls forced' });
    forceTfjsMatmuls(false);
    await tf.setBackend('cpu');
    try {
      expect(heapGemm()).toBeNull();
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('stays off with a single warning when the module does not compile', async () => {
    const warnings: string[] = [];
    setFastPathWarningSink((m) => warnings.push(m));
    try {
      const s = await initGemm({ reinit: true, source: () => '(module (func $broken (i32.add)))' });
      expect(s.ok).toBe(false);
      await initGemm();
      expect(gemmStatus().ok).toBe(false);
      expect(heapGemm()).toBeNull();
      expect(warnings.filter((m) => m.includes('own wasm matmul'))).toHaveLength(1);
    } finally {
      setFastPathWarningSink((message) => process.emitWarning(message, { code: 'SWEEPQ_TFJS_INTERNALS' }));
      await initGemm({ reinit: true });
    }
    expect(gemmStatus().ok).toBe(true);
  });
});
