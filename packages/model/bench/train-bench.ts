/**
 * Training-step benchmark: stock `tf.layers.lstm` model (with only the scatter-add fix that lets it train at all)
 * against sweepq's model (fused LSTM + fast kernels), side by side in one process, on every available backend.
 * Prints a table (or `--json`: one object per backend). Not a test: figures, not assertions.
 *
 *   npm run bench:train -- [--seq-len 100] [--batch 32] [--units 64] [--embedding 64] [--vocab 10000]
 *                          [--dropout 0] [--steps 8] [--warmup 2] [--backends node,wasm,cpu] [--peer auto|off]
 *                          [--two-process on|off] [--variants lstm,lstm-x2,bilstm,...|all [--profile]] [--json]
 *
 * Method: per backend, both models are warmed up, then timed in alternating rounds (one stock step, one sweepq
 * step, ...) so load from other processes hits both alike; figures are medians over the timed steps. The stock
 * model is stock throughout: `tf.layers.lstm`, `tf.layers.dropout`, tfjs' dense Adam, and sweepq's extra wasm and cpu
 * kernels unregistered (only the scatter-add fix stays). sweepq's model is `buildModel`'s default: fused LSTM, fast
 * dropout, lazy Adam for the embedding. For where a step's time goes, see `bench/profile-step.ts`. The matmul peak is the median rate of the backend's own
 * `[B·T, E] x [E, 4H]` matmul (the input projection, the largest matmul of the step), three of them after each timed
 * pair of steps, so that it sees the same load as the steps (measured once before and once after, a burst of load
 * could make the fraction of peak exceed 100%). On wasm sweepq's fused LSTM multiplies with its own matmul
 * (`gemm-wat.ts`), faster than the backend's, so its rate can exceed the backend's "peak": the column says how the
 * whole step compares with the backend's best matmul, not a bound.
 * FLOPs per sample count the LSTM's matmuls forward and backward: 3 · 2 · T · 4H · (E + H).
 *
 * PyTorch peer (`--peer auto`, the default): when `/usr/bin/python3 -c 'import torch'` works, `torch-peer.py` trains the
 * same model (Embedding -> LSTM -> Linear on the last output, Adam, cross-entropy, same shape) on one thread
 * (`torch.set_num_threads(1)`, `OPENBLAS_NUM_THREADS=1`; `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` unset for it, as
 * they can slow OpenBLAS down) in a child process, one step in each round after the stock and sweepq steps, so the
 * ratio sweepq/PyTorch is measured side by side. Otherwise it is skipped with a note on what to install. Dropout is
 * not applied on the PyTorch side (its LSTM has no recurrent dropout); compare at `--dropout 0`.
 *
 * Two-process row (`--two-process on`, the default when wasm is benchmarked): both cores busy, one process each,
 * samples/s per machine (the sum of both) for sweepq on wasm and for PyTorch, pairs alternating over two rounds,
 * the higher of each tool's rounds reported. Each child builds its model, warms up, and starts its timed steps when
 * both are ready.
 *
 * Architecture variants (`--variants`, see `bench/variants.ts`: `lstm` (the seed model), `lstm-x2`, `bilstm`, `gru`,
 * `bigru`, `bilstm-x2`, `lstm-mask`, `bigru-mask`, ... or `all`): one row per variant instead of the table above, on
 * wasm unless `--backends` says otherwise, without the two-process row. Each variant is built three ways, timed in
 * alternating rounds as above: stock (`buildModelWith` with `lstmImplementation: 'stock'`: `tf.layers.lstm`/`gru`/
 * `bidirectional`, dense Adam, sweepq's extra kernels unregistered), sweepq (`buildModel`'s default: the fused layers)
 * and PyTorch (`torch-peer.py --cell --layers --bidirectional`). Masked variants (`-mask`, Embedding `mask_zero`)
 * train on a batch whose rows have SMS-like lengths (`bench/sms-like.ts`: log-normal, median 15, tail to max_len),
 * pre-padded with zeros and trimmed to the longest row by `epochBatches` as `trainModel` does; stock and sweepq get the
 * same trimmed batch, PyTorch the same lengths (`--lengths`, packed sequences). The "cols" column is the number of
 * time steps fed. `--profile` adds the milliseconds per sweepq step of each part of the fused layers (`setProfiling` of
 * `@sweepq/kernels`; its timers add a little to the step).
 */
