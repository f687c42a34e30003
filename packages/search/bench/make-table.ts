/**
 * Tabular benchmark of real trainings (issue 26, as HPOBench / NAS-Bench do): trains a seeded random subset of the
 * discrete space `TABLE_SPACE` (table-format.ts) on two datasets with sweepq's own model and training code
 * (@sweepq/model `buildModel`/`trainModel`, data from @sweepq/data) and records per epoch the validation accuracy and
 * loss and the seconds the epoch took, and per configuration the parameter count, the saved model's bytes and the
 * median latency of classifying one text. A benchmark, not a test.
 *
 *   npm run bench:table -- [--configs 160] [--seed 1] [--epochs 9] [--max-len 40] [--train-rows 800]
 *                          [--validation-rows 400] [--datasets spam-assassin,topics4] [--out-dir DIR] [--probe N] [--reverse]
 *                          [--start K] [--compact NOTE]
 *
 * Datasets:
 * - `spam-assassin`: the built-in dataset, prepared as a sweep does (stratified 70/20/10 split, seed 1); the first
 *   `--train-rows` of the (shuffled, stratified) training split and the first `--validation-rows` of the validation
 *   split, so an epoch costs about a second.
 * - `topics4`: four classes made here, deterministically ({@link topicsDataset}): Zipf background words, each class a
 *   set of topic words overlapping its neighbours', classes 2 and 3 share their topic words and differ only in the
 *   order of a marker word, and 5 % of labels flipped, so accuracy depends on vocabulary size and on the recurrent layer.
 *
 * The same configurations (ids drawn by `sampleConfigIds(--configs, --seed)`) go to both datasets, alternately, so a
 * partial run has both tables equally far. Each finished configuration is appended to
 * `<out-dir>/<dataset>.jsonl.gz` as one gzip member; a restarted run skips the ids already there. `--probe N` trains
 * N configurations per dataset, prints their cost and writes nothing (for choosing the budget). `--reverse` takes the
 * configurations from the last one back: a second process started with it on a busy machine shares the work with the
 * first (each re-reads the files before every configuration and skips what the other has done; where they meet, at
 * most one configuration is trained twice and the reader keeps the first copy); `--start K` starts a third one at
 * configuration K. `--compact NOTE` trains nothing: it
 * rewrites each finished file as one gzip member (smaller), rows in draw order, and records in the header when the
 * generation started and ended (the file's last write) with NOTE (how it was run).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { encodeForTrial, loadDataset, prepareDataset, zipfSampler } from '@sweepq/data';
import type { PreparedDataset, RawDataset } from '@sweepq/data';
import { DivergedError, buildModel, initBackend, medianLatencyMs, modelParamsFromTrial, paramCount, savedBytes, serializeModel, trainModel } from '@sweepq/model';
import type { TrainData } from '@sweepq/model';
import { createRng, withDefaultParams } from '@sweepq/sweep-config';
import { positiveInt as int } from '../../model/bench/cli-args.js';
import { TABLE_SPACE, configOf, parseTable, sampleConfigIds, spaceSize } from './table-format.js';
import type { TableHeader, TableRow } from './table-format.js';

const { values: args } = parseArgs({
  options: {
    configs: { type: 'string', default: '160' },
    seed: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '9' },
    'max-len': { type: 'string', default: '40' },
    'train-rows': { type: 'string', default: '800' },
    'validation-rows': { type: 'string', default: '400' },
    datasets: { type: 'string', default: 'spam-assassin,topics4' },
    'out-dir': { type: 'string', default: fileURLToPath(new URL('./tables/', import.meta.url)) },
    probe: { type: 'string' },
    reverse: { type: 'boolean', default: false },
    start: { type: 'string', default: '1' },
    compact: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (args.help) {
  console.log('usage: npm run bench:table -- [--configs N] [--seed N] [--epochs N] [--max-len N] [--train-rows N] [--validation-rows N] [--datasets spam-assassin,topics4] [--out-dir DIR] [--probe N] [--reverse] [--start K] [--compact NOTE]');
  process.exit(0);
}
const CONFIGS = int('configs', args.configs);
const SEED = int('seed', args.seed);
const EPOCHS = int('epochs', args.epochs);
const MAX_LEN = int('max-len', args['max-len']);
const TRAIN_ROWS = int('train-rows', args['train-rows']);
const VALIDATION_ROWS = int('validation-rows', args['validation-rows']);
const PROBE = args.probe === undefined ? undefined : int('probe', args.probe);
const DATASETS = ['spam-assassin', 'topics4'] as const;
type DatasetName = (typeof DATASETS)[number];
const datasets = (args.datasets ?? '').split(',').filter((d) => d !== '') as DatasetName[];
for (const d of datasets) {
  if (!(DATASETS as readonly string[]).includes(d)) {
    console.error(`--datasets: expected a comma-separated list of ${DATASETS.join(', ')}; got ${JSON.stringify(d)}`);
    process.exit(2);
  }
}
const OUT_DIR = args['out-dir'] as string;

/**
 * Four-class text made from `seed`: 10-40 words per row from a Zipf background over 12,000 word ranks; with
 * probability 0.12 a word is instead one of its class's 60 topic words (drawn from ranks 300-9,000, so a small
 * `max_words` misses many; classes 0/1 and 1/2 share a third of them). Classes 2 and 3 have the same topic words; in
 * class 3 the marker word `zzneg` comes right before a topic word, in class 2 right after one (`zzneg` also occurs
 * at random in every class), so telling them apart needs word order. 5 % of labels are flipped at random.
 */
