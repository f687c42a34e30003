import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  deserializeModel,
  getOptimizerState,
  initBackend,
  LAZY_CONFIG_KEY,
  LazyAdamOptimizer,
  ModelError,
  serializeModel,
  setOptimizerState,
  tf,
  trainModel,
} from '../src/index.js';
import { wasmAdam, wasmAdamStatus } from '@sweepq/kernels';
import { forcePublicWasmPath } from '@sweepq/kernels/testing';
import { buildModelWith, deserializeModelWith } from '../src/testing.js';
import { TINY, separable } from './helpers.js';

const ROWS = 7;
const COLS = 3;
/** Rows with a gradient at every step, rows never touched, and one row touched on odd steps only. */
const ALWAYS = [0, 2, 5];
const NEVER = [1, 3, 4];
const SOMETIMES = 6;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/** Gradients of step `k`: a sparse one for the table, a dense one for the other variable. */
function gradsAt(k: number): { table: tf.Tensor2D; other: tf.Tensor1D } {
  const rand = lcg(100 + k);
  const g = new Float32Array(ROWS * COLS);
  for (const r of ALWAYS) for (let c = 0; c < COLS; c++) g[r * COLS + c] = rand();
  if (k % 2 === 1) for (let c = 0; c < COLS; c++) g[SOMETIMES * COLS + c] = rand();
  return { table: tf.tensor2d(g, [ROWS, COLS]), other: tf.tensor1d([rand(), rand(), rand(), rand()]) };
}

interface Setup {
  table: tf.Variable;
  other: tf.Variable;
  opt: tf.Optimizer;
}

let uid = 0;
function setup(lazy: boolean): Setup {
  const rand = lcg(7);
  const n = ++uid;
  const table = tf.tidy(() => tf.variable(tf.tensor2d(Float32Array.from({ length: ROWS * COLS }, rand), [ROWS, COLS]), true, `lazyTest${n}/table`));
  const other = tf.tidy(() => tf.variable(tf.tensor1d([0.1, -0.2, 0.3, -0.4]), true, `lazyTest${n}/other`));
  const opt = lazy ? new LazyAdamOptimizer(0.01, 0.9, 0.999, null, [table.name]) : tf.train.adam(0.01);
  return { table, other, opt };
}

function step(s: Setup, k: number): void {
  const g = gradsAt(k);
  s.opt.applyGradients([
    { name: s.table.name, tensor: g.table },
    { name: s.other.name, tensor: g.other },
  ]);
  tf.dispose([g.table, g.other]);
}

function rowsOf(t: tf.Tensor, rows: number[]): number[] {
  const v = t.dataSync();
  return rows.flatMap((r) => Array.from(v.subarray(r * COLS, (r + 1) * COLS)));
}