import { spawn, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildModel, initBackend, registerFastKernels, registerFastCpuKernels, tf, wasmFastPathStatus, gemmStatus, type BackendPreference } from '../src/index.js';
import { buildModelWith } from '../src/testing.js';
import { epochBatches } from '../src/training.js';
import { profileTimes, setProfiling, unregisterFastCpuKernels, unregisterFastKernels } from '@sweepq/kernels/testing';
import { positiveInt as int } from './cli-args.js';
import { smsLike } from './sms-like.js';
import { printTable } from './table.js';
import { parseVariants, variantParams, type Variant } from './variants.js';

const { values: args } = parseArgs({
  options: {
    'seq-len': { type: 'string', default: '100' },
    batch: { type: 'string', default: '32' },
    units: { type: 'string', default: '64' },
    embedding: { type: 'string', default: '64' },
    vocab: { type: 'string', default: '10000' },
    dropout: { type: 'string', default: '0' },
    steps: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    // Default: node,wasm,cpu; wasm alone with --variants.
    backends: { type: 'string' },
    peer: { type: 'string', default: 'auto' },
    'two-process': { type: 'string', default: 'on' },
    variants: { type: 'string' },
    // Internal: run sweepq's model alone on the first backend, driven over stdin (the two-process row's children).
    serve: { type: 'boolean', default: false },
    // With --variants: time the parts of sweepq's steps (@sweepq/kernels' profiler; adds its timers to the step).
    profile: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log(
    'usage: npm run bench:train -- [--seq-len N] [--batch N] [--units N] [--embedding N] [--vocab N] [--dropout R] [--steps N] [--warmup N] ' +
      '[--backends node,wasm,cpu] [--peer auto|off] [--two-process on|off] [--variants lstm,lstm-x2,bilstm,gru,bigru,bilstm-x2,lstm-mask,bigru-mask|all [--profile]] [--json]',
  );
  process.exit(0);
}

const T = int('seq-len', args['seq-len']);
const B = int('batch', args.batch);
const H = int('units', args.units);
const E = int('embedding', args.embedding);
const V = int('vocab', args.vocab);
const STEPS = int('steps', args.steps);
const DROPOUT = Number(args.dropout);
if (!(DROPOUT >= 0 && DROPOUT < 1)) {
  console.error(`--dropout: expected a number in [0, 1), got ${JSON.stringify(args.dropout)}`);
  process.exit(2);
}
const WARMUP = int('warmup', args.warmup);
const variants: Variant[] | null = args.variants != null ? parseVariants(args.variants) : null;
const backends = (args.backends ?? (variants != null ? 'wasm' : 'node,wasm,cpu')).split(',').filter((b) => b !== '') as Array<Exclude<BackendPreference, 'auto'>>;
for (const b of backends) {
  if (!['node', 'wasm', 'cpu'].includes(b)) {
    console.error(`--backends: expected a comma-separated list of node, wasm, cpu; got ${JSON.stringify(b)}`);
    process.exit(2);
  }
}
for (const [name, v] of [
  ['peer', args.peer],
  ['two-process', args['two-process']],
] as const) {
  const allowed = name === 'peer' ? ['auto', 'off'] : ['on', 'off'];
  if (!allowed.includes(v ?? '')) {
    console.error(`--${name}: expected one of ${allowed.join(', ')}; got ${JSON.stringify(v)}`);
    process.exit(2);
  }
}
const FLOP_PER_SAMPLE = 3 * 2 * T * 4 * H * (E + H);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * A batch of random ids (`[B, T]`) and labels. With `trim`, row r holds `trim.lengths[r]` ids (none of them 0) after
 * zeros, and the batch is what `trainModel` feeds a masking model: rows `trim.rows`, their last `trim.seqLen` columns.
 */
function batchData(seed: number, trim?: MaskedBatch): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  if (trim == null) {
    const x = Int32Array.from({ length: B * T }, () => Math.floor(rand() * V));
    const y = Float32Array.from({ length: B }, () => (rand() < 0.5 ? 0 : 1));
    return { xs: tf.tensor2d(x, [B, T], 'int32'), ys: tf.tensor2d(y, [B, 1]) };
  }
  const x = new Int32Array(B * T);
  for (let r = 0; r < B; r++) for (let t = T - trim.lengths[r]!; t < T; t++) x[r * T + t] = 1 + Math.floor(rand() * (V - 1));
  const y = Float32Array.from({ length: B }, () => (rand() < 0.5 ? 0 : 1));
  // As trainModel's gather: each row's last seqLen columns (seqLen <= T here: B rows of at most T ids).
  const fed = new Int32Array(B * trim.seqLen);
  trim.rows.forEach((row, i) => fed.set(x.subarray((row + 1) * T - trim.seqLen, (row + 1) * T), i * trim.seqLen));
  return { xs: tf.tensor2d(fed, [B, trim.seqLen], 'int32'), ys: tf.tensor2d(Float32Array.from(trim.rows, (row) => y[row]!), [B, 1]) };
}

/** The masked variants' batch: SMS-like row lengths, and the rows and columns `trainModel` would feed. */
interface MaskedBatch {
  lengths: Int32Array;
  rows: Uint32Array;
  seqLen: number;
}

/** B SMS-like lengths (seeded, so every masked variant and PyTorch get the same) and the batch `epochBatches` makes of them. */
function maskedBatch(): MaskedBatch {
  const { lengths } = smsLike(B, 1, { vocab: V, maxLen: T });
  const [batch] = epochBatches({ n: B, batchSize: B, seed: 1, epoch: 0, maxLen: T, lengths });
  return { lengths, rows: batch!.rows, seqLen: batch!.seqLen };
}

/**
 * Times of the backend's own `[B·T, E] x [E, 4H]` matmul (the input projection, the largest matmul of the step), `reps`
 * of them; the benchmark takes them between its training steps so that they see the same load as the steps.
 */
function matmulTimes(reps: number): number[] {
  const a = tf.randomUniform([B * T, E]);
  const b = tf.randomUniform([E, 4 * H]);
  const times: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    // The node, wasm and cpu backends run a kernel synchronously, so the call is the work. Not read back: dataSync
    // copies the 3.3 MB result into a fresh ArrayBuffer, whose page faults cost up to twice the matmul here.
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    if (i > 0) times.push(performance.now() - t0); // the first packs b
    c.dispose();
  }
  tf.dispose([a, b]);
  return times;
}
const matmulGflops = (ms: number): number => (2 * B * T * E * 4 * H) / (ms / 1000) / 1e9;

