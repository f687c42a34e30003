import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FusedLSTM, fusedLstm, initBackend, tf } from '../src/index.js';
import { fusedRecurrent, fusedRecurrentAvailable, gemmStatus, initGemm, initRecurrentGates, recurrentGatesStatus, setFastPathWarningSink, type FusedRecurrentOptions } from '@sweepq/kernels';
import { forceJsGateMath, forcePublicWasmPath, forceTfjsMatmuls, MAX_OUTSTANDING_PASSES, releaseOutstandingPasses } from '@sweepq/kernels/testing';
import { enableRelaxedSimd, fixedMasks, lcg, maxRelDiff, relErr } from './helpers.js';

interface Shape {
  B: number;
  T: number;
  D: number;
  H: number;
}
type Act = 'sigmoid' | 'hardSigmoid';

const SHAPES: Shape[] = [
  { B: 3, T: 5, D: 4, H: 6 },
  { B: 1, T: 7, D: 3, H: 5 },
  { B: 4, T: 1, D: 5, H: 3 },
  { B: 2, T: 9, D: 6, H: 6 },
  // D and H multiples of 4: no column tails in the own wasm matmul (row tails: B·T not a multiple of 4; 4H = 16).
  { B: 5, T: 3, D: 8, H: 4 },
  { B: 3, T: 6, D: 4, H: 8 },
];
interface LayerOpts {
  units: number;
  act: Act;
  dropout: number;
  recurrentDropout: number;
}

function layerArgs(o: LayerOpts): Parameters<typeof tf.layers.lstm>[0] {
  return {
    units: o.units,
    recurrentActivation: o.act,
    dropout: o.dropout,
    recurrentDropout: o.recurrentDropout,
    unitForgetBias: true,
    kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    recurrentInitializer: tf.initializers.orthogonal({ gain: 1, seed: 2 }),
    biasInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: 3 }),
  };
}

type Forward = (x: tf.Tensor) => tf.Tensor;

/** Forward output and gradients (x, kernel, recurrent kernel, bias) of one layer on `x`, loss = sum(h * w). */
function run(layer: tf.layers.Layer, x: tf.Tensor3D, w: tf.Tensor, training: boolean, forward?: Forward): { y: tf.Tensor; grads: tf.Tensor[] } {
  const fwd: Forward = forward ?? ((xx) => layer.apply(xx, { training }) as tf.Tensor);
  const xv = tf.variable(x, true);
  const y = fwd(xv);
  const vars = [xv, ...layer.trainableWeights.map((v) => v.read() as tf.Variable)];
  const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(fwd(xv), w)) as tf.Scalar, vars);
  const out = vars.map((v) => grads[v.name]!);
  value.dispose();
  xv.dispose();
  return { y, grads: out };
}

/**
 * The stock LSTMCell's math written out with tfjs ops (autodiff), for sequence length 1: tfjs 4.22's own LSTM cannot
 * differentiate a single timestep (the Unpack gradient throws "Argument tensors passed to stack must be a Tensor[]").
 */
function referenceForward(layer: tf.layers.Layer, act: Act, masks: (x: tf.Tensor, rate: number) => tf.Tensor, dropout: number, recurrentDropout: number): Forward {
  return (x) =>
    tf.tidy(() => {
      const [W, U, b] = layer.trainableWeights.map((v) => v.read());
      const [B, T] = x.shape as [number, number, number];
      const H = U!.shape[0]!;
      const sig = (z: tf.Tensor): tf.Tensor => (act === 'sigmoid' ? tf.sigmoid(z) : tf.clipByValue(tf.add(tf.mul(z, 0.2), 0.5), 0, 1));
      let h: tf.Tensor = tf.zeros([B, H]);
      let c: tf.Tensor = tf.zeros([B, H]);
      const inMask = dropout > 0 ? masks(tf.ones([B, x.shape[2]!]), dropout) : null;
      const recMask = recurrentDropout > 0 ? masks(tf.ones([B, H]), recurrentDropout) : null;
      for (let t = 0; t < T; t++) {
        let xt = tf.reshape(tf.slice(x, [0, t, 0], [B, 1, -1]), [B, -1]);
        if (inMask) xt = tf.mul(xt, inMask);
        const hm = recMask ? tf.mul(h, recMask) : h;
        const z = tf.add(tf.add(tf.matMul(xt, W!), tf.matMul(hm, U!)), b!);
        const [zi, zf, zg, zo] = tf.split(z, 4, 1);
        c = tf.add(tf.mul(sig(zf!), c), tf.mul(sig(zi!), tf.tanh(zg!)));
        h = tf.mul(sig(zo!), tf.tanh(c));
      }
      return h;
    });
}