function topicsDataset(rows: number, seed: number): RawDataset {
  const rng = createRng(seed, 0x70b1c5);
  const rand = (): number => rng.next();
  const zipf = zipfSampler(12_000, rand);
  const topicWords = (): number[] => Array.from({ length: 60 }, () => 300 + Math.floor(rand() * 8_700));
  const t0 = topicWords();
  const t1 = [...t0.slice(0, 20), ...topicWords().slice(20)];
  const t2 = [...t1.slice(0, 20), ...topicWords().slice(20)];
  const topics = [t0, t1, t2, t2];
  const word = (k: number): string => `w${k.toString(36)}`;
  const texts: string[] = [];
  const labels: string[] = [];
  for (let r = 0; r < rows; r++) {
    const c = Math.floor(rand() * 4);
    const n = 10 + Math.floor(rand() * 31);
    const parts: string[] = [];
    const topic = topics[c] as number[];
    while (parts.length < n) {
      if (rand() < 0.12) {
        const t = word(topic[Math.floor(rand() * topic.length)] as number);
        if (c >= 2 && rand() < 0.5) parts.push(...(c === 3 ? ['zzneg', t] : [t, 'zzneg']));
        else parts.push(t);
      } else parts.push(rand() < 0.02 ? 'zzneg' : word(zipf()));
    }
    const label = rand() < 0.05 ? Math.floor(rand() * 4) : c;
    texts.push(parts.join(' '));
    labels.push(`topic${label}`);
  }
  return { texts, labels };
}

interface LoadedDataset {
  name: DatasetName;
  source: string;
  note: string;
  prepared: PreparedDataset;
  train: (maxWords: number) => TrainData;
  validation: (maxWords: number) => TrainData;
}