// ---------------------------------------------------------------------------------------------------------------
// Child processes driven over a line protocol: PyTorch (`torch-peer.py --serve`) and sweepq alone (`--serve`).

const PYTHON = '/usr/bin/python3';
const PEER_SCRIPT = fileURLToPath(new URL('./torch-peer.py', import.meta.url));
const INSTALL_HINT = 'apt-get install python3-torch libopenblas0-pthread';

/** A child that prints `{"ready": info}` when warmed up and answers each `steps N` line with `{"ms": [...]}`. */
class Driven {
  private readonly lines: AsyncIterator<string>;
  private readonly proc: ReturnType<typeof spawn>;
  private stderr = '';
  constructor(
    readonly name: string,
    cmd: string,
    argv: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.proc = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.lines = createInterface({ input: this.proc.stdout! })[Symbol.asyncIterator]();
  }
  private async next(): Promise<Record<string, unknown>> {
    for (;;) {
      const r = await this.lines.next();
      if (r.done === true) throw new Error(`${this.name} exited early: ${this.stderr.trim().split('\n').slice(-5).join(' | ')}`);
      const line = r.value.trim();
      if (!line.startsWith('{')) continue; // e.g. tfjs' banner
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg['error'] != null) throw new Error(`${this.name}: ${String(msg['error'])}`);
      return msg;
    }
  }
  /** Wait until warmed up; returns what the child reported about itself. */
  async ready(): Promise<Record<string, unknown>> {
    const msg = await this.next();
    if (msg['ready'] == null) throw new Error(`${this.name}: expected a ready line, got ${JSON.stringify(msg)}`);
    return msg['ready'] as Record<string, unknown>;
  }
  /** Run n timed training steps; their times in ms. */
  async steps(n: number): Promise<number[]> {
    this.proc.stdin!.write(`steps ${n}\n`);
    const msg = await this.next();
    return msg['ms'] as number[];
  }
  close(): void {
    this.proc.stdin!.end('quit\n');
  }
}

const shapeArgs = ['--seq-len', String(T), '--batch', String(B), '--units', String(H), '--embedding', String(E), '--vocab', String(V)];

/** Whether the PyTorch peer can run, and if not why (with what to install). */
function peerAvailability(): { ok: true } | { ok: false; reason: string } {
  if (args.peer === 'off') return { ok: false, reason: 'off (--peer off)' };
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true };
  const lines = (r.stderr ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const why = r.error?.message ?? [...lines].reverse().find((l) => /error/i.test(l)) ?? lines.pop() ?? `exit code ${r.status}`;
  return { ok: false, reason: `skipped: ${PYTHON} cannot import torch (${why}); install it with \`${INSTALL_HINT}\`` };
}

