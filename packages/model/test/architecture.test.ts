import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, MODEL_FIELDS, PARAMETERS, PARAMETER_NAMES, type ParameterName, type ParameterRule, type TrialParams } from '@sweepq/sweep-config';
import {
  buildModel,
  FastDropout,
  FusedBidirectional,
  FusedGRU,
  FusedLSTM,
  initBackend,
  ModelError,
  modelParamsFromTrial,
  serializeModel,
  tf,
  type ModelParams,
} from '../src/index.js';
import { buildModelWith, deserializeModelWith } from '../src/testing.js';
import { TINY } from './helpers.js';

// lstm_layers, bidirectional, cell and mask_zero (sweepq issue 17): the stacks buildModel makes, their weights, and
// their round trips through model.json (sweepq's loader and stock tfjs).

const B = 3;
const T = 6;
const VOCAB = 20;
// Multiples of 4, so the fused layers take their fused paths (not the stock fallback).
const D = 8;
const H = 4;
const CLASSES = 3;

const ARCH: ModelParams = { ...TINY, maxWords: VOCAB, maxLen: T, embeddingDim: D, lstmUnits: H, numClasses: CLASSES, seed: 11 };

/** Pre-padded rows (token 0 in front, as sweepq pads), one of them all padding but its last step. */
function tokens(len: number): tf.Tensor2D {
  const rows = [
    [0, 0, 5, 7, 9, 3],
    [0, 0, 0, 0, 0, 12],
    [4, 8, 15, 16, 2, 1],
  ].map((r) => [...new Array<number>(Math.max(0, len - r.length)).fill(0), ...r.slice(Math.max(0, r.length - len))]);
  return tf.tensor2d(rows, [B, len], 'int32');
}

const stockClass = (make: () => tf.layers.Layer) => Object.getPrototypeOf(make()).constructor as unknown;
const STOCK = {
  LSTM: stockClass(() => tf.layers.lstm({ units: 1 })),
  GRU: stockClass(() => tf.layers.gru({ units: 1 })),
  Bidirectional: stockClass(() => tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 1 }) as unknown as tf.RNN })),
};

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
}

/** Whether every recurrent layer of `model` (both directions of a Bidirectional) is sweepq's fused class, or all stock. */
function recurrentKinds(model: tf.LayersModel): Array<'fused' | 'stock'> {
  const fusedCell = (l: unknown) => l instanceof FusedLSTM || l instanceof FusedGRU;
  return model.layers.slice(1, -1).filter((l) => l.getClassName() !== 'Dropout').flatMap((l) => {
    if (l.getClassName() !== 'Bidirectional') return [fusedCell(l) ? 'fused' : 'stock'];
    const { forwardLayer, backwardLayer } = l as unknown as { forwardLayer: unknown; backwardLayer: unknown };
    const all = l instanceof FusedBidirectional && fusedCell(forwardLayer) && fusedCell(backwardLayer);
    const none = !(l instanceof FusedBidirectional) && !fusedCell(forwardLayer) && !fusedCell(backwardLayer);
    return [all ? 'fused' : none ? 'stock' : ('mixed' as never)];
  });
}

