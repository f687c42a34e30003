import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recurrentGatesStatus } from '@sweepq/kernels';
import { forceJsGateMath, releaseOutstandingPasses } from '@sweepq/kernels/testing';
import { FusedBidirectional, fusedBidirectional, fusedGru, fusedLstm, initBackend, tf } from '../src/index.js';
import { enableRelaxedSimd, fixedMasks, relErr } from './helpers.js';

type Cell = 'lstm' | 'gru';
type Act = 'sigmoid' | 'hardSigmoid';

/** Pre-padded Keras mask `[B, T]` for the given lengths (row b: the last lengths[b] steps are real). */
function padMask(lengths: number[], T: number): tf.Tensor2D {
  const v = new Float32Array(lengths.length * T);
  lengths.forEach((len, b) => {
    for (let t = T - len; t < T; t++) v[b * T + t] = 1;
  });
  return tf.tensor2d(v, [lengths.length, T]);
}

interface Case {
  name: string;
  cell: Cell;
  B: number;
  T: number;
  D: number;
  H: number;
  returnSequences?: boolean;
  goBackwards?: boolean;
  lengths?: number[];
  act?: Act;
  dropout?: number;
  recurrentDropout?: number;
}

function layerArgs(c: Case): Parameters<typeof tf.layers.lstm>[0] {
  return {
    units: c.H,
    recurrentActivation: c.act ?? 'sigmoid',
    returnSequences: c.returnSequences ?? false,
    goBackwards: c.goBackwards ?? false,
    dropout: c.dropout ?? 0,
    recurrentDropout: c.recurrentDropout ?? 0,
    kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    recurrentInitializer: tf.initializers.orthogonal({ gain: 1, seed: 2 }),
    biasInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: 3 }),
  };
}

type Forward = (x: tf.Tensor) => tf.Tensor;

/** Output and gradients (input, then every trainable weight) of `fwd` on `x` with loss sum(y ⊙ w). */
function run(weights: tf.LayerVariable[], x: tf.Tensor, w: tf.Tensor, fwd: Forward): { y: tf.Tensor; grads: tf.Tensor[] } {
  const xv = tf.variable(x, true);
  const y = fwd(xv);
  const vars = [xv, ...weights.map((v) => v.read() as tf.Variable)];
  const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(fwd(xv), w)) as tf.Scalar, vars);
  value.dispose();
  xv.dispose();
  return { y, grads: vars.map((v) => grads[v.name]!) };
}

/**
 * The stock cells' math written with tfjs ops (autodiff), masks as tfjs' `rnn` applies them: the reference for a
 * single timestep, where tfjs 4.22's own RNN cannot take gradients (its Unpack gradient throws).
 */
function reference(c: Case, weights: tf.LayerVariable[], masks: (x: tf.Tensor, rate: number) => tf.Tensor, training: boolean, mask: tf.Tensor2D | null): Forward {
  return (x) =>
    tf.tidy(() => {
      const [W, U, b] = weights.map((v) => v.read());
      const [B, T, D] = x.shape as [number, number, number];
      const H = c.H;
      const sig = (z: tf.Tensor): tf.Tensor => ((c.act ?? 'sigmoid') === 'sigmoid' ? tf.sigmoid(z) : tf.clipByValue(tf.add(tf.mul(z, 0.2), 0.5), 0, 1));
      const draws = c.cell === 'lstm' ? 4 : 3;
      const draw = (shape: number[], rate: number): tf.Tensor | null => {
        if (!training || rate <= 0) return null;
        const first = masks(tf.ones(shape), rate);
        for (let k = 1; k < draws; k++) masks(tf.ones(shape), rate);
        return first;
      };
      const inMask = draw([B, D], c.dropout ?? 0);
      const recMask = draw([B, H], c.recurrentDropout ?? 0);
      let h: tf.Tensor = tf.zeros([B, H]);
      let cs: tf.Tensor = tf.zeros([B, H]);
      const outs: tf.Tensor[] = [];
      for (let s = 0; s < T; s++) {
        const t = c.goBackwards ? T - 1 - s : s;
        let xt = tf.reshape(tf.slice(x, [0, t, 0], [B, 1, D]), [B, D]);
        if (inMask) xt = tf.mul(xt, inMask);
        const hm = recMask ? tf.mul(h, recMask) : h;
        let hn: tf.Tensor;
        let cn: tf.Tensor = cs;
        if (c.cell === 'lstm') {
          const [zi, zf, zg, zo] = tf.split(tf.add(tf.add(tf.matMul(xt, W!), tf.matMul(hm, U!)), b!), 4, 1);
          cn = tf.add(tf.mul(sig(zf!), cs), tf.mul(sig(zi!), tf.tanh(zg!)));
          hn = tf.mul(sig(zo!), tf.tanh(cn));
        } else {
          const [xz, xr, xh] = tf.split(tf.add(tf.matMul(xt, W!), b!), 3, 1);
          const [u1, u2] = tf.split(U!, [2 * H, H], 1);
          const [rz, rr] = tf.split(tf.matMul(hm, u1!), 2, 1);
          const z = sig(tf.add(xz!, rz!));
          const r = sig(tf.add(xr!, rr!));
          const hh = tf.tanh(tf.add(xh!, tf.matMul(tf.mul(r, hm), u2!)));
          hn = tf.add(tf.mul(z, hm), tf.mul(tf.sub(1, z), hh));
        }
        if (mask !== null) {
          const m = tf.reshape(tf.slice(mask, [0, t], [B, 1]), [B, 1]);
          hn = tf.add(tf.mul(hn, m), tf.mul(h, tf.sub(1, m)));
          cn = tf.add(tf.mul(cn, m), tf.mul(cs, tf.sub(1, m)));
        }
        h = hn;
        cs = cn;
        outs.push(h);
      }
      return c.returnSequences ? tf.stack(outs, 1) : h;
    });
}

