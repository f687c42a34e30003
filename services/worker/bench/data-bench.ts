#!/usr/bin/env node
// `npm run bench:data -- --rows 300000`: a benchmark, not a test. Generates (or reuses, or reads) a CSV of N rows,
// prepares it as the coordinator does, and loads and trains on it as a worker does, each step in its own process so
// its peak RSS is its own. Prints one table row per size (Markdown with --markdown, JSON with --json).
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  deserializeShard,
  encodeForTrial,
  loadCheckedDataset,
  parseShardManifest,
  prepareDataset,
  prepareDatasetFile,
  serializePrepared,
  shardPreparedFile,
  writeSyntheticCsv,
  type SplitName,
} from '@sweepq/data';
import { buildModel, initBackend, modelParamsFromTrial, trainModel, type BlockSource } from '@sweepq/model';
import { withDefaultParams, type DatasetSpec } from '@sweepq/sweep-config';

const { values: opts } = parseArgs({
  options: {
    /** Rows of the generated CSV, comma-separated. */
    rows: { type: 'string', default: '300000' },
    /** Use this CSV (text,label) instead of generating one. */
    file: { type: 'string' },
    /** Folder for generated files (kept and reused across runs). */
    dir: { type: 'string', default: join(tmpdir(), 'sweepq-bench-data') },
    /** Train the epoch on at most this many rows (0: the whole training split). */
    'train-rows': { type: 'string', default: '100000' },
    /** Validate on at most this many rows. */
    'validation-rows': { type: 'string', default: '5000' },
    /** Also prepare the way main did before streaming (whole file in memory), for comparison. */
    'in-memory': { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    // Internal: the child processes.
    role: { type: 'string' },
    csv: { type: 'string' },
    out: { type: 'string' },
  },
  strict: true,
});

const SELF = fileURLToPath(import.meta.url);
const specFor = (csv: string): DatasetSpec => ({ uri: csv, text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 42 });
/** Trial settings of the measurement: max_words 20000, max_len 100, batch 64, LSTM 32, one epoch. */
const PARAMS = withDefaultParams({ max_words: 20_000, max_len: 100, batch_size: 64, lstm_units: 32, embedding_dim: 32, epochs: 1 });

const maxRssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** Child: prepare as the coordinator does (streamed), then cut the shards workers fetch, without the upload. */
async function rolePrepare(csv: string, out: string): Promise<object> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const info = await prepareDatasetFile(specFor(csv), { tmpDir: resolve(out, '..'), outFile: out });
  const prepared = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const shardDir = `${out}.shards`;
  await rm(shardDir, { recursive: true, force: true });
  await mkdir(shardDir, { recursive: true });
  const manifest = await shardPreparedFile(out, info.hash, { write: (name, b) => writeFile(join(shardDir, name), b) });
  await writeFile(join(shardDir, 'manifest.json'), JSON.stringify(manifest));
  const shards = Object.values(manifest.splits).flatMap((sp) => sp.shards);
  return {
    seconds: (prepared - t0) / 1000,
    // On a shared machine the wall time counts other processes' turns; the process's CPU time does not.
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    shardSeconds: (performance.now() - prepared) / 1000,
    shards: shards.length,
    shardMb: Math.max(...shards.map((x) => x.bytes)) / 1e6,
    bytes: info.bytes,
    vocabulary: info.vocabulary,
    sizes: info.summary.sizes,
    rssMb: maxRssMb(),
  };
}

/** Child: prepare as main did before streaming: the whole file in memory. */
async function rolePrepareInMemory(csv: string): Promise<object> {
  const t0 = performance.now();
  const s = specFor(csv);
  const { raw } = await loadCheckedDataset(s);
  const bytes = serializePrepared(prepareDataset(raw, { validationSplit: s.validation_split, testSplit: s.test_split, seed: s.seed, uri: s.uri }));
  return { seconds: (performance.now() - t0) / 1000, bytes: bytes.length, rssMb: maxRssMb() };
}

/**
 * Child: train one (capped) epoch as a worker does, from the shards on local disk (a worker's cache after the
 * download): shards loaded and encoded as training reaches them, validation a shard at a time.
 */
