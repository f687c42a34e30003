/**
 * Masking benchmark: the same classifier (Embedding -> LSTM|GRU -> Dense softmax) trained on SMS-like text lengths
 * with and without `maskZero`, on the wasm backend. Without masking every batch is fed all `max_len` columns; with
 * masking `trainModel` buckets rows by length and feeds each batch only its longest row. Prints epoch seconds, the
 * mean columns fed and validation accuracy for both, and the time ratio; also how much padding each bucketing
 * chunk size would feed (the choice of `BUCKET_CHUNK_BATCHES`). Not a test: figures, not assertions.
 *
 *   node --conditions=source --import tsx packages/model/bench/mask-bench.ts
 *        [--layer stock|fused] [--cell lstm|gru] [--epochs 3] [--n 2000] [--batch 32] [--units 32] [--embedding 32]
 *
 * Data: synthetic, since the built-in dataset (SpamAssassin mails) is long text: median 190 tokens, 76% of the mails
 * longer than 100, so at max_len 100 nearly every row is full and masking has nothing to cut. Here lengths are
 * log-normal with median 15 (sigma 0.75: 90% under ~39, ~0.7% over 100, cut to the last 100 as Keras does), the
 * vocabulary 10,000 ids with Zipf-like frequencies, and a label a model must learn: "spam" rows carry one to three
 * of 50 marker words. Pre-padded with 0 like Keras `pad_sequences`.
 *
 * Method: both models get the same initial weights, optimizer (Adam, lazy embedding rows, as `buildModel` uses) and
 * batches' seed; their epochs alternate (unmasked epoch 1, masked epoch 1, ...), so load from other processes hits
 * both alike. `--layer fused` uses sweepq's fused LSTM (with a mask it falls back to the stock implementation until
 * the fused layer supports masks); GRU is always the stock layer.
 */
import { parseArgs } from 'node:util';
import { initBackend, makeLazyAdam, tf, trainModel, type EpochLog, type TrainData } from '../src/index.js';
import { fusedLstm } from '../src/fused-layers.js';
import { mulberry32 } from '../src/random.js';
import { BUCKET_CHUNK_BATCHES, epochBatches } from '../src/training.js';
import { oneOf, positiveInt as int } from './cli-args.js';