/** The stock load: model.json as written, no class mapping, through `tf.loadLayersModel`. */
async function stockLoad(files: { modelJson: Record<string, unknown>; weights: Uint8Array }): Promise<tf.LayersModel> {
  const json = JSON.parse(JSON.stringify(files.modelJson)) as tf.io.ModelJSON;
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  return tf.loadLayersModel(tf.io.fromMemory(tf.io.getModelArtifactsForJSONSync(json, specs, files.weights.slice().buffer)));
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

const combos = [1, 2].flatMap((lstmLayers) =>
  [false, true].flatMap((bidirectional) =>
    (['lstm', 'gru'] as const).flatMap((cell) => [false, true].map((maskZero) => ({ lstmLayers, bidirectional, cell, maskZero }))),
  ),
);

describe.each(combos)('buildModel: lstmLayers $lstmLayers, bidirectional $bidirectional, cell $cell, maskZero $maskZero', (arch) => {
  const p: ModelParams = { ...ARCH, ...arch, dropout: 0.1 };
  const gates = arch.cell === 'lstm' ? 4 : 3;
  const width = arch.bidirectional ? 2 * H : H;
  let model: tf.LayersModel;
  let files: Awaited<ReturnType<typeof serializeModel>>;
  beforeAll(async () => {
    model = buildModel(p);
    files = await serializeModel(model);
  });
  afterAll(() => model.dispose());

  it('stacks the layers in order with the expected weights', () => {
    const recurrent = arch.bidirectional ? 'Bidirectional' : arch.cell.toUpperCase();
    expect(model.layers.map((l) => l.getClassName())).toEqual(['Embedding', 'Dropout', ...new Array<string>(arch.lstmLayers).fill(recurrent), 'Dense']);
    const embedding = model.layers[0]!.getConfig();
    expect(embedding['maskZero']).toBe(arch.maskZero ? true : undefined);
    expect(model.inputs[0]?.shape).toEqual([null, arch.maskZero ? null : T]);
    const shapes: number[][] = [[VOCAB, D]];
    for (let i = 0; i < arch.lstmLayers; i++) {
      const inDim = i === 0 ? D : width;
      const one = [[inDim, gates * H], [H, gates * H], [gates * H]];
      shapes.push(...one, ...(arch.bidirectional ? one : []));
    }
    shapes.push([width, CLASSES], [CLASSES]);
    expect(model.getWeights().map((w) => w.shape)).toEqual(shapes);
    expect(recurrentKinds(model)).toEqual(new Array(arch.lstmLayers).fill('fused'));
    const stock = buildModelWith(p, { lstmImplementation: 'stock' });
    expect(recurrentKinds(stock)).toEqual(new Array(arch.lstmLayers).fill('stock'));
    expect(stock.layers[1]).not.toBeInstanceOf(FastDropout);
    stock.dispose();
    for (let i = 0; i < arch.lstmLayers; i++) {
      const layer = model.layers[2 + i]!;
      const inner = arch.bidirectional ? (layer.getConfig()['layer'] as { config: Record<string, unknown> }).config : layer.getConfig();
      expect(inner['returnSequences']).toBe(i < arch.lstmLayers - 1);
      expect(inner['recurrentActivation']).toBe('sigmoid');
      expect(inner['dropout']).toBe(0.1);
      if (arch.bidirectional) expect(layer.getConfig()['mergeMode']).toBe('concat');
    }
  });

  it('predicts [batch, numClasses] probabilities', () => {
    const x = tokens(T);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([B, CLASSES]);
    const sums = tf.sum(y, 1).dataSync();
    for (const v of sums) expect(v).toBeCloseTo(1, 5);
    tf.dispose([x, y]);
  });

  it(arch.maskZero ? 'skips padding: more (or less) left padding gives the same predictions' : 'takes exactly maxLen steps', () => {
    const x = tokens(T);
    if (arch.maskZero) {
      const longer = tokens(T + 4);
      const shorter = tf.tidy(() => tf.slice(x, [0, 2], [B, T - 2]));
      // Row 1 has only padding in its first 5 steps; row 2 has no padding, so it is not trimmed.
      const base = predict(model, x);
      expect(maxDiff(predict(model, longer), base)).toBeLessThan(1e-6);
      expect(maxDiff(predict(model, shorter).subarray(0, 2 * CLASSES), base.subarray(0, 2 * CLASSES))).toBeLessThan(1e-6);
      tf.dispose([longer, shorter]);
    } else {
      const longer = tokens(T + 4);
      expect(() => model.predict(longer)).toThrow();
      longer.dispose();
    }
    x.dispose();
  });

  it('round-trips through serializeModel / deserializeModel (fused and stock) and stock tf.loadLayersModel', async () => {
    const x = tokens(T);
    const expected = predict(model, x);
    const topology = (files.modelJson['modelTopology'] as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } }).config.layers;
    // model.json names stock classes only, the wrapped cell inside each Bidirectional too.
    const inner = arch.cell.toUpperCase();
    for (const l of topology.slice(2, -1)) {
      expect(l.class_name).toBe(arch.bidirectional ? 'Bidirectional' : inner);
      if (arch.bidirectional) expect((l.config['layer'] as { class_name: string }).class_name).toBe(inner);
    }
    for (const lstmImplementation of ['fused', 'stock'] as const) {
      const loaded = await deserializeModelWith(files, { lstmImplementation });
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      expect(recurrentKinds(loaded)).toEqual(new Array(arch.lstmLayers).fill(lstmImplementation));
      expect(maxDiff(predict(loaded, x), expected), lstmImplementation).toBeLessThan(1e-5);
      loaded.dispose();
    }
    const stock = await stockLoad(files);
    const recurrentCtor = arch.bidirectional ? STOCK.Bidirectional : STOCK[arch.cell === 'lstm' ? 'LSTM' : 'GRU'];
    expect(stock.layers[2]?.constructor).toBe(recurrentCtor);
    if (arch.bidirectional) expect((stock.layers[2] as unknown as { forwardLayer: object }).forwardLayer.constructor).toBe(STOCK[arch.cell === 'lstm' ? 'LSTM' : 'GRU']);
    // Same weights, two implementations (stock float32 ops vs the fused layers): equal to float32 noise.
    expect(maxDiff(predict(stock, x), expected)).toBeLessThan(1e-5);
    stock.dispose();
    x.dispose();
  });

  it('trains like the stock model: loss and every weight gradient within 1e-4, recurrent dropout masks included', () => {
    // No Dropout layer: sweepq's FastDropout draws its masks from another generator than stock Dropout, by design.
    const fused = buildModel({ ...p, dropout: 0, recurrentDropout: 0.2 });
    const stock = buildModelWith({ ...p, dropout: 0, recurrentDropout: 0.2 }, { lstmImplementation: 'stock' });
    stock.setWeights(fused.getWeights());
    const x = tokens(T);
    const labels = tf.tensor1d([0, 2, 1], 'int32');
    // The same dropout masks in both: every dropout draw comes from one fixed-seed generator per model.
    const seedDropouts = (m: tf.LayersModel): void => {
      let n = 0;
      const draw = (t: tf.Tensor, rate: number): tf.Tensor => tf.dropout(t, rate, undefined, 1000 + n++);
      for (const layer of m.layers) {
        const cells = [layer, (layer as unknown as { forwardLayer?: tf.layers.Layer }).forwardLayer, (layer as unknown as { backwardLayer?: tf.layers.Layer }).backwardLayer]
          .map((l) => (l as unknown as { cell?: { dropoutFunc?: unknown } } | undefined)?.cell)
          .filter((c): c is { dropoutFunc?: unknown } => c != null);
        for (const c of cells) c.dropoutFunc = draw;
      }
    };
    const lossAndGrads = (m: tf.LayersModel): { loss: number; grads: tf.Tensor[] } => {
      seedDropouts(m);
      const vars = m.trainableWeights.map((v) => v.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.losses.softmaxCrossEntropy(tf.oneHot(labels, CLASSES), tf.log(m.apply(x, { training: true }) as tf.Tensor))) as tf.Scalar,
        vars,
      );
      const loss = value.dataSync()[0]!;
      value.dispose();
      return { loss, grads: vars.map((v) => grads[v.name]!) };
    };
    const want = lossAndGrads(stock);
    const got = lossAndGrads(fused);
    expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want.loss)));
    got.grads.forEach((g, k) => {
      const a = g.dataSync() as Float32Array;
      const b = want.grads[k]!.dataSync() as Float32Array;
      const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      expect({ weight: fused.trainableWeights[k]!.name, ok: diff <= 1e-4 * Math.max(scale, 1e-6) }).toEqual({ weight: fused.trainableWeights[k]!.name, ok: true });
    });
    tf.dispose([...got.grads, ...want.grads, x, labels]);
    stock.dispose();
    fused.dispose();
  });
});