async function momentsOf(opt: tf.Optimizer): Promise<Map<string, tf.Tensor>> {
  const named = await opt.getWeights();
  return new Map(named.map((n) => [n.name.replace(/^lazyTest\d+\//, ''), n.tensor]));
}

function dispose(s: Setup): void {
  s.opt.dispose();
  tf.dispose([s.table, s.other]);
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`LazyAdamOptimizer on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
    });

    it('matches dense Adam exactly on rows touched every step and on other variables; leaves untouched rows alone', async () => {
      const dense = setup(false);
      const lazy = setup(true);
      const init = Array.from(lazy.table.dataSync());
      for (let k = 0; k < 5; k++) {
        step(dense, k);
        step(lazy, k);
      }
      expect(rowsOf(lazy.table, ALWAYS)).toEqual(rowsOf(dense.table, ALWAYS));
      expect(Array.from(lazy.other.dataSync())).toEqual(Array.from(dense.other.dataSync()));
      expect(rowsOf(lazy.table, NEVER)).toEqual(NEVER.flatMap((r) => init.slice(r * COLS, (r + 1) * COLS)));
      // The sometimes-touched row moved, but not as dense Adam moved it (dense also steps it on untouched steps).
      expect(rowsOf(lazy.table, [SOMETIMES])).not.toEqual(init.slice(SOMETIMES * COLS, (SOMETIMES + 1) * COLS));
      expect(rowsOf(lazy.table, [SOMETIMES])).not.toEqual(rowsOf(dense.table, [SOMETIMES]));
      const dm = await momentsOf(dense.opt);
      const lm = await momentsOf(lazy.opt);
      expect([...lm.keys()]).toEqual([...dm.keys()]);
      for (const slot of ['table/m', 'table/v']) {
        expect(rowsOf(lm.get(slot)!, ALWAYS)).toEqual(rowsOf(dm.get(slot)!, ALWAYS));
        expect(rowsOf(lm.get(slot)!, NEVER).every((v) => v === 0)).toBe(true);
      }
      for (const m of [dm, lm]) tf.dispose([...m.values()].filter((t) => !(t instanceof tf.Variable)));
      dispose(dense);
      dispose(lazy);
    });

    it('resumes through getWeights/setWeights (same slot names and shapes as dense Adam) to the same values', async () => {
      const full = setup(true);
      for (let k = 0; k < 4; k++) step(full, k);

      const first = setup(true);
      for (let k = 0; k < 2; k++) step(first, k);
      const saved = await first.opt.getWeights();
      const copies = saved.map((n) => ({ name: n.name, tensor: n.tensor.clone() }));
      const values = { table: first.table.clone(), other: first.other.clone() };
      dispose(first);

      // A fresh optimizer restored by position, as the worker does from a checkpoint.
      const resumed = setup(true);
      resumed.table.assign(values.table);
      resumed.other.assign(values.other);
      await resumed.opt.setWeights(copies);
      expect((await resumed.opt.getWeights()).map((n) => n.tensor.shape)).toEqual(saved.map((n) => n.tensor.shape));
      for (let k = 2; k < 4; k++) step(resumed, k);
      const a = Array.from(full.table.dataSync());
      const b = Array.from(resumed.table.dataSync());
      // setWeights recomputes Adam's bias-correction powers with pow (tfjs behaviour): last-bit differences only.
      a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 6));
      for (const r of NEVER) expect(b.slice(r * COLS, (r + 1) * COLS)).toEqual(a.slice(r * COLS, (r + 1) * COLS));
      tf.dispose([...copies.map((c) => c.tensor), values.table, values.other]);
      for (const n of saved) if (!(n.tensor instanceof tf.Variable)) n.tensor.dispose();
      dispose(full);
      dispose(resumed);
    });

    it('does not leak tensors', () => {
      const start = tf.memory().numTensors;
      const s = setup(true);
      step(s, 0);
      // Two variables, Adam's two bias-correction scalars, four moment slots.
      expect(tf.memory().numTensors).toBe(start + 8);
      for (let k = 1; k < 6; k++) step(s, k);
      // A step that touches no row of the table, and one that touches all of them.
      const zeros = tf.zeros([ROWS, COLS]);
      const ones = tf.ones([ROWS, COLS]);
      s.opt.applyGradients([{ name: s.table.name, tensor: zeros }]);
      s.opt.applyGradients([{ name: s.table.name, tensor: ones }]);
      tf.dispose([zeros, ones]);
      expect(tf.memory().numTensors).toBe(start + 8);
      dispose(s);
      expect(tf.memory().numTensors).toBe(start);
    });
  });
}

describe('embeddingOptimizer in buildModelWith and deserializeModelWith', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('defaults to lazy Adam for the embedding with adam, dense otherwise, and rejects lazy without adam', () => {
    const lazy = buildModel(TINY);
    expect(lazy.optimizer).toBeInstanceOf(LazyAdamOptimizer);
    expect((lazy.optimizer as LazyAdamOptimizer).lazyVariables).toEqual([(lazy.layers[0]!.trainableWeights[0]!.read() as tf.Variable).name]);
    expect(lazy.optimizer.getClassName()).toBe('Adam');
    const dense = buildModelWith(TINY, { embeddingOptimizer: 'dense' });
    expect(dense.optimizer).not.toBeInstanceOf(LazyAdamOptimizer);
    expect(dense.optimizer.getClassName()).toBe('Adam');
    const sgd = buildModel({ ...TINY, optimizer: 'sgd' });
    expect(sgd.optimizer).not.toBeInstanceOf(LazyAdamOptimizer);
    expect(() => buildModelWith({ ...TINY, optimizer: 'sgd' }, { embeddingOptimizer: 'lazy' })).toThrow(ModelError);
    for (const m of [lazy, dense, sgd]) {
      m.optimizer.dispose();
      m.dispose();
    }
  });

  it('is recorded in the saved Adam config and restored on load (stock tfjs ignores the key)', async () => {
    const train = separable(32, TINY.maxLen, TINY.maxWords, 3);
    const model = buildModel(TINY);
    await trainModel({ model, train, validation: train, epochs: 1, batchSize: 16, seed: 1 });
    const files = await serializeModel(model);
    const cfg = (files.modelJson['trainingConfig'] as { optimizer_config: { class_name: string; config: Record<string, unknown> } }).optimizer_config;
    expect(cfg.class_name).toBe('Adam');
    expect(cfg.config[LAZY_CONFIG_KEY]).toBe('lazy');
    const state = await getOptimizerState(model);

    const loaded = await deserializeModel(files);
    expect(loaded.optimizer).toBeInstanceOf(LazyAdamOptimizer);
    await setOptimizerState(loaded, state);
    const overridden = await deserializeModelWith(files, { embeddingOptimizer: 'dense' });
    expect(overridden.optimizer).not.toBeInstanceOf(LazyAdamOptimizer);
    const stock = await deserializeModelWith(files, { lstmImplementation: 'stock', embeddingOptimizer: 'dense' });
    expect(stock.optimizer.getConfig()['learningRate']).toBe(TINY.learningRate);
    const before = tf.memory().numTensors;
    await trainModel({ model: loaded, train, validation: train, epochs: 2, startEpoch: 1, batchSize: 16, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    model.optimizer.dispose();
    for (const m of [model, loaded, overridden, stock]) m.dispose();
  });
});

describe('LazyAdamOptimizer in-place wasm kernel (adam-wasm.ts)', () => {
  // Not multiples of 4 (vector and scalar parts of the kernel); rows 0 mod 5 never touched, row 3 gets a -0 only.
  const R = 23;
  const C = 13;
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterEach(() => {
    forcePublicWasmPath(false);
  });

  function grads(k: number, nanRow: boolean): { table: tf.Tensor2D; other: tf.Tensor1D } {
    const rand = lcg(500 + k);
    const g = new Float32Array(R * C);
    for (let r = 0; r < R; r++) {
      if (r % 5 === 0 || (r % 3 === 1 && k % 2 === 0)) continue;
      // Magnitudes over many binades, so that rounding differences would show.
      for (let c = 0; c < C; c++) g[r * C + c] = rand() * 10 ** ((r % 7) - 4);
    }
    g[3 * C + 5] = -0;
    if (nanRow) g[7 * C + 2] = Number.NaN;
    return { table: tf.tensor2d(g, [R, C]), other: tf.tensor1d(Float32Array.from({ length: 6 }, rand)) };
  }

  function run(fast: boolean, nanRow: boolean, keepView: boolean): { values: number[][]; kept: number[] | null } {
    forcePublicWasmPath(!fast);
    const rand = lcg(9);
    const n = ++uid;
    const table = tf.tidy(() => tf.variable(tf.tensor2d(Float32Array.from({ length: R * C }, rand), [R, C]), true, `lazyWasm${n}/table`));
    const other = tf.tidy(() => tf.variable(tf.tensor1d(Float32Array.from({ length: 6 }, rand)), true, `lazyWasm${n}/other`));
    const opt = new LazyAdamOptimizer(0.003, 0.9, 0.999, null, [table.name]);
    // A reshape shares the table's memory: an in-place update must not change it.
    const view = keepView ? tf.reshape(table, [R * C]) : null;
    const initial = view == null ? null : Array.from(view.dataSync());
    for (let k = 0; k < 4; k++) {
      const g = grads(k, nanRow && k === 2);
      opt.applyGradients([
        { name: table.name, tensor: g.table },
        { name: other.name, tensor: g.other },
      ]);
      tf.dispose([g.table, g.other]);
    }
    const moments = (opt as unknown as { accumulatedFirstMoment: Array<{ variable: tf.Variable }>; accumulatedSecondMoment: Array<{ variable: tf.Variable }> });
    const values = [table, other, ...moments.accumulatedFirstMoment.map((s) => s.variable), ...moments.accumulatedSecondMoment.map((s) => s.variable)].map((t) =>
      Array.from(t.dataSync()),
    );
    const kept = view == null ? null : Array.from(view.dataSync());
    if (view != null) expect(kept).toEqual(initial);
    view?.dispose();
    opt.dispose();
    tf.dispose([table, other]);
    return { values, kept };
  }

  it('is in use on wasm and gives bit-identical variables and moments to the tfjs-op path', () => {
    expect(wasmAdamStatus()).toEqual({ ok: true });
    expect(wasmAdam()).not.toBeNull();
    forcePublicWasmPath(true);
    expect(wasmAdam()).toBeNull();
    forcePublicWasmPath(false);
    for (const nanRow of [false, true]) {
      const slow = run(false, nanRow, false);
      const fast = run(true, nanRow, false);
      fast.values.forEach((v, i) => expect(v, `tensor ${i} (NaN row: ${nanRow})`).toEqual(slow.values[i]));
    }
  });

  it('updates a variable whose memory another tensor shares in a copy (the other tensor keeps its values), without leaks', () => {
    let before = tf.memory().numTensors;
    const slow = run(false, false, true);
    const slowDelta = tf.memory().numTensors - before;
    before = tf.memory().numTensors;
    const fast = run(true, false, true);
    expect([tf.memory().numTensors - before, slowDelta]).toEqual([0, 0]);
    fast.values.forEach((v, i) => expect(v, `tensor ${i}`).toEqual(slow.values[i]));
  });
});