async function load(name: DatasetName): Promise<LoadedDataset> {
  const raw = name === 'spam-assassin' ? await loadDataset({ uri: 'builtin:spam-assassin' }) : topicsDataset(3_000, 1);
  const uri = name === 'spam-assassin' ? 'builtin:spam-assassin' : 'topics4';
  // As a sweep prepares it (the spec's defaults: 20 % validation, 10 % test, seed 1).
  const prepared = prepareDataset(raw, { validationSplit: 0.2, testSplit: 0.1, seed: 1, uri });
  // The splits are shuffled and stratified, so their first rows are a fair sample.
  const head = (split: 'train' | 'validation', rows: number, maxWords: number): TrainData => {
    const e = encodeForTrial(prepared.splits[split], { maxWords, maxLen: MAX_LEN });
    const n = Math.min(rows, e.n);
    return { x: e.x.slice(0, n * MAX_LEN), y: e.y.slice(0, n), n, maxLen: MAX_LEN };
  };
  return {
    name,
    source: name === 'spam-assassin' ? 'builtin:spam-assassin (6,046 mails)' : 'topicsDataset(3000, seed 1) in make-table.ts',
    note:
      name === 'spam-assassin'
        ? `stratified split 70/20/10 (seed 1) of all rows; first ${TRAIN_ROWS} training and ${VALIDATION_ROWS} validation rows`
        : `3,000 generated rows, stratified split 70/20/10 (seed 1); first ${TRAIN_ROWS} training and ${VALIDATION_ROWS} validation rows`,
    prepared,
    train: (w) => head('train', TRAIN_ROWS, w),
    validation: (w) => head('validation', VALIDATION_ROWS, w),
  };
}

/** Train one configuration on one dataset and measure it. */
async function trainConfig(ds: LoadedDataset, id: number): Promise<TableRow> {
  const params = withDefaultParams({ ...configOf(id), max_len: MAX_LEN, epochs: EPOCHS });
  const model = buildModel(modelParamsFromTrial(params, ds.prepared.classes.length, SEED));
  const row: TableRow = {
    kind: 'config',
    id,
    params: configOf(id),
    val_accuracy: [],
    val_loss: [],
    seconds: [],
    loss: [],
    diverged: false,
    param_count: paramCount(model),
    model_bytes: 0,
    latency_ms: 0,
    loadavg1: 0,
  };
  try {
    const validation = ds.validation(params.max_words);
    try {
      await trainModel({
        model,
        train: ds.train(params.max_words),
        validation,
        epochs: EPOCHS,
        batchSize: params.batch_size,
        seed: SEED,
        onEpochEnd: (e) => {
          row.val_accuracy.push(e.val_accuracy);
          row.val_loss.push(e.val_loss);
          row.seconds.push(e.seconds);
          row.loss.push(e.loss);
        },
      });
    } catch (err) {
      if (!(err instanceof DivergedError)) throw err;
      row.diverged = true;
    }
    const files = await serializeModel(model);
    // As the committed tables were made: compact topology JSON and weights (a trial's result also counts vocab.json),
    // one already-encoded validation row classified alone (a trial's result also times the tokenizer).
    row.model_bytes = savedBytes([JSON.stringify(files.modelJson), files.weights]);
    row.latency_ms = await medianLatencyMs(model, [validation.x.slice(0, MAX_LEN)], (x) => x);
  } finally {
    model.dispose();
  }
  row.loadavg1 = loadavg()[0] as number;
  return row;
}

const { backend, tfjsVersion } = await initBackend({ prefer: 'auto' });
const loaded = await Promise.all(datasets.map(load));
const ids = sampleConfigIds(CONFIGS, SEED);
const command = `npm run bench:table -- ${process.argv.slice(2).join(' ')}`.trim();

if (PROBE !== undefined) {
  for (const ds of loaded) {
    for (const id of ids.slice(0, PROBE)) {
      const t = performance.now();
      const r = await trainConfig(ds, id);
      const sec = (performance.now() - t) / 1000;
      console.log(`${ds.name} #${id} ${JSON.stringify(r.params)}: ${sec.toFixed(1)} s (epochs ${r.seconds.map((s) => s.toFixed(2)).join(' ')}), val_acc ${r.val_accuracy.map((v) => v.toFixed(3)).join(' ')}, ${r.param_count} params, ${r.model_bytes} B, ${r.latency_ms.toFixed(2)} ms`);
    }
  }
  process.exit(0);
}

