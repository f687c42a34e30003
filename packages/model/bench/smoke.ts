/**
 * Training-speed smoke check of the seed model shape (vocab 10,000, embedding 64, LSTM 64, length 100,
 * batch 32) on the wasm and cpu backends. Not a test: timings belong here, not in assertions.
 *
 *   node --conditions=source --import tsx packages/model/bench/smoke.ts [batches=10]
 */
import { buildModel, initBackend, tf, trainModel, type TrainData } from '../src/index.js';

const VOCAB = 10_000;
const MAX_LEN = 100;
const BATCH = 32;
const batches = Number(process.argv[2] ?? 10);

function randomData(n: number, seed: number): TrainData {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const x = new Int32Array(n * MAX_LEN);
  for (let i = 0; i < x.length; i++) x[i] = Math.floor(rand() * VOCAB);
  const y = Int32Array.from({ length: n }, () => (rand() < 0.5 ? 0 : 1));
  return { x, y, n, maxLen: MAX_LEN };
}

const train = randomData(batches * BATCH, 1);
const validation = randomData(BATCH, 2);

for (const prefer of ['wasm', 'cpu'] as const) {
  const { backend, tfjsVersion } = await initBackend({ prefer });
  const model = buildModel({
    maxWords: VOCAB,
    maxLen: MAX_LEN,
    embeddingDim: 64,
    lstmUnits: 64,
    dropout: 0,
    recurrentDropout: 0,
    learningRate: 1e-3,
    optimizer: 'adam',
    numClasses: 2,
    seed: 1,
  });
  const stamps: number[] = [];
  const { history } = await trainModel({
    model,
    train,
    validation,
    epochs: 1,
    batchSize: BATCH,
    seed: 1,
    onBatchEnd: () => {
      stamps.push(performance.now());
    },
  });
  const log = history[0]!;
  // Steady state: from the end of the first batch (graph warm-up, optimizer slot creation) to the last.
  const steady = stamps.length > 1 ? ((stamps.length - 1) * BATCH) / ((stamps.at(-1)! - stamps[0]!) / 1000) : Number.NaN;
  console.log(
    JSON.stringify({
      backend,
      tfjsVersion,
      batches: stamps.length,
      batchSize: BATCH,
      samplesPerSecEpoch: Number(log.samplesPerSec.toFixed(1)),
      samplesPerSecSteady: Number(steady.toFixed(1)),
      msPerBatchSteady: Number(((BATCH / steady) * 1000).toFixed(0)),
      loss: Number(log.loss.toFixed(4)),
      numTensors: tf.memory().numTensors,
    }),
  );
  model.dispose();
}