function startPeer(variantArgs: string[] = []): Driven {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  // Either can slow OpenBLAS down when set for another machine.
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  return new Driven('PyTorch peer', PYTHON, [PEER_SCRIPT, '--serve', '--threads', '1', '--warmup', String(WARMUP), ...shapeArgs, ...variantArgs], env);
}

function startSweepqChild(): Driven {
  const argv = [...process.execArgv, fileURLToPath(import.meta.url), '--serve', '--backends', 'wasm', '--warmup', String(WARMUP), '--dropout', String(DROPOUT), ...shapeArgs];
  return new Driven('sweepq child', process.execPath, argv, process.env);
}

interface PeerInfo {
  torch: string;
  threads: number;
  blas: string;
}

// ---------------------------------------------------------------------------------------------------------------

interface Row {
  backend: string;
  stockSamplesPerSec: number;
  sweepqSamplesPerSec: number;
  speedup: number;
  sweepqGflops: number;
  matmulPeakGflops: number;
  fractionOfMatmulPeak: number;
  stockMsPerStep: number;
  sweepqMsPerStep: number;
  /** PyTorch's samples/s timed in the same rounds (absent when the peer is skipped). */
  torchSamplesPerSec?: number;
  torchMsPerStep?: number;
  /** sweepq samples/s over PyTorch's, per core, side by side. */
  sweepqVsTorch?: number;
  wasmFastPath?: string;
  /** sweepq's own wasm matmul in the fused LSTM: `relaxed` (fused multiply-add), `simd`, or off with the reason. */
  ownMatmul?: string;
  shape: { seqLen: number; batch: number; units: number; embedding: number; vocab: number; dropout: number };
}

const modelParams = {
  maxWords: V,
  maxLen: T,
  embeddingDim: E,
  lstmUnits: H,
  dropout: DROPOUT,
  recurrentDropout: DROPOUT,
  learningRate: 1e-3,
  optimizer: 'adam' as const,
  numClasses: 2,
  seed: 1,
};

/**
 * One timed training step of `model` on batch `d`. The stock model runs without sweepq's extra kernels (only the
 * scatter-add fix stays), sweepq's with them.
 */
async function trainStep(model: tf.LayersModel, d: { xs: tf.Tensor2D; ys: tf.Tensor2D }, isStock: boolean): Promise<number> {
  if (isStock) {
    unregisterFastKernels();
    unregisterFastCpuKernels();
  } else {
    registerFastKernels();
    registerFastCpuKernels();
  }
  const t0 = performance.now();
  await model.trainOnBatch(d.xs, d.ys);
  return performance.now() - t0;
}