describe('buildModel: initial weights of stacked and bidirectional layers', () => {
  const weights = (p: ModelParams, impl: 'fused' | 'stock' = 'fused'): Float32Array[] => {
    const m = buildModelWith(p, { lstmImplementation: impl });
    const out = m.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    m.dispose();
    return out;
  };

  it('the backward direction and every further layer start from weights of their own, reproducibly', () => {
    // Bidirectional 2 layers: [emb, f0 k, f0 rk, f0 b, b0 k, b0 rk, b0 b, f1 k, f1 rk, f1 b, b1 k, b1 rk, b1 b, dense k, dense b].
    const p: ModelParams = { ...ARCH, lstmLayers: 2, bidirectional: true };
    const w = weights(p);
    expect(w).toHaveLength(15);
    const same = (i: number, j: number) => maxDiff(w[i]!, w[j]!) === 0;
    expect([same(1, 4), same(2, 5), same(7, 10), same(8, 11)]).toEqual([false, false, false, false]);
    // Biases are the initialiser's constant (zeros, unit forget bias) in both directions.
    expect([same(3, 6), same(9, 12)]).toEqual([true, true]);
    expect(weights(p)).toEqual(w);
    // Unidirectional layers of equal shapes (input width = units) start apart too.
    const u = weights({ ...ARCH, embeddingDim: H, lstmLayers: 2, cell: 'gru' });
    expect(maxDiff(u[1]!, u[4]!)).toBeGreaterThan(0);
    expect(maxDiff(u[2]!, u[5]!)).toBeGreaterThan(0);
  });

  it('the first layer keeps its seeds: the same forward weights whatever the stacking, fused or stock', () => {
    const one = weights(ARCH);
    const stacked = weights({ ...ARCH, lstmLayers: 3, bidirectional: true });
    expect(stacked.slice(0, 4)).toEqual(one.slice(0, 4));
    expect(weights({ ...ARCH, lstmLayers: 2, bidirectional: true, cell: 'gru' }, 'stock')).toEqual(
      weights({ ...ARCH, lstmLayers: 2, bidirectional: true, cell: 'gru' }),
    );
  });
});

