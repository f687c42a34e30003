import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  deserializeModel,
  initBackend,
  ModelError,
  predictProbabilities,
  serializeModel,
  tf,
  trainModel,
  WEIGHTS_FILE,
} from '../src/index.js';
import { TINY, separable } from './helpers.js';

describe('buildModel', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('builds Embedding -> LSTM -> Dense with Keras parameter counts and [batch, numClasses] output', () => {
    const p = { ...TINY, numClasses: 3 };
    const model = buildModel(p);
    expect(model.layers.map((l) => l.getClassName())).toEqual(['Embedding', 'LSTM', 'Dense']);
    expect(model.layers.map((l) => l.countParams())).toEqual([
      p.maxWords * p.embeddingDim,
      4 * p.lstmUnits * (p.embeddingDim + p.lstmUnits + 1),
      p.lstmUnits * p.numClasses + p.numClasses,
    ]);
    expect(model.inputs[0]?.shape).toEqual([null, p.maxLen]);
    const x = tf.zeros([5, p.maxLen], 'int32');
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([5, 3]);
    const rowSums = tf.sum(y, 1);
    for (const v of rowSums.dataSync()) expect(v).toBeCloseTo(1, 5);
    tf.dispose([x, y, rowSums]);
    model.dispose();
  });

  it('adds a Dropout layer only when dropout > 0 and passes both dropouts to the LSTM', () => {
    const model = buildModel({ ...TINY, dropout: 0.25, recurrentDropout: 0.1 });
    expect(model.layers.map((l) => l.getClassName())).toEqual(['Embedding', 'Dropout', 'LSTM', 'Dense']);
    const lstm = model.layers[2]?.getConfig();
    expect(lstm?.['dropout']).toBe(0.25);
    expect(lstm?.['recurrentDropout']).toBe(0.1);
    expect(lstm?.['recurrentActivation']).toBe('sigmoid');
    model.dispose();
  });

  it('is reproducible with a seed and differs across seeds', () => {
    const a = buildModel(TINY);
    const b = buildModel(TINY);
    const c = buildModel({ ...TINY, seed: 7 });
    const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(wa);
    expect(c.getWeights().map((w) => Array.from(w.dataSync()))).not.toEqual(wa);
    for (const m of [a, b, c]) m.dispose();
  });

  it('compiles with the requested optimizer and learning rate', () => {
    for (const optimizer of ['adam', 'sgd', 'rmsprop', 'adagrad'] as const) {
      const model = buildModel({ ...TINY, optimizer, learningRate: 0.123 });
      expect(model.optimizer.getConfig()['learningRate']).toBe(0.123);
      model.dispose();
    }
  });

  it('rejects bad parameters naming each field', () => {
    expect(() => buildModel({ ...TINY, maxWords: 0, dropout: 1, learningRate: -1 })).toThrow(ModelError);
    expect(() => buildModel({ ...TINY, maxWords: 0, dropout: 1, learningRate: -1 })).toThrow(/maxWords.*dropout.*learningRate/);
  });
});

describe('serializeModel / deserializeModel', () => {
  let server: Server | undefined;
  let dir = '';

  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    dir = await mkdtemp(path.join(tmpdir(), 'sweepq-model-'));
  });
  afterAll(async () => {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes standard layer classes, sigmoid recurrent activation and a weights.bin manifest', async () => {
    const model = buildModel({ ...TINY, dropout: 0.1 });
    const files = await serializeModel(model);
    const json = files.modelJson as {
      format: string;
      modelTopology: { class_name: string; config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
      weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string }> }>;
      trainingConfig?: { loss: unknown };
    };
    expect(json.format).toBe('layers-model');
    expect(json.modelTopology.class_name).toBe('Sequential');
    const layers = json.modelTopology.config.layers;
    expect(layers.map((l) => l.class_name)).toEqual(['Embedding', 'Dropout', 'LSTM', 'Dense']);
    expect(layers[2]?.config['recurrent_activation']).toBe('sigmoid');
    expect(layers[2]?.config['activation']).toBe('tanh');
    expect(layers[3]?.config['activation']).toBe('softmax');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0]?.paths).toEqual([WEIGHTS_FILE]);
    const bytes = json.weightsManifest[0]!.weights.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
    expect(files.weights.byteLength).toBe(bytes);
    expect(model.countParams() * 4).toBe(bytes);
    expect(json.trainingConfig).toBeDefined();
    // Must survive a JSON round trip (it is written to a file).
    expect(JSON.parse(JSON.stringify(files.modelJson))).toEqual(files.modelJson);
    model.dispose();
  });

  it('round-trips to identical predictions on wasm and cpu, compiled', async () => {
    const model = buildModel(TINY);
    const train = separable(32, TINY.maxLen, TINY.maxWords, 3);
    await trainModel({ model, train, validation: train, epochs: 1, batchSize: 8, seed: 1 });
    const expected = await predictProbabilities(model, train.x, train.n, train.maxLen);
    const files = await serializeModel(model);
    const json = JSON.parse(JSON.stringify(files.modelJson)) as Record<string, unknown>;
    for (const backend of ['wasm', 'cpu'] as const) {
      await tf.setBackend(backend);
      const loaded = await deserializeModel({ modelJson: json, weights: files.weights });
      expect(loaded.optimizer).toBeDefined();
      const got = await predictProbabilities(loaded, train.x, train.n, train.maxLen);
      if (backend === 'wasm') expect(Array.from(got)).toEqual(Array.from(expected));
      else got.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
      loaded.dispose();
    }
    await tf.setBackend('wasm');
    model.dispose();
  });

  it('loads with stock tf.loadLayersModel over http from model.json + weights.bin', async () => {
    const model = buildModel(TINY);
    // Trained, so the comparison is not of near-initial weights only.
    const data = separable(32, TINY.maxLen, TINY.maxWords, 3);
    await trainModel({ model, train: data, validation: data, epochs: 2, batchSize: 8, seed: 1 });
    const files = await serializeModel(model);
    await writeFile(path.join(dir, 'model.json'), JSON.stringify(files.modelJson));
    await writeFile(path.join(dir, WEIGHTS_FILE), files.weights);
    server = createServer((req, res) => {
      const name = path.basename(req.url ?? '');
      readFile(path.join(dir, name)).then(
        (body) => res.writeHead(200).end(body),
        () => res.writeHead(404).end(),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const loaded = await tf.loadLayersModel(`http://127.0.0.1:${port}/model.json`);
    const x = tf.tensor2d(separable(4, TINY.maxLen, TINY.maxWords, 9).x, [4, TINY.maxLen], 'int32');
    // The saved model is the fused one; stock tfjs loads it as its own LSTM class with no custom code.
    expect(loaded.layers[1]?.constructor).toBe(Object.getPrototypeOf(tf.layers.lstm({ units: 1 })).constructor);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    // Same weights, two implementations (float32 ops vs the fused layer's float64 gate math): equal to float32 noise.
    const av = a.dataSync();
    b.dataSync().forEach((v, i) => expect(Math.abs(v - (av[i] as number))).toBeLessThan(1e-5));
    tf.dispose([x, a, b]);
    loaded.dispose();
    model.dispose();
  });

  it('rejects a weights buffer that does not match the manifest', async () => {
    const model = buildModel(TINY);
    const files = await serializeModel(model);
    await expect(deserializeModel({ modelJson: files.modelJson, weights: files.weights.subarray(4) })).rejects.toThrow(/weights\.bin: expected/);
    model.dispose();
  });
});