async function benchBackend(prefer: Exclude<BackendPreference, 'auto'>, peer: Driven | null): Promise<Row | undefined> {
  try {
    await initBackend({ prefer });
  } catch (err) {
    if (!args.json) console.error(`${prefer}: skipped (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
  const backend = tf.getBackend();
  // The baseline is stock throughout: tf.layers.lstm and tfjs' dense Adam.
  const stock = buildModelWith(modelParams, { lstmImplementation: 'stock', embeddingOptimizer: 'dense' });
  const fused = buildModel(modelParams);
  const data = Array.from({ length: 4 }, (_, i) => batchData(i + 1));
  const step = (model: tf.LayersModel, i: number, isStock: boolean): Promise<number> => trainStep(model, data[i % data.length]!, isStock);
  for (let i = 0; i < WARMUP; i++) {
    await step(stock, i, true);
    await step(fused, i, false);
  }
  const ts: number[] = [];
  const tf_: number[] = [];
  const tp: number[] = [];
  const mm: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    ts.push(await step(stock, i, true));
    tf_.push(await step(fused, i, false));
    if (peer !== null) tp.push(...(await peer.steps(1)));
    mm.push(...matmulTimes(3));
  }
  registerFastKernels();
  const matmulPeakGflops = matmulGflops(median(mm));
  stock.dispose();
  fused.dispose();
  for (const d of data) tf.dispose([d.xs, d.ys]);
  const stockSps = (B * 1000) / median(ts);
  const fusedSps = (B * 1000) / median(tf_);
  const gflops = (FLOP_PER_SAMPLE * fusedSps) / 1e9;
  const row: Row = {
    backend,
    stockSamplesPerSec: round(stockSps, 1),
    sweepqSamplesPerSec: round(fusedSps, 1),
    speedup: round(fusedSps / stockSps, 2),
    sweepqGflops: round(gflops, 2),
    matmulPeakGflops: round(matmulPeakGflops, 2),
    fractionOfMatmulPeak: round(gflops / matmulPeakGflops, 3),
    stockMsPerStep: round(median(ts), 1),
    sweepqMsPerStep: round(median(tf_), 1),
    shape: { seqLen: T, batch: B, units: H, embedding: E, vocab: V, dropout: DROPOUT },
  };
  if (tp.length > 0) {
    const torchSps = (B * 1000) / median(tp);
    row.torchSamplesPerSec = round(torchSps, 1);
    row.torchMsPerStep = round(median(tp), 1);
    row.sweepqVsTorch = round(fusedSps / torchSps, 2);
  }
  if (backend === 'wasm') {
    const s = wasmFastPathStatus();
    row.wasmFastPath = s.ok ? 'on' : `off: ${s.reason}`;
    const g = gemmStatus();
    row.ownMatmul = g.ok ? g.kind! : `off: ${g.reason}`;
  }
  return row;
}

// ---------------------------------------------------------------------------------------------------------------
// Architecture variants (--variants): one row per variant, stock vs sweepq vs PyTorch.

interface VariantRow {
  variant: string;
  backend: string;
  /** Time steps fed per step: max_len, or the trimmed batch's longest row for a masked variant. */
  seqLenFed: number;
  /** A masked variant's row lengths: median and longest. */
  lengths?: { median: number; max: number };
  stockSamplesPerSec: number;
  sweepqSamplesPerSec: number;
  sweepqVsStock: number;
  stockMsPerStep: number;
  sweepqMsPerStep: number;
  torchSamplesPerSec?: number;
  torchMsPerStep?: number;
  sweepqVsTorch?: number;
  /** Why PyTorch has no figure for this variant. */
  torchNote?: string;
  /** Classes of sweepq's model's layers (the fused ones report stock class names when saved). */
  sweepqLayers: string[];
  /** With `--profile`: per-part milliseconds of one sweepq step, from `@sweepq/kernels`' profiler. */
  sweepqProfile?: Record<string, number>;
  shape: { seqLen: number; batch: number; units: number; embedding: number; vocab: number; dropout: number };
}

/** `torch-peer.py`'s arguments for variant `v` (`--lengths` the masked batch's row lengths). */
function peerVariantArgs(v: Variant, trim: MaskedBatch | undefined): string[] {
  return [
    '--cell',
    v.cell,
    '--layers',
    String(v.lstmLayers),
    ...(v.bidirectional ? ['--bidirectional'] : []),
    ...(trim != null ? ['--lengths', Array.from(trim.lengths).join(',')] : []),
  ];
}

/** Class names of a model's layers, a wrapper's inner layer in brackets. */
function layerClasses(model: tf.LayersModel): string[] {
  return model.layers.map((l) => {
    const inner = (l as unknown as { forwardLayer?: tf.layers.Layer }).forwardLayer;
    return inner != null ? `${l.constructor.name}(${inner.constructor.name})` : l.constructor.name;
  });
}

/** Stock, sweepq and (when it runs) PyTorch on variant `v`, timed in alternating rounds on the current backend. */
async function benchVariant(v: Variant, peerOk: boolean): Promise<VariantRow> {
  const trim = v.maskZero ? maskedBatch() : undefined;
  const params = { ...modelParams, ...variantParams(v) };
  const stock = buildModelWith(params, { lstmImplementation: 'stock', embeddingOptimizer: 'dense' });
  const fused = buildModel(params);
  const data = Array.from({ length: 4 }, (_, i) => batchData(i + 1, trim));
  let peer: Driven | null = null;
  let torchNote: string | undefined;
  if (peerOk) {
    peer = startPeer(peerVariantArgs(v, trim));
    try {
      const info = (await peer.ready()) as unknown as PeerInfo;
      peerInfo ??= info;
    } catch (err) {
      torchNote = `PyTorch peer failed: ${err instanceof Error ? err.message : String(err)}`;
      peer.close();
      peer = null;
    }
  } else torchNote = peerNote;
  try {
    for (let i = 0; i < WARMUP; i++) {
      await trainStep(stock, data[i % data.length]!, true);
      await trainStep(fused, data[i % data.length]!, false);
    }
    const ts: number[] = [];
    const tf_: number[] = [];
    const tp: number[] = [];
    if (args.profile) profileTimes(true);
    for (let i = 0; i < STEPS; i++) {
      ts.push(await trainStep(stock, data[i % data.length]!, true));
      if (args.profile) setProfiling(true);
      tf_.push(await trainStep(fused, data[i % data.length]!, false));
      setProfiling(false);
      if (peer !== null) tp.push(...(await peer.steps(1)));
    }
    registerFastKernels();
    registerFastCpuKernels();
    const stockSps = (B * 1000) / median(ts);
    const fusedSps = (B * 1000) / median(tf_);
    const row: VariantRow = {
      variant: v.name,
      backend: tf.getBackend(),
      seqLenFed: trim?.seqLen ?? T,
      stockSamplesPerSec: round(stockSps, 1),
      sweepqSamplesPerSec: round(fusedSps, 1),
      sweepqVsStock: round(fusedSps / stockSps, 2),
      stockMsPerStep: round(median(ts), 1),
      sweepqMsPerStep: round(median(tf_), 1),
      sweepqLayers: layerClasses(fused),
      shape: { seqLen: T, batch: B, units: H, embedding: E, vocab: V, dropout: DROPOUT },
    };
    if (trim != null) {
      const sorted = Array.from(trim.lengths).sort((a, b) => a - b);
      row.lengths = { median: median(sorted), max: sorted.at(-1)! };
    }
    if (tp.length > 0) {
      const torchSps = (B * 1000) / median(tp);
      row.torchSamplesPerSec = round(torchSps, 1);
      row.torchMsPerStep = round(median(tp), 1);
      row.sweepqVsTorch = round(fusedSps / torchSps, 2);
    } else if (torchNote != null && torchNote !== '') row.torchNote = torchNote;
    if (args.profile) {
      row.sweepqProfile = Object.fromEntries(Object.entries(profileTimes(true)).map(([k, p]) => [k, round(p.ms / STEPS, 2)]));
    }
    return row;
  } finally {
    peer?.close();
    stock.dispose();
    fused.dispose();
    for (const d of data) tf.dispose([d.xs, d.ys]);
  }
}

/** `--variants`: every variant on each backend, one row each, printed as a table (or JSON lines with `--json`). */
async function runVariants(list: Variant[]): Promise<void> {
  const loadBefore = round(loadavg()[0]!, 2);
  const avail = peerAvailability();
  if (!avail.ok) peerNote = `PyTorch peer ${avail.reason}`;
  const rows: VariantRow[] = [];
  for (const b of backends) {
    try {
      await initBackend({ prefer: b });
    } catch (err) {
      if (!args.json) console.error(`${b}: skipped (${err instanceof Error ? err.message : String(err)})`);
      continue;
    }
    for (const v of list) {
      const row = await benchVariant(v, avail.ok);
      rows.push(row);
      if (!args.json) console.error(`${row.backend} ${row.variant}: ${row.sweepqVsStock}x stock${row.sweepqVsTorch != null ? `, ${row.sweepqVsTorch}x PyTorch` : ''}`);
    }
  }
  const loadAverage = { before: loadBefore, after: round(loadavg()[0]!, 2) };
  const g = gemmStatus();
  const ownMatmul = g.ok ? g.kind! : `off: ${g.reason}`;
  if (peerInfo !== null && peerInfo.blas !== 'openblas') {
    peerNote = `PyTorch peer runs on the ${peerInfo.blas} BLAS, not OpenBLAS: not a fair peer; install it with \`${INSTALL_HINT}\``;
  }
  if (args.json) {
    for (const r of rows) console.log(JSON.stringify(r));
    console.log(JSON.stringify({ node: process.version, loadAverage, ownMatmul, peer: peerInfo ?? null, peerNote: peerNote || null }));
    return;
  }
  const masked = rows.find((r) => r.lengths != null);
  console.log(
    `variants: seq ${T}, batch ${B}, units ${H} (per direction), embedding ${E}, vocab ${V}, dropout ${DROPOUT}; median of ${STEPS} steps after ${WARMUP} warm-up; ` +
      `tfjs ${tf.version.tfjs}; node ${process.version}; sweepq matmul ${ownMatmul.split(':')[0]}; load average ${loadAverage.before} before, ${loadAverage.after} after` +
      (peerInfo !== null ? `; PyTorch ${peerInfo.torch} (${peerInfo.blas}, ${peerInfo.threads} thread)` : ''),
  );
  if (masked?.lengths != null) {
    console.log(`masked variants: SMS-like row lengths (median ${masked.lengths.median}, longest ${masked.lengths.max}), batch trimmed to ${masked.seqLenFed} columns`);
  }
  const header = ['variant', 'cols', 'stock samples/s', 'sweepq samples/s', 'PyTorch samples/s', 'sweepq/stock', 'sweepq/PyTorch', 'stock ms', 'sweepq ms', 'PyTorch ms'];
  const table = rows.map((r) => [
    (backends.length > 1 ? `${r.backend} ` : '') + r.variant,
    String(r.seqLenFed),
    r.stockSamplesPerSec.toFixed(1),
    r.sweepqSamplesPerSec.toFixed(1),
    r.torchSamplesPerSec?.toFixed(1) ?? '-',
    `${r.sweepqVsStock.toFixed(2)}x`,
    r.sweepqVsTorch != null ? `${r.sweepqVsTorch.toFixed(2)}x` : '-',
    r.stockMsPerStep.toFixed(1),
    r.sweepqMsPerStep.toFixed(1),
    r.torchMsPerStep?.toFixed(1) ?? '-',
  ]);
  printTable(header, table);
  for (const r of rows) {
    console.log(`${r.variant}: sweepq layers ${r.sweepqLayers.join(' -> ')}`);
    if (r.sweepqProfile != null) console.log(`  profile, ms per step: ${Object.entries(r.sweepqProfile).map(([k, ms]) => `${k} ${ms}`).join(', ')}`);
  }
  const notes = new Set(rows.flatMap((r) => (r.torchNote != null ? [r.torchNote] : [])));
  for (const note of notes) console.log(note);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** `--serve`: sweepq's model alone on the first backend, driven like the PyTorch peer (the two-process children). */
async function serve(): Promise<void> {
  await initBackend({ prefer: backends[0] ?? 'wasm' });
  const model = buildModel(modelParams);
  const data = Array.from({ length: 4 }, (_, i) => batchData(i + 1));
  let n = 0;
  const step = async (): Promise<number> => {
    const d = data[n++ % data.length]!;
    const t0 = performance.now();
    await model.trainOnBatch(d.xs, d.ys);
    return performance.now() - t0;
  };
  for (let i = 0; i < WARMUP; i++) await step();
  const g = gemmStatus();
  console.log(JSON.stringify({ ready: { backend: tf.getBackend(), ownMatmul: g.ok ? g.kind : `off: ${g.reason}` } }));
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = line.trim().split(/\s+/);
    if (cmd[0] === 'quit' || cmd[0] === '') break;
    const k = Number(cmd[1]);
    if (cmd[0] !== 'steps' || !Number.isInteger(k) || k < 1) {
      console.log(JSON.stringify({ error: `expected 'steps N' or 'quit', got ${JSON.stringify(line)}` }));
      continue;
    }
    const ms: number[] = [];
    for (let i = 0; i < k; i++) ms.push(await step());
    console.log(JSON.stringify({ ms }));
  }
  model.dispose();
}

interface TwoProcess {
  /** Samples/s per machine (both processes' medians added), sweepq on wasm, best of the rounds. */
  sweepqSamplesPerSec: number;
  torchSamplesPerSec: number;
  sweepqVsTorch: number;
  /** Every round's per-machine figure, in order (sweepq, PyTorch, sweepq, PyTorch). */
  rounds: Array<{ tool: 'sweepq' | 'torch'; samplesPerSec: number }>;
  steps: number;
}

/** Two processes of each tool at once, pairs alternating; null with a note when a child cannot run. */
async function twoProcess(): Promise<TwoProcess> {
  const rounds: TwoProcess['rounds'] = [];
  for (let r = 0; r < 2; r++) {
    for (const tool of ['sweepq', 'torch'] as const) {
      const pair = [0, 1].map(() => (tool === 'sweepq' ? startSweepqChild() : startPeer()));
      try {
        await Promise.all(pair.map((p) => p.ready()));
        const times = await Promise.all(pair.map((p) => p.steps(STEPS)));
        rounds.push({ tool, samplesPerSec: round(times.reduce((acc, ms) => acc + (B * 1000) / median(ms), 0), 1) });
      } finally {
        for (const p of pair) p.close();
      }
    }
  }
  const best = (tool: 'sweepq' | 'torch'): number => Math.max(...rounds.filter((x) => x.tool === tool).map((x) => x.samplesPerSec));
  const s = best('sweepq');
  const t = best('torch');
  return { sweepqSamplesPerSec: s, torchSamplesPerSec: t, sweepqVsTorch: round(s / t, 2), rounds, steps: STEPS };
}

let peerInfo: PeerInfo | null = null;
let peerNote = '';

if (args.serve) {
  await serve();
  process.exit(0);
}
if (variants != null) {
  await runVariants(variants);
  process.exit(0);
}

// The machine's load (1-minute average) before and after: absolute rates mean little on a busy machine.
const loadBefore = round(loadavg()[0]!, 2);
const avail = peerAvailability();
let peer: Driven | null = null;
if (!avail.ok) peerNote = `PyTorch peer ${avail.reason}`;
if (avail.ok) {
  peer = startPeer();
  try {
    peerInfo = (await peer.ready()) as unknown as PeerInfo;
    if (peerInfo.blas !== 'openblas') {
      peerNote = `PyTorch peer runs on the ${peerInfo.blas} BLAS, not OpenBLAS: not a fair peer; install it with \`${INSTALL_HINT}\``;
    }
  } catch (err) {
    peerNote = `PyTorch peer failed: ${err instanceof Error ? err.message : String(err)}`;
    peer.close();
    peer = null;
  }
}

const rows: Row[] = [];
for (const b of backends) {
  const row = await benchBackend(b, peer);
  if (row != null) {
    rows.push(row);
    if (!args.json) console.error(`${row.backend}: done`);
  }
}
peer?.close();

let pair: TwoProcess | null = null;
let pairNote = '';
if (args['two-process'] === 'on' && backends.includes('wasm')) {
  if (peer === null && peerInfo === null) pairNote = 'two-process row: skipped (no PyTorch peer)';
  else {
    try {
      pair = await twoProcess();
    } catch (err) {
      pairNote = `two-process row failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}

const loadAverage = { before: loadBefore, after: round(loadavg()[0]!, 2) };
if (args.json) {
  for (const r of rows) console.log(JSON.stringify(r));
  console.log(
    JSON.stringify({ node: process.version, loadAverage, peer: peerInfo ?? null, peerNote: peerNote || null, twoProcess: pair, twoProcessNote: pairNote || null }),
  );
} else {
  console.log(
    `seed shape: seq ${T}, batch ${B}, units ${H}, embedding ${E}, vocab ${V}, dropout ${DROPOUT}; ${(FLOP_PER_SAMPLE / 1e6).toFixed(1)} MFLOP/sample; ` +
      `median of ${STEPS} steps after ${WARMUP} warm-up; tfjs ${tf.version.tfjs}; node ${process.version}; ` +
      `load average ${loadAverage.before} before, ${loadAverage.after} after` +
      (peerInfo !== null ? `; PyTorch ${peerInfo.torch} (${peerInfo.blas}, ${peerInfo.threads} thread)` : ''),
  );
  const header = ['backend', 'stock samples/s', 'sweepq samples/s', 'PyTorch samples/s', 'sweepq/stock', 'sweepq/PyTorch', 'sweepq GFLOP/s', 'backend matmul GFLOP/s', 'of backend matmul'];
  const table = rows.map((r) => [
    r.backend + (r.wasmFastPath != null && r.wasmFastPath !== 'on' ? ' (fast path off)' : '') + (r.ownMatmul != null ? ` (matmul: ${r.ownMatmul.split(':')[0]})` : ''),
    r.stockSamplesPerSec.toFixed(1),
    r.sweepqSamplesPerSec.toFixed(1),
    r.torchSamplesPerSec?.toFixed(1) ?? '-',
    `${r.speedup.toFixed(2)}x`,
    r.sweepqVsTorch != null ? `${r.sweepqVsTorch.toFixed(2)}x` : '-',
    r.sweepqGflops.toFixed(2),
    r.matmulPeakGflops.toFixed(2),
    `${(r.fractionOfMatmulPeak * 100).toFixed(1)}%`,
  ]);
  if (pair !== null) {
    table.push([
      'wasm, 2 processes (per machine)',
      '-',
      pair.sweepqSamplesPerSec.toFixed(1),
      pair.torchSamplesPerSec.toFixed(1),
      '-',
      `${pair.sweepqVsTorch.toFixed(2)}x`,
      '-',
      '-',
      '-',
    ]);
  }
  printTable(header, table);
  for (const note of [peerNote, pairNote]) if (note !== '') console.log(note);
}