describe('buildModel: defaults', () => {
  const fixture = JSON.parse(readFileSync(new URL('./fixtures/default-model.json', import.meta.url), 'utf8')) as {
    default: { modelJson: Record<string, unknown> };
    dropout: { modelJson: Record<string, unknown> };
    weightsSha256: string;
  };
  // Layer-name counters depend on how many layers the process made before; generatedBy on the tfjs version.
  const normalise = (json: Record<string, unknown>): unknown => {
    const { generatedBy: _g, ...rest } = json;
    return JSON.parse(JSON.stringify(rest).replace(/"([a-z]+)_([A-Za-z]*)\d+(\/|")/g, '"$1_$2$3'));
  };

  it('the default parameters give the model.json and initial weights of before the architecture parameters existed', async () => {
    await tf.setBackend('cpu');
    try {
      for (const variant of ['default', 'dropout'] as const) {
        const extra = variant === 'dropout' ? { dropout: 0.2, recurrent_dropout: 0.1 } : {};
        const model = buildModel(modelParamsFromTrial({ ...DEFAULT_PARAMS, ...extra, max_words: 50, embedding_dim: 8, lstm_units: 8, max_len: 10 }, 2, 42));
        const files = await serializeModel(model);
        expect(normalise(files.modelJson), variant).toEqual(fixture[variant].modelJson);
        expect(createHash('sha256').update(files.weights).digest('hex'), variant).toBe(fixture.weightsSha256);
        model.dispose();
      }
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('rejects bad architecture settings, naming each field', () => {
    const bad = { ...ARCH, lstmLayers: 0, bidirectional: 'yes', cell: 'rnn', maskZero: 1 } as unknown as ModelParams;
    expect(() => buildModel(bad)).toThrow(ModelError);
    expect(() => buildModel(bad)).toThrow(
      /lstmLayers: expected an integer >= 1, got 0; bidirectional: expected true or false, got "yes"; maskZero: expected true or false, got 1; cell: expected one of lstm, gru, got "rnn"/,
    );
  });
});

describe('modelParamsFromTrial', () => {
  // Where each ModelParams field comes from. Typed as a complete record, so a new ModelParams field does not compile
  // until it is placed here; the test below then requires every `trial` field to come from the parameter table.
  const SOURCE: Record<keyof ModelParams, 'trial' | 'dataset' | 'trial seed' | 'implementation'> = {
    maxWords: 'trial',
    maxLen: 'trial',
    embeddingDim: 'trial',
    lstmUnits: 'trial',
    dropout: 'trial',
    recurrentDropout: 'trial',
    learningRate: 'trial',
    optimizer: 'trial',
    lstmLayers: 'trial',
    bidirectional: 'trial',
    cell: 'trial',
    maskZero: 'trial',
    numClasses: 'dataset',
    seed: 'trial seed',
    recurrentActivation: 'implementation',
  };

  /** A valid value of `rule` other than `current`. */
  function another(rule: ParameterRule, current: unknown): unknown {
    switch (rule.type) {
      case 'bool':
        return !current;
      case 'enum':
        return rule.values.find((v) => v !== current);
      case 'int':
        return current === rule.max ? rule.min : (current as number) + 1;
      case 'float':
        return (current as number) === rule.min ? (rule.minExclusive ? rule.min * 2 || 0.5 : Math.min(rule.min + 0.25, (rule.min + rule.max) / 2)) : rule.min + ((current as number) - rule.min) / 2;
    }
  }

  it('covers every ModelParams field that comes from a trial, from the parameter table', () => {
    const fromTrial = Object.entries(SOURCE).filter(([, source]) => source === 'trial').map(([field]) => field).sort();
    expect(Object.values(MODEL_FIELDS).sort()).toEqual(fromTrial);
  });

  it('passes each table parameter that names a model field on unchanged, and nothing else', () => {
    for (const name of Object.keys(MODEL_FIELDS) as Array<keyof typeof MODEL_FIELDS>) {
      const value = another(PARAMETERS[name].rule, DEFAULT_PARAMS[name]);
      const params = { ...DEFAULT_PARAMS, [name]: value } as TrialParams;
      const got = modelParamsFromTrial(params, 4, 9) as unknown as Record<string, unknown>;
      expect(got[MODEL_FIELDS[name]], name).toBe(value);
      expect(value, name).not.toBe(DEFAULT_PARAMS[name]);
    }
    const got = modelParamsFromTrial({ ...DEFAULT_PARAMS }, 4, 9);
    expect(Object.keys(got).sort()).toEqual([...Object.values(MODEL_FIELDS), 'numClasses', 'seed'].sort());
    expect(got).toMatchObject({ numClasses: 4, seed: 9 });
    const unused: ParameterName[] = PARAMETER_NAMES.filter((n) => !(n in MODEL_FIELDS));
    expect(unused.sort()).toEqual(['batch_size', 'epochs']);
  });
});

describe('FastDropout and masks', () => {
  it('passes the input mask on, as stock Dropout does', () => {
    const mask = tf.tensor2d([[0, 1, 1]], [1, 3], 'bool');
    const x = tf.ones([1, 3, 2]);
    for (const layer of [new FastDropout({ rate: 0.5 }), tf.layers.dropout({ rate: 0.5 })]) {
      expect(layer.supportsMasking).toBe(true);
      expect(layer.computeMask(x, mask)).toBe(mask);
    }
    tf.dispose([mask, x]);
  });
});