if (args.compact !== undefined) {
  for (const ds of loaded) {
    const file = join(OUT_DIR, `${ds.name}.jsonl.gz`);
    const table = parseTable(readFileSync(file));
    const rank = new Map(ids.map((id, i) => [id, i]));
    const rows = [...table.rows].sort((a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity));
    const header = { ...table.header, generation: { started: table.header.machine.date, finished: statSync(file).mtime.toISOString(), note: args.compact } };
    writeFileSync(file, gzipSync([header, ...rows].map((r) => `${JSON.stringify(r)}\n`).join(''), { level: 9 }));
    console.error(`${file}: ${rows.length} configurations, ${statSync(file).size} bytes`);
  }
  process.exit(0);
}

mkdirSync(OUT_DIR, { recursive: true });
const fileOf = (ds: LoadedDataset): string => join(OUT_DIR, `${ds.name}.jsonl.gz`);
for (const ds of loaded) {
  const file = fileOf(ds);
  if (existsSync(file)) {
    const table = parseTable(readFileSync(file));
    const same = table.header.fixed.max_len === MAX_LEN && table.header.fixed.epochs === EPOCHS && table.header.fixed.seed === SEED && table.header.dataset.trainRows === Math.min(TRAIN_ROWS, ds.prepared.splits.train.labels.length);
    if (!same) {
      console.error(`${file} was made with other settings (${JSON.stringify(table.header.fixed)}, ${table.header.dataset.trainRows} training rows); move it away or pass the same flags`);
      process.exit(2);
    }
  } else {
    const header: TableHeader = {
      kind: 'header',
      version: 1,
      dataset: {
        name: ds.name,
        source: ds.source,
        classes: ds.prepared.classes,
        trainRows: Math.min(TRAIN_ROWS, ds.prepared.splits.train.labels.length),
        validationRows: Math.min(VALIDATION_ROWS, ds.prepared.splits.validation.labels.length),
        note: ds.note,
      },
      space: TABLE_SPACE,
      fixed: { max_len: MAX_LEN, epochs: EPOCHS, seed: SEED },
      command,
      machine: {
        node: process.version,
        backend,
        tfjs: tfjsVersion,
        platform: `${platform()} ${process.arch}`,
        cpus: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        date: new Date().toISOString(),
        loadavg: loadavg(),
      },
    };
    writeFileSync(file, gzipSync(`${JSON.stringify(header)}\n`));
  }
}

console.error(`${ids.length} of ${spaceSize()} configurations x ${loaded.map((d) => d.name).join(', ')}; ${EPOCHS} epochs, max_len ${MAX_LEN}, ${TRAIN_ROWS} training rows; backend ${backend}`);
const t0 = performance.now();
let trained = 0;
const START = int('start', args.start);
// From configuration --start on (1-based), wrapping around; --reverse walks that order backwards.
const order = [...ids.entries()];
order.push(...order.splice(0, Math.min(START, order.length) - 1));
if (args.reverse) order.reverse();
for (const [k, id] of order) {
  for (const ds of loaded) {
    // Another process (--reverse) may have trained it meanwhile.
    if (parseTable(readFileSync(fileOf(ds))).rows.some((r) => r.id === id)) continue;
    const row = await trainConfig(ds, id);
    appendFileSync(fileOf(ds), gzipSync(`${JSON.stringify(row)}\n`));
    trained += 1;
    const best = Math.max(...row.val_accuracy.filter(Number.isFinite));
    console.error(`[${k + 1}/${ids.length}] ${ds.name} #${id}: best val_acc ${best.toFixed(3)}, ${row.seconds.reduce((a, b) => a + b, 0).toFixed(1)} s training; ${((performance.now() - t0) / 1000).toFixed(0)} s for ${trained} so far`);
  }
}
console.error(`done: ${trained} trainings in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