const CASES: Case[] = [];
for (const cell of ['lstm', 'gru'] as const) {
  CASES.push(
    { name: 'all steps', cell, B: 3, T: 5, D: 4, H: 8, returnSequences: true },
    { name: 'backwards', cell, B: 3, T: 5, D: 8, H: 4, goBackwards: true },
    { name: 'padding mask', cell, B: 4, T: 6, D: 4, H: 8, lengths: [6, 3, 1, 0] },
    { name: 'mask, all steps, backwards', cell, B: 4, T: 6, D: 4, H: 4, lengths: [2, 6, 5, 1], returnSequences: true, goBackwards: true },
    { name: 'mask, dropouts', cell, B: 3, T: 5, D: 8, H: 8, lengths: [5, 2, 4], returnSequences: true, dropout: 0.3, recurrentDropout: 0.4 },
    { name: 'mask, hardSigmoid', cell, B: 3, T: 4, D: 4, H: 4, lengths: [4, 1, 2], act: 'hardSigmoid' },
    { name: 'batch 1', cell, B: 1, T: 7, D: 4, H: 8, lengths: [4], returnSequences: true },
    { name: 'sequence 1', cell, B: 3, T: 1, D: 4, H: 4, lengths: [1, 0, 1], returnSequences: true },
    { name: 'sequence 1, backwards, dropouts', cell, B: 2, T: 1, D: 4, H: 8, goBackwards: true, dropout: 0.2, recurrentDropout: 0.3 },
    { name: 'last output, dropouts', cell, B: 3, T: 5, D: 8, H: 8, dropout: 0.3, recurrentDropout: 0.4 },
    // Widths not multiples of 4: the own matmul's column tails.
    { name: 'odd widths, all steps, dropouts', cell, B: 3, T: 5, D: 5, H: 6, returnSequences: true, dropout: 0.2, recurrentDropout: 0.3 },
    { name: 'odd widths, mask, backwards', cell, B: 3, T: 4, D: 3, H: 5, lengths: [4, 2, 1], goBackwards: true },
  );
}

beforeAll(async () => {
  await enableRelaxedSimd();
  await initBackend({ prefer: 'wasm' });
});

afterAll(() => {
  releaseOutstandingPasses();
});