beforeAll(async () => {
  await enableRelaxedSimd();
  await initBackend({ prefer: 'wasm' });
});

afterEach(() => {
  forcePublicWasmPath(false);
  forceJsGateMath(false);
  forceTfjsMatmuls(false);
});

// The fused op: `wasm`, the own wasm matmul's relaxed-SIMD edition; `wasm-plain-simd`, its plain-SIMD edition (the
// fallback where relaxed SIMD is missing); `wasm-js-gates`, the JS loops of the gate math instead of the wasm SIMD
// module. The stock layers, by design: `cpu` (see `fused-layers.ts`), `wasm-public` (the wasm fast paths off) and
// `wasm-no-own-matmul` (the own matmul off); there the fused layer must give exactly the stock layer's results.
const STOCK_BACKENDS: readonly string[] = ['cpu', 'wasm-public', 'wasm-no-own-matmul'];
const forcePaths = (backend: string): void => {
  if (backend === 'wasm-public') forcePublicWasmPath(true);
  if (backend === 'wasm-js-gates') forceJsGateMath(true);
  if (backend === 'wasm-no-own-matmul') forceTfjsMatmuls(true);
};
for (const backend of ['wasm', 'wasm-plain-simd', 'wasm-js-gates', 'cpu', 'wasm-public', 'wasm-no-own-matmul'] as const) {
  const stockPath = STOCK_BACKENDS.includes(backend);
  describe(`fused LSTM parity with tf.layers.lstm on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend === 'cpu' ? 'cpu' : 'wasm');
      await initGemm({ reinit: true, plainSimd: backend === 'wasm-plain-simd' });
      if (backend === 'wasm') expect(gemmStatus()).toEqual({ ok: true, kind: 'relaxed' });
      if (backend === 'wasm-plain-simd') expect(gemmStatus()).toEqual({ ok: true, kind: 'simd' });
    });
    afterAll(async () => {
      await initGemm({ reinit: true });
    });

    const cases: Array<{ shape: Shape; act: Act; dropout: number; recurrentDropout: number }> = [];
    for (const shape of SHAPES) cases.push({ shape, act: 'sigmoid', dropout: 0, recurrentDropout: 0 });
    cases.push({ shape: SHAPES[0]!, act: 'hardSigmoid', dropout: 0, recurrentDropout: 0 });
    cases.push({ shape: SHAPES[0]!, act: 'sigmoid', dropout: 0.3, recurrentDropout: 0.4 });
    cases.push({ shape: SHAPES[1]!, act: 'hardSigmoid', dropout: 0.5, recurrentDropout: 0.2 });
    cases.push({ shape: SHAPES[2]!, act: 'sigmoid', dropout: 0.2, recurrentDropout: 0.3 });
    cases.push({ shape: SHAPES[4]!, act: 'hardSigmoid', dropout: 0.3, recurrentDropout: 0.2 });
    cases.push({ shape: SHAPES[5]!, act: 'sigmoid', dropout: 0.25, recurrentDropout: 0.5 });

    // The stock layers cannot differentiate a single timestep (see referenceForward): nothing to compare on their paths.
    for (const c of cases.filter((k) => !(stockPath && k.shape.T === 1))) {
      const { B, T, D, H } = c.shape;
      it(`forward and all gradients ${stockPath ? 'identical to the stock layer' : 'within 1e-4'}: B=${B} T=${T} D=${D} H=${H} ${c.act} dropout=${c.dropout}/${c.recurrentDropout}`, () => {
        forcePaths(backend);
        expect(fusedRecurrentAvailable()).toBe(!stockPath);
        if (!stockPath) expect(recurrentGatesStatus().ok).toBe(backend !== 'wasm-js-gates');
        const tol = stockPath ? 0 : 1e-4;
        const opts = { units: H, act: c.act, dropout: c.dropout, recurrentDropout: c.recurrentDropout };
        const stock = tf.layers.lstm(layerArgs(opts));
        const fused = fusedLstm(layerArgs(opts));
        const rand = lcg(B * 1000 + T * 10 + D);
        const x = tf.tensor3d(Float32Array.from({ length: B * T * D }, () => (rand() - 0.5) * 3), [B, T, D]);
        const w = tf.tensor2d(Float32Array.from({ length: B * H }, () => rand() - 0.5), [B, H]);
        stock.apply(x);
        fused.apply(x);
        fused.setWeights(stock.getWeights());
        const masks = fixedMasks(7);
        for (const l of [stock, fused]) (l as unknown as { cell: { dropoutFunc: unknown } }).cell.dropoutFunc = masks;

        const before = tf.memory().numTensors;
        const s = run(stock, x, w, true, T === 1 ? referenceForward(stock, c.act, masks, c.dropout, c.recurrentDropout) : undefined);
        const f = run(fused, x, w, true);
        expect(relErr(f.y, s.y)).toBeLessThanOrEqual(tol);
        expect(f.grads).toHaveLength(4);
        f.grads.forEach((g, i) => expect(relErr(g, s.grads[i]!), `gradient ${i}`).toBeLessThanOrEqual(tol));
        // Dropout really was applied (training) and is off at inference.
        const inferS = stock.apply(x) as tf.Tensor;
        const inferF = fused.apply(x) as tf.Tensor;
        expect(relErr(inferF, inferS)).toBeLessThanOrEqual(tol);
        if (c.dropout > 0) expect(relErr(inferF, f.y)).toBeGreaterThan(1e-3);
        tf.dispose([s.y, ...s.grads, f.y, ...f.grads, inferS, inferF]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x, w]);
        stock.dispose();
        fused.dispose();
      });
    }

    it('embedding gradient through the whole model matches the stock model', () => {
      forcePaths(backend);
      const V = 20;
      const T = 6;
      const build = (impl: 'fused' | 'stock'): tf.Sequential => {
        const m = tf.sequential();
        m.add(tf.layers.embedding({ inputDim: V, outputDim: 8, inputLength: T, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 9 }) }));
        const args = layerArgs({ units: 4, act: 'sigmoid', dropout: 0.25, recurrentDropout: 0.25 });
        m.add(impl === 'fused' ? fusedLstm(args) : tf.layers.lstm(args));
        m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
        return m;
      };
      const stock = build('stock');
      const fused = build('fused');
      expect(fused.layers[1]).toBeInstanceOf(FusedLSTM);
      fused.setWeights(stock.getWeights());
      const masks = fixedMasks(3);
      for (const m of [stock, fused]) (m.layers[1] as unknown as { cell: { dropoutFunc: unknown } }).cell.dropoutFunc = masks;
      const rand = lcg(5);
      const ids = tf.tensor2d(Int32Array.from({ length: 4 * T }, () => Math.floor(rand() * V)), [4, T], 'int32');
      const labels = tf.tensor1d([0, 2, 1, 2], 'int32');
      const grads = (m: tf.Sequential): tf.Tensor[] => {
        const vars = m.trainableWeights.map((v) => v.read() as tf.Variable);
        const { grads: g, value } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 3), tf.log(m.apply(ids, { training: true }) as tf.Tensor)) as tf.Scalar,
          vars,
        );
        value.dispose();
        return vars.map((v) => g[v.name]!);
      };
      const gs = grads(stock);
      const gf = grads(fused);
      expect(gf).toHaveLength(6);
      gf.forEach((g, i) => expect(relErr(g, gs[i]!), `gradient of ${stock.trainableWeights[i]!.name}`).toBeLessThanOrEqual(stockPath ? 0 : 1e-4));
      tf.dispose([...gs, ...gf, ids, labels]);
      stock.dispose();
      fused.dispose();
    });
  });
}

describe('wasm SIMD gate math', () => {
  /** Output and gradients of the one op (all four inputs) for loss sum(h · w), with both dropout masks. */
  function pass(T: number, B: number, D: number, H: number, act: Act, seed: number): { kind: string; values: Float32Array[] } {
    const rand = lcg(seed);
    const u = (n: number, s = 1): Float32Array => Float32Array.from({ length: n }, () => (rand() - 0.5) * s);
    const bin = (n: number, rate: number): Float32Array => Float32Array.from({ length: n }, () => (rand() < rate ? 0 : 1 / (1 - rate)));
    const kind = recurrentGatesStatus().ok ? 'wasm' : 'js';
    const values = tf.tidy(() => {
      const x = tf.tensor3d(u(T * B * D, 3), [T, B, D]);
      const W = tf.tensor2d(u(D * 4 * H), [D, 4 * H]);
      const U = tf.tensor2d(u(H * 4 * H), [H, 4 * H]);
      const b = tf.tensor1d(u(4 * H));
      const w = tf.tensor2d(u(B * H), [B, H]);
      const opts: FusedRecurrentOptions = { cell: 'lstm', recurrentActivation: act, inputMask: bin(B * D, 0.2), recurrentMask: bin(B * H, 0.3) };
      const op = (xx: tf.Tensor, WW: tf.Tensor, UU: tf.Tensor, bb: tf.Tensor): tf.Tensor => fusedRecurrent(xx as tf.Tensor3D, WW as tf.Tensor2D, UU as tf.Tensor2D, bb as tf.Tensor1D, opts);
      const y = op(x, W, U, b);
      const g = tf.grads((xx: tf.Tensor, WW: tf.Tensor, UU: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(op(xx, WW, UU, bb), w)))([x, W, U, b]);
      return [y, ...g].map((t) => t.dataSync() as Float32Array);
    });
    return { kind, values };
  }

  beforeAll(async () => {
    await tf.setBackend('wasm');
    await initRecurrentGates();
  });

  it('is compiled here and agrees with the JS loops (vector and scalar columns, both activations, masks)', () => {
    expect(recurrentGatesStatus()).toEqual({ ok: true });
    for (const [T, B, D, H] of [
      [7, 3, 5, 8],
      [5, 2, 3, 6],
      [4, 5, 4, 1],
    ] as const) {
      for (const act of ['sigmoid', 'hardSigmoid'] as const) {
        const before = tf.memory().numTensors;
        const w = pass(T, B, D, H, act, T * 31 + H);
        forceJsGateMath(true);
        const j = pass(T, B, D, H, act, T * 31 + H);
        forceJsGateMath(false);
        expect([w.kind, j.kind]).toEqual(['wasm', 'js']);
        w.values.forEach((v, i) => expect(maxRelDiff(v, j.values[i]!), `${act} H=${H} output ${i}`).toBeLessThan(1e-5));
        expect(tf.memory().numTensors).toBe(before);
      }
    }
  });

  it('falls back to the JS loops with a single warning when the module does not compile', async () => {
    const warnings: string[] = [];
    setFastPathWarningSink((m) => warnings.push(m));
    try {
      const reference = pass(6, 3, 4, 5, 'sigmoid', 99);
      const s = await initRecurrentGates({ reinit: true, source: '(module (func $broken (i32.add)))' });
      expect(s.ok).toBe(false);
      expect(recurrentGatesStatus().ok).toBe(false);
      await initRecurrentGates();
      const fallback = pass(6, 3, 4, 5, 'sigmoid', 99);
      pass(6, 3, 4, 5, 'sigmoid', 99);
      expect([reference.kind, fallback.kind]).toEqual(['wasm', 'js']);
      fallback.values.forEach((v, i) => expect(maxRelDiff(v, reference.values[i]!), `output ${i}`).toBeLessThan(1e-5));
      expect(warnings.filter((m) => m.includes('gate math'))).toHaveLength(1);
    } finally {
      await initRecurrentGates({ reinit: true });
      setFastPathWarningSink((message) => process.emitWarning(message, { code: 'SWEEPQ_TFJS_INTERNALS' }));
    }
    expect(recurrentGatesStatus()).toEqual({ ok: true });
  });
});

describe('FusedLSTM layer', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('reports the LSTM class and config, and the stock weight names and shapes', () => {
    const stock = tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid' });
    const fused = fusedLstm({ units: 3, recurrentActivation: 'sigmoid' });
    const x = tf.zeros([2, 4, 5]);
    stock.apply(x);
    fused.apply(x);
    expect(fused.getClassName()).toBe('LSTM');
    const strip = (cfg: Record<string, unknown>): Record<string, unknown> => ({ ...cfg, name: '' });
    expect(strip(fused.getConfig())).toEqual(strip(stock.getConfig()));
    expect(fused.weights.map((w) => [w.name.replace(/^.*\//, ''), w.shape])).toEqual(stock.weights.map((w) => [w.name.replace(/^.*\//, ''), w.shape]));
    expect(fused.name).toMatch(/^lstm_LSTM\d+$/);
    x.dispose();
    stock.dispose();
    fused.dispose();
  });

  it('runs the stock implementation where the fused op does not apply (a relu activation)', () => {
    const stock = tf.layers.lstm({ units: 3, returnSequences: true, activation: 'relu' });
    const fused = fusedLstm({ units: 3, returnSequences: true, activation: 'relu' });
    const x = tf.randomNormal([2, 4, 5], 0, 1, 'float32', 1);
    stock.apply(x);
    fused.apply(x);
    fused.setWeights(stock.getWeights());
    const a = stock.apply(x) as tf.Tensor;
    const b = fused.apply(x) as tf.Tensor;
    expect(b.shape).toEqual([2, 4, 3]);
    expect(relErr(b, a)).toBe(0);
    tf.dispose([x, a, b]);
    stock.dispose();
    fused.dispose();
  });
});

describe('work memory of the fused op on the tfjs wasm heap', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await initRecurrentGates();
  });

  // H = 6: column tails in the own matmul; H = 8: none.
  for (const [D, H] of [
    [4, 6],
    [4, 8],
  ] as const) {
  it(`is freed after inference, after the gradient, and (bounded) when a recorded pass never gets its gradient (D ${D}, H ${H})`, () => {
    const T = 5, B = 3;
    // Passes an earlier case left waiting would be evicted below and make the tensor count drop.
    releaseOutstandingPasses();
    const rand = lcg(77);
    const u = (n: number): Float32Array => Float32Array.from({ length: n }, () => rand() - 0.5);
    const x = tf.tensor3d(u(T * B * D), [T, B, D]);
    const W = tf.tensor2d(u(D * 4 * H), [D, 4 * H]);
    const U = tf.tensor2d(u(H * 4 * H), [H, 4 * H]);
    const b = tf.tensor1d(u(4 * H));
    const op = (xx: tf.Tensor, WW: tf.Tensor, UU: tf.Tensor, bb: tf.Tensor): tf.Tensor =>
      fusedRecurrent(xx as tf.Tensor3D, WW as tf.Tensor2D, UU as tf.Tensor2D, bb as tf.Tensor1D, { cell: 'lstm' });
    const before = tf.memory().numTensors;

    const y = op(x, W, U, b);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const g = tf.grads((xx: tf.Tensor, WW: tf.Tensor, UU: tf.Tensor, bb: tf.Tensor) => tf.sum(op(xx, WW, UU, bb)))([x, W, U, b]);
    tf.dispose(g);
    expect(tf.memory().numTensors).toBe(before);

    // Recorded on a tape whose gradient never reaches the op: its memory is kept for a gradient that never comes, but
    // only for the last few such passes.
    const v = tf.tidy(() => tf.variable(tf.scalar(2)));
    const withV = tf.memory().numTensors;
    const orphan = (): void => {
      const r = tf.variableGrads(() => {
        op(x, W, U, b);
        return tf.square(v) as tf.Scalar;
      }, [v]);
      tf.dispose([r.value, ...Object.values(r.grads)]);
    };
    for (let i = 0; i < MAX_OUTSTANDING_PASSES + 4; i++) orphan();
    const plateau = tf.memory().numTensors;
    for (let i = 0; i < 12; i++) orphan();
    expect(tf.memory().numTensors).toBe(plateau);
    // At most MAX_OUTSTANDING_PASSES passes kept, 8 tensors each (x, z, the h sequence, gates, cell states and their
    // tanh, the step scratch, the gate module's operands).
    expect(plateau - withV).toBeLessThanOrEqual(MAX_OUTSTANDING_PASSES * 8);
    tf.dispose([x, W, U, b, v]);
  });
  }
});