async function roleWorker(out: string, trainRows: number, validationRows: number): Promise<object> {
  const t0 = performance.now();
  await initBackend({ prefer: 'auto' });
  const shardDir = `${out}.shards`;
  const manifest = parseShardManifest(JSON.parse(await readFile(join(shardDir, 'manifest.json'), 'utf8')), shardDir);
  const enc = { maxWords: PARAMS.max_words, maxLen: PARAMS.max_len };
  const source = (split: SplitName, cap: number): BlockSource => {
    const refs = manifest.splits[split].shards;
    const rows: number[] = [];
    let left = cap > 0 ? cap : Number.POSITIVE_INFINITY;
    for (const r of refs) {
      if (left <= 0) break;
      rows.push(Math.min(r.rows, left));
      left -= r.rows;
    }
    return {
      blockRows: rows,
      maxLen: PARAMS.max_len,
      load: async (b) => {
        const ref = refs[b]!;
        const bytes = await readFile(join(shardDir, ref.name));
        const e = encodeForTrial(deserializeShard(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), ref, manifest.classes.length, manifest.words.length), enc);
        const n = rows[b]!;
        return { x: e.x.subarray(0, n * PARAMS.max_len), y: e.y.subarray(0, n) };
      },
    };
  };
  const train = source('train', trainRows);
  const validation = source('validation', validationRows);
  const loadedAt = performance.now();
  const model = buildModel(modelParamsFromTrial(PARAMS, manifest.classes.length, 1));
  let firstBatch: number | undefined;
  const result = await trainModel({
    model,
    train,
    validation,
    epochs: 1,
    batchSize: PARAMS.batch_size,
    seed: 1,
    onBatchEnd: () => {
      firstBatch ??= performance.now();
    },
  });
  const epoch = result.history[0];
  return {
    loadSeconds: (loadedAt - t0) / 1000,
    firstBatchSeconds: ((firstBatch ?? performance.now()) - t0) / 1000,
    samplesPerSec: epoch?.samplesPerSec ?? 0,
    trainRows: train.blockRows.reduce((a, b) => a + b, 0),
    valAccuracy: epoch?.val_accuracy ?? 0,
    rssMb: maxRssMb(),
  };
}

function child(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', rej);
    p.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) rej(new Error(`${args.join(' ')}: exit ${code}`));
      else res(JSON.parse(last) as Record<string, unknown>);
    });
  });
}

const num = (v: unknown, digits = 1): string => (typeof v === 'number' ? v.toFixed(digits) : '–');

async function main(): Promise<void> {
  if (opts.role === 'prepare') return void console.log(JSON.stringify(await rolePrepare(opts.csv as string, opts.out as string)));
  if (opts.role === 'prepare-in-memory') return void console.log(JSON.stringify(await rolePrepareInMemory(opts.csv as string)));
  if (opts.role === 'worker') {
    return void console.log(JSON.stringify(await roleWorker(opts.out as string, Number(opts['train-rows']), Number(opts['validation-rows']))));
  }
  await mkdir(opts.dir, { recursive: true });
  const sizes = opts.file !== undefined ? [0] : opts.rows.split(',').map((v) => Number(v.trim()));
  const header = ['rows', 'CSV MB', 'prepare s', 'MB/s', 'prepare CPU s (MB/s)', 'prepare peak RSS MB', 'in-memory prepare s / peak RSS MB', 'prepared MB', 'shards (largest MB) / s', 'vocabulary', 'worker load s', 'first batch s', 'samples/s', 'worker peak RSS MB'];
  if (opts.markdown) console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const rows of sizes) {
    const csv = opts.file ?? join(opts.dir, `zipf-${rows}.csv`);
    const exists = await stat(csv).then(() => true, () => false);
    if (!exists) {
      const t = performance.now();
      await writeSyntheticCsv(csv, { rows, classes: 3, vocabulary: 100_000, words: [5, 120], seed: 1 });
      if (!opts.json && !opts.markdown) console.error(`generated ${csv} in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    }
    const csvBytes = (await stat(csv)).size;
    const out = join(opts.dir, `prepared-${rows}.bin`);
    const prep = await child(['--role', 'prepare', '--csv', csv, '--out', out]);
    const mem = opts['in-memory'] ? await child(['--role', 'prepare-in-memory', '--csv', csv]) : undefined;
    const worker = await child(['--role', 'worker', '--out', out, '--train-rows', opts['train-rows'], '--validation-rows', opts['validation-rows']]);
    const row = {
      rows: (prep.sizes as { train: number; validation: number; test: number } | undefined)
        ? Object.values(prep.sizes as Record<string, number>).reduce((a, b) => a + b, 0)
        : rows,
      csvMb: csvBytes / 1e6,
      prepare: prep,
      inMemory: mem,
      worker,
    };
    if (opts.json) console.log(JSON.stringify(row));
    else {
      const cells = [
        String(row.rows),
        num(row.csvMb, 0),
        num(prep.seconds),
        num(csvBytes / 1e6 / (prep.seconds as number)),
        `${num(prep.cpuSeconds)} (${num(csvBytes / 1e6 / (prep.cpuSeconds as number))})`,
        num(prep.rssMb, 0),
        mem ? `${num(mem.seconds)} / ${num(mem.rssMb, 0)}` : '–',
        num((prep.bytes as number) / 1e6, 0),
        `${String(prep.shards)} (${num(prep.shardMb)}) / ${num(prep.shardSeconds)}`,
        String(prep.vocabulary),
        num(worker.loadSeconds),
        num(worker.firstBatchSeconds),
        `${num(worker.samplesPerSec, 0)} (${String(worker.trainRows)} rows)`,
        num(worker.rssMb, 0),
      ];
      console.log(opts.markdown ? `| ${cells.join(' | ')} |` : header.map((h, i) => `${h}: ${cells[i]}`).join('; '));
    }
  }
}

main().catch((err: unknown) => {
  console.error(`bench:data: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