describe('fused LSTM and GRU layers against the stock tfjs layers', () => {
  // The gate math runs in the wasm SIMD module when it is compiled, else in JS: both.
  const runs = CASES.flatMap((c) => [{ c, js: false }, { c, js: true }]);
  for (const { c, js } of runs) {
    it(`${c.cell}${js ? ' (JS gate math)' : ''}: ${c.name} (B ${c.B}, T ${c.T}, D ${c.D}, H ${c.H}): output and every gradient within 1e-4`, () => {
      if (!js) expect(recurrentGatesStatus()).toEqual({ ok: true });
      const prevJs = forceJsGateMath(js);
      const training = (c.dropout ?? 0) > 0 || (c.recurrentDropout ?? 0) > 0;
      const masks = fixedMasks(7);
      const make = (fused: boolean): tf.layers.Layer => {
        const args = layerArgs(c);
        const layer = c.cell === 'lstm' ? (fused ? fusedLstm(args) : tf.layers.lstm(args)) : fused ? fusedGru(args) : tf.layers.gru(args);
        (layer as unknown as { cell: { dropoutFunc: unknown } }).cell.dropoutFunc = masks;
        return layer;
      };
      const stock = make(false);
      const fused = make(true);
      const x = tf.randomNormal([c.B, c.T, c.D], 0, 1, 'float32', 11);
      tf.dispose([stock.apply(x) as tf.Tensor, fused.apply(x) as tf.Tensor]);
      fused.setWeights(stock.getWeights());
      const mask = c.lengths == null ? null : padMask(c.lengths, c.T);
      const outShape = c.returnSequences ? [c.B, c.T, c.H] : [c.B, c.H];
      const w = tf.randomNormal(outShape, 0, 1, 'float32', 5);
      const kw = mask == null ? { training } : { training, mask };
      const before = tf.memory().numTensors;
      const got = run(fused.trainableWeights, x, w, (xx) => fused.apply(xx, kw) as tf.Tensor);
      // tfjs 4.22's RNN cannot differentiate one timestep; the reference is the cells' math in tfjs ops there.
      const want =
        c.T > 1
          ? run(stock.trainableWeights, x, w, (xx) => stock.apply(xx, kw) as tf.Tensor)
          : run(stock.trainableWeights, x, w, reference(c, stock.trainableWeights, masks, training, mask));
      expect(got.y.shape).toEqual(outShape);
      expect(relErr(got.y, want.y)).toBeLessThan(1e-4);
      const names = ['input', 'kernel', 'recurrent kernel', 'bias'];
      got.grads.forEach((g, k) => {
        expect({ gradient: names[k], err: relErr(g, want.grads[k]!) < 1e-4 }).toEqual({ gradient: names[k], err: true });
      });
      // Everything both passes allocated is freed once their gradients ran and the results are disposed.
      tf.dispose([got.y, ...got.grads, want.y, ...want.grads]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, w]);
      if (mask) mask.dispose();
      stock.dispose();
      fused.dispose();
      forceJsGateMath(prevJs);
    });
  }

  it('inference leaves no tensors behind', () => {
    const layer = fusedGru({ units: 8, returnSequences: true });
    const x = tf.randomNormal([2, 5, 4]);
    const mask = padMask([5, 2], 5);
    layer.apply(x, { mask });
    const before = tf.memory().numTensors;
    const y = layer.apply(x, { mask }) as tf.Tensor;
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, mask]);
    layer.dispose();
  });
});

describe('a masked stack: Embedding(mask_zero) -> Bidirectional(fused, all steps) -> fused -> Dense', () => {
  for (const cell of ['lstm', 'gru'] as const) {
    it(`${cell}: the fused model's loss and every weight gradient match the stock model's within 1e-4`, () => {
      const build = (fused: boolean): tf.Sequential => {
        const model = tf.sequential();
        model.add(tf.layers.embedding({ inputDim: 20, outputDim: 8, maskZero: true, inputShape: [null as unknown as number], embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 9 }) }));
        const rnn = (args: Parameters<typeof tf.layers.lstm>[0]): tf.layers.Layer =>
          cell === 'lstm' ? (fused ? fusedLstm(args) : tf.layers.lstm(args)) : fused ? fusedGru(args) : tf.layers.gru(args);
        const inner = rnn({ units: 4, returnSequences: true, recurrentActivation: 'sigmoid' }) as unknown as tf.RNN;
        model.add(fused ? fusedBidirectional({ layer: inner, mergeMode: 'concat' }) : tf.layers.bidirectional({ layer: inner, mergeMode: 'concat' }));
        model.add(rnn({ units: 8, recurrentActivation: 'sigmoid' }));
        model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
        return model;
      };
      const stock = build(false);
      const fused = build(true);
      fused.setWeights(stock.getWeights());
      const bidi = fused.layers[1] as unknown as { forwardLayer: tf.layers.Layer; backwardLayer: tf.layers.Layer };
      expect(fused.layers[1]).toBeInstanceOf(FusedBidirectional);
      expect([bidi.forwardLayer.constructor.name, bidi.backwardLayer.constructor.name]).toEqual(cell === 'lstm' ? ['FusedLSTM', 'FusedLSTM'] : ['FusedGRU', 'FusedGRU']);
      const ids = tf.tensor2d([0, 0, 0, 3, 4, 5, 0, 0, 7, 1, 2, 9, 8, 7, 6, 5, 4, 3, 0, 0, 0, 0, 0, 12], [4, 6], 'int32');
      const labels = tf.oneHot(tf.tensor1d([0, 2, 1, 0], 'int32'), 3);
      const lossAndGrads = (m: tf.Sequential): { loss: number; grads: tf.Tensor[] } => {
        const vars = m.trainableWeights.map((v) => v.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, m.apply(ids, { training: true }) as tf.Tensor) as tf.Scalar, vars);
        const loss = value.dataSync()[0]!;
        value.dispose();
        return { loss, grads: vars.map((v) => grads[v.name]!) };
      };
      const want = lossAndGrads(stock);
      const got = lossAndGrads(fused);
      expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-5);
      expect(got.grads.length).toBe(want.grads.length);
      got.grads.forEach((g, k) => expect(relErr(g, want.grads[k]!)).toBeLessThan(1e-4));
      tf.dispose([...got.grads, ...want.grads, ids, labels]);
      stock.dispose();
      fused.dispose();
    });
  }
});