const { values: args } = parseArgs({
  options: {
    layer: { type: 'string', default: 'stock' },
    cell: { type: 'string', default: 'lstm' },
    epochs: { type: 'string', default: '3' },
    n: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '32' },
    units: { type: 'string', default: '32' },
    embedding: { type: 'string', default: '32' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log('usage: mask-bench.ts [--layer stock|fused] [--cell lstm|gru] [--epochs N] [--n N] [--batch N] [--units N] [--embedding N]');
  process.exit(0);
}

const LAYER = oneOf('layer', args.layer, ['stock', 'fused'] as const);
const CELL = oneOf('cell', args.cell, ['lstm', 'gru'] as const);
const EPOCHS = int('epochs', args.epochs);
const N = int('n', args.n);
const BATCH = int('batch', args.batch);
const UNITS = int('units', args.units);
const EMBEDDING = int('embedding', args.embedding);
const VOCAB = 10_000;
const MAX_LEN = 100;
const MARKERS = 50;

/** SMS-like rows: log-normal lengths (median 15), Zipf-like word ids, label 1 iff a marker word (ids 1..50) occurs. */
function smsLike(n: number, seed: number): TrainData & { lengths: Int32Array } {
  const rand = mulberry32(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  // Zipf-like over ids MARKERS+1..VOCAB-1: rank r has weight ~1/r, drawn by inverting the continuous CDF.
  const words = VOCAB - 1 - MARKERS;
  const word = (): number => MARKERS + 1 + Math.min(words - 1, Math.floor(Math.exp(rand() * Math.log(words + 1)) - 1));
  const x = new Int32Array(n * MAX_LEN);
  const y = new Int32Array(n);
  const lengths = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const len = Math.min(MAX_LEN, Math.max(1, Math.round(15 * Math.exp(0.75 * normal()))));
    const row = i * MAX_LEN + MAX_LEN - len;
    for (let t = 0; t < len; t++) x[row + t] = word();
    if (rand() < 0.4) {
      y[i] = 1;
      const k = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < k; j++) x[row + Math.floor(rand() * len)] = 1 + Math.floor(rand() * MARKERS);
    }
    lengths[i] = len;
  }
  return { x, y, n, maxLen: MAX_LEN, lengths };
}

function quantile(sorted: Int32Array, q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

function buildModel(masked: boolean): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.embedding({
      inputDim: VOCAB,
      outputDim: EMBEDDING,
      ...(masked ? { maskZero: true } : { inputLength: MAX_LEN }),
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 1 }),
    }),
  );
  const rnnArgs = {
    units: UNITS,
    recurrentActivation: 'sigmoid',
    kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    recurrentInitializer: tf.initializers.orthogonal({ gain: 1, seed: 3 }),
  } as const;
  if (CELL === 'gru') model.add(tf.layers.gru(rnnArgs));
  else model.add(LAYER === 'fused' ? fusedLstm({ ...rnnArgs, unitForgetBias: true }) : tf.layers.lstm({ ...rnnArgs, unitForgetBias: true }));
  model.add(tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
  model.compile({ optimizer: makeLazyAdam(0.005, model), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

const info = await initBackend({ prefer: 'wasm' });
const train = smsLike(N, 1);
const validation = smsLike(Math.max(BATCH, Math.round(N / 4)), 2);
const sortedLengths = train.lengths.slice().sort();
const positives = train.y.reduce((a, b) => a + b, 0) / N;
console.log(`backend ${info.backend}, layer ${LAYER}, cell ${CELL}, n ${N} (+${validation.n} validation), batch ${BATCH}, units ${UNITS}, embedding ${EMBEDDING}, max_len ${MAX_LEN}, vocab ${VOCAB}`);
console.log(
  `lengths: p10 ${quantile(sortedLengths, 0.1)}, p25 ${quantile(sortedLengths, 0.25)}, median ${quantile(sortedLengths, 0.5)}, ` +
    `p75 ${quantile(sortedLengths, 0.75)}, p90 ${quantile(sortedLengths, 0.9)}, p99 ${quantile(sortedLengths, 0.99)}, max ${quantile(sortedLengths, 1)}; ` +
    `mean ${(train.lengths.reduce((a, b) => a + b, 0) / N).toFixed(1)}; positives ${(100 * positives).toFixed(0)}%`,
);

// Columns fed per sample (the model's work per sample) by bucketing chunk size, on 1,000 batches of the same length
// distribution (so that even 100-batch chunks are a tenth of an epoch), mean over 3 epochs.
const big = smsLike(1000 * BATCH, 3);
const chunkSizes = [1, 5, 10, 25, 50, 100, 1000];
const fed = chunkSizes.map((chunk) => {
  let total = 0;
  for (let e = 0; e < 3; e++) for (const b of epochBatches({ n: big.n, batchSize: BATCH, seed: 7, epoch: e, maxLen: MAX_LEN, lengths: big.lengths, chunkBatches: chunk })) total += b.seqLen * b.rows.length;
  return total / (3 * big.n);
});
const meanLength = big.lengths.reduce((a, b) => a + b, 0) / big.n;
console.log(`\ncolumns fed per sample by bucketing chunk, ${big.n} rows of mean length ${meanLength.toFixed(1)} (batches per chunk; 1 = trimmed, not bucketed; 1000 = whole epoch sorted; trainModel uses ${BUCKET_CHUNK_BATCHES}):`);
console.log(chunkSizes.map((c, i) => `${c}: ${(fed[i] as number).toFixed(1)}`).join(' | '));

const unmasked = buildModel(false);
const masked = buildModel(true);
masked.setWeights(unmasked.getWeights());
const logs: { unmasked: EpochLog[]; masked: EpochLog[] } = { unmasked: [], masked: [] };
for (let e = 0; e < EPOCHS; e++) {
  for (const [name, model] of [['unmasked', unmasked], ['masked', masked]] as const) {
    const { history } = await trainModel({ model, train, validation, epochs: e + 1, startEpoch: e, batchSize: BATCH, seed: 7 });
    logs[name].push(...history);
  }
}

const pad = (s: string, w: number): string => s.padStart(w);
console.log(`\n${pad('epoch', 5)} | ${pad('unmasked s', 10)} ${pad('cols', 5)} ${pad('val acc', 7)} | ${pad('masked s', 10)} ${pad('cols', 5)} ${pad('val acc', 7)} | ${pad('time ratio', 10)}`);
for (let e = 0; e < EPOCHS; e++) {
  const u = logs.unmasked[e] as EpochLog;
  const m = logs.masked[e] as EpochLog;
  console.log(
    `${pad(String(e + 1), 5)} | ${pad(u.seconds.toFixed(2), 10)} ${pad(String(MAX_LEN), 5)} ${pad(u.val_accuracy.toFixed(3), 7)} | ` +
      `${pad(m.seconds.toFixed(2), 10)} ${pad((m.meanSeqLen ?? MAX_LEN).toFixed(1), 5)} ${pad(m.val_accuracy.toFixed(3), 7)} | ${pad((u.seconds / m.seconds).toFixed(2), 10)}`,
  );
}
const total = (ls: EpochLog[]): number => ls.reduce((a, l) => a + l.seconds, 0);
console.log(`total: unmasked ${total(logs.unmasked).toFixed(1)} s, masked ${total(logs.masked).toFixed(1)} s, unmasked/masked ${(total(logs.unmasked) / total(logs.masked)).toFixed(2)}x`);
unmasked.dispose();
masked.dispose();
