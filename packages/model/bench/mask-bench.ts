/**
 * Masking benchmark: the same classifier (`buildModel`: Embedding -> [Bidirectional] LSTM|GRU x layers -> Dense
 * softmax) trained on SMS-like text lengths with and without `maskZero`, on the wasm backend. Without masking every
 * batch is fed all `max_len` columns; with masking `trainModel` buckets rows by length and feeds each batch only its
 * longest row. Prints epoch seconds, the mean columns fed and validation accuracy for both, the time ratio, and over
 * `--seeds` runs the mean, min and max of the final validation accuracy; also how much padding each bucketing chunk
 * size would feed (the choice of `BUCKET_CHUNK_BATCHES`). Not a test: figures, not assertions.
 *
 *   node --conditions=source --import tsx packages/model/bench/mask-bench.ts
 *        [--impl fused|stock] [--cell lstm|gru] [--layers 1] [--bidirectional] [--epochs 3] [--n 2000] [--batch 32]
 *        [--units 32] [--embedding 32] [--lr 0.005] [--seeds 1] [--json]
 *
 * Data (`bench/sms-like.ts`): synthetic, log-normal lengths with median 15 and a tail to max_len 100, a 10,000-id
 * Zipf-like vocabulary, and a label carried by marker words; the same training and validation rows for every seed.
 *
 * Method: per seed k, both models are `buildModel` with seed k (the same initial weights, as the mask changes no
 * weight), `lstmImplementation` (`buildModelWith`) from `--impl` (`fused`, the default, measures sweepq's fused masked path; `stock` the
 * tfjs-layers classes), Adam with lazy embedding rows, and trainModel's seed k; their epochs alternate (unmasked epoch
 * 1, masked epoch 1, ...), so load from other processes hits both alike. Epoch seconds include validation.
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { initBackend, trainModel, type EpochLog } from '../src/index.js';
import { BUCKET_CHUNK_BATCHES, epochBatches } from '../src/training.js';
import { buildModelWith } from '../src/testing.js';
import { oneOf, positiveInt as int } from './cli-args.js';
import { smsLike } from './sms-like.js';
import { printTable } from './table.js';

const { values: args } = parseArgs({
  options: {
    impl: { type: 'string', default: 'fused' },
    cell: { type: 'string', default: 'lstm' },
    layers: { type: 'string', default: '1' },
    bidirectional: { type: 'boolean', default: false },
    epochs: { type: 'string', default: '3' },
    n: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '32' },
    units: { type: 'string', default: '32' },
    embedding: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.005' },
    seeds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log(
    'usage: mask-bench.ts [--impl fused|stock] [--cell lstm|gru] [--layers N] [--bidirectional] [--epochs N] [--n N] [--batch N] ' +
      '[--units N] [--embedding N] [--lr R] [--seeds N] [--json]',
  );
  process.exit(0);
}

const IMPL = oneOf('impl', args.impl, ['fused', 'stock'] as const);
const CELL = oneOf('cell', args.cell, ['lstm', 'gru'] as const);
const LAYERS = int('layers', args.layers);
const BIDIRECTIONAL = args.bidirectional;
const EPOCHS = int('epochs', args.epochs);
const N = int('n', args.n);
const BATCH = int('batch', args.batch);
const UNITS = int('units', args.units);
const EMBEDDING = int('embedding', args.embedding);
const SEEDS = int('seeds', args.seeds);
const LR = Number(args.lr);
if (!(LR > 0 && Number.isFinite(LR))) {
  console.error(`--lr: expected a finite number > 0, got ${JSON.stringify(args.lr)}`);
  process.exit(2);
}
const VOCAB = 10_000;
const MAX_LEN = 100;

function quantile(sorted: Int32Array, q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

const loadBefore = loadavg()[0]!;
const info = await initBackend({ prefer: 'wasm' });
const train = smsLike(N, 1);
const validation = smsLike(Math.max(BATCH, Math.round(N / 4)), 2);
const sortedLengths = train.lengths.slice().sort();
const positives = train.y.reduce((a, b) => a + b, 0) / N;
const arch = `${BIDIRECTIONAL ? 'bidirectional ' : ''}${CELL}${LAYERS > 1 ? ` x${LAYERS}` : ''}`;
const log = (line: string): void => {
  if (!args.json) console.log(line);
};
log(
  `backend ${info.backend}, node ${process.version}, impl ${IMPL}, ${arch}, n ${N} (+${validation.n} validation), batch ${BATCH}, units ${UNITS}, ` +
    `embedding ${EMBEDDING}, lr ${LR}, max_len ${MAX_LEN}, vocab ${VOCAB}, ${EPOCHS} epochs, ${SEEDS} seed(s)`,
);
log(
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
log(`\ncolumns fed per sample by bucketing chunk, ${big.n} rows of mean length ${meanLength.toFixed(1)} (batches per chunk; 1 = trimmed, not bucketed; 1000 = whole epoch sorted; trainModel uses ${BUCKET_CHUNK_BATCHES}):`);
log(chunkSizes.map((c, i) => `${c}: ${(fed[i] as number).toFixed(1)}`).join(' | '));

type Kind = 'unmasked' | 'masked';
const KINDS: readonly Kind[] = ['unmasked', 'masked'];
const runs: Array<Record<Kind, EpochLog[]>> = [];
for (let seed = 1; seed <= SEEDS; seed++) {
  const build = (maskZero: boolean): ReturnType<typeof buildModelWith> =>
    buildModelWith({
      maxWords: VOCAB,
      maxLen: MAX_LEN,
      embeddingDim: EMBEDDING,
      lstmUnits: UNITS,
      dropout: 0,
      recurrentDropout: 0,
      learningRate: LR,
      optimizer: 'adam',
      numClasses: 2,
      seed,
      cell: CELL,
      lstmLayers: LAYERS,
      bidirectional: BIDIRECTIONAL,
      maskZero,
    }, { lstmImplementation: IMPL });
  const models: Record<Kind, ReturnType<typeof buildModelWith>> = { unmasked: build(false), masked: build(true) };
  const logs: Record<Kind, EpochLog[]> = { unmasked: [], masked: [] };
  for (let e = 0; e < EPOCHS; e++) {
    for (const kind of KINDS) {
      const { history } = await trainModel({ model: models[kind], train, validation, epochs: e + 1, startEpoch: e, batchSize: BATCH, seed });
      logs[kind].push(...history);
    }
  }
  for (const kind of KINDS) models[kind].dispose();
  runs.push(logs);
  if (args.json) console.log(JSON.stringify({ seed, ...logs }));
  else console.error(`seed ${seed}: final val acc unmasked ${logs.unmasked.at(-1)!.val_accuracy.toFixed(4)}, masked ${logs.masked.at(-1)!.val_accuracy.toFixed(4)}`);
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const total = (ls: EpochLog[]): number => ls.reduce((a, l) => a + l.seconds, 0);
const f = (v: number, d = 2): string => v.toFixed(d);

// Per epoch, means over the seeds.
log(`\nper epoch, mean over ${SEEDS} seed(s) (s = epoch seconds with validation, cols = columns fed per sample):`);
printTable(
  ['epoch', 'unmasked s', 'cols', 'val acc', 'masked s', 'cols', 'val acc', 'time ratio'],
  Array.from({ length: EPOCHS }, (_, e) => {
    const at = (kind: Kind, pick: (l: EpochLog) => number): number => mean(runs.map((r) => pick(r[kind][e]!)));
    return [
      String(e + 1),
      f(at('unmasked', (l) => l.seconds)),
      String(MAX_LEN),
      f(at('unmasked', (l) => l.val_accuracy), 4),
      f(at('masked', (l) => l.seconds)),
      f(at('masked', (l) => l.meanSeqLen ?? MAX_LEN), 1),
      f(at('masked', (l) => l.val_accuracy), 4),
      `${f(at('unmasked', (l) => l.seconds) / at('masked', (l) => l.seconds))}x`,
    ];
  }),
);

// Per seed: totals and final validation accuracy.
log('\nper seed:');
printTable(
  ['seed', 'unmasked s', 'masked s', 'time ratio', 'final val acc unmasked', 'masked', 'masked - unmasked'],
  runs.map((r, i) => {
    const u = r.unmasked.at(-1)!.val_accuracy;
    const m = r.masked.at(-1)!.val_accuracy;
    return [String(i + 1), f(total(r.unmasked), 1), f(total(r.masked), 1), `${f(total(r.unmasked) / total(r.masked))}x`, f(u, 4), f(m, 4), `${m >= u ? '+' : ''}${f(100 * (m - u))}%`];
  }),
);

const finals = (kind: Kind): number[] => runs.map((r) => r[kind].at(-1)!.val_accuracy);
const stats = (xs: number[]): { mean: number; min: number; max: number } => ({ mean: mean(xs), min: Math.min(...xs), max: Math.max(...xs) });
const summary = {
  node: process.version,
  impl: IMPL,
  arch,
  n: N,
  validationN: validation.n,
  epochs: EPOCHS,
  seeds: SEEDS,
  units: UNITS,
  embedding: EMBEDDING,
  loadAverage: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 },
  epochSeconds: { unmasked: mean(runs.flatMap((r) => r.unmasked.map((l) => l.seconds))), masked: mean(runs.flatMap((r) => r.masked.map((l) => l.seconds))) },
  meanColumnsFed: { unmasked: MAX_LEN, masked: mean(runs.flatMap((r) => r.masked.map((l) => l.meanSeqLen ?? MAX_LEN))) },
  timeRatio: mean(runs.map((r) => total(r.unmasked))) / mean(runs.map((r) => total(r.masked))),
  finalValAccuracy: { unmasked: stats(finals('unmasked')), masked: stats(finals('masked')) },
  maskedBetterOrEqual: runs.filter((r) => r.masked.at(-1)!.val_accuracy >= r.unmasked.at(-1)!.val_accuracy).length,
};
if (args.json) console.log(JSON.stringify(summary));
else {
  const acc = (s: { mean: number; min: number; max: number }): string => `mean ${f(s.mean, 4)} (min ${f(s.min, 4)}, max ${f(s.max, 4)})`;
  console.log(
    `\nsummary: epoch ${f(summary.epochSeconds.unmasked)} s unmasked, ${f(summary.epochSeconds.masked)} s masked (${f(summary.meanColumnsFed.masked, 1)} of ${MAX_LEN} columns fed): ` +
      `${f(summary.timeRatio)}x; final val acc unmasked ${acc(summary.finalValAccuracy.unmasked)}, masked ${acc(summary.finalValAccuracy.masked)}; ` +
      `masked >= unmasked on ${summary.maskedBetterOrEqual} of ${SEEDS} seeds; load average ${summary.loadAverage.before} before, ${summary.loadAverage.after} after`,
  );
}
