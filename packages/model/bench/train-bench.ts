/**
 * Training-step benchmark: stock `tf.layers.lstm` model (with only the scatter-add fix that lets it train at all)
 * against sweepq's model (fused LSTM + fast kernels), side by side in one process, on every available backend.
 * Prints a table (or `--json`: one object per backend). Not a test: figures, not assertions.
 *
 *   npm run bench:train -- [--seq-len 100] [--batch 32] [--units 64] [--embedding 64] [--vocab 10000]
 *                          [--dropout 0] [--steps 8] [--warmup 2] [--backends node,wasm,cpu] [--json]
 *
 * Method: per backend, both models are warmed up, then timed in alternating rounds (one stock step, one sweepq
 * step, ...) so load from other processes hits both alike; figures are medians over the timed steps. The stock
 * model is stock throughout: `tf.layers.lstm`, `tf.layers.dropout`, tfjs' dense Adam, and sweepq's extra wasm and cpu
 * kernels unregistered (only the scatter-add fix stays). sweepq's model is `buildModel`'s default: fused LSTM, fast
 * dropout, lazy Adam for the embedding. For where a step's time goes, see `bench/profile-step.ts`. The matmul peak is the median rate of the backend's own
 * `[B·T, E] x [E, 4H]` matmul (the input projection, the largest matmul of the step), three of them after each timed
 * pair of steps, so that it sees the same load as the steps (measured once before and once after, a burst of load
 * could make the fraction of peak exceed 100%).
 * FLOPs per sample count the LSTM's matmuls forward and backward: 3 · 2 · T · 4H · (E + H).
 */
import { parseArgs } from 'node:util';
import {
  buildModel,
  initBackend,
  registerFastKernels,
  registerFastCpuKernels,
  unregisterFastCpuKernels,
  tf,
  unregisterFastKernels,
  wasmFastPathStatus,
  type BackendPreference,
} from '../src/index.js';

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
    backends: { type: 'string', default: 'node,wasm,cpu' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log(
    'usage: npm run bench:train -- [--seq-len N] [--batch N] [--units N] [--embedding N] [--vocab N] [--dropout R] [--steps N] [--warmup N] [--backends node,wasm,cpu] [--json]',
  );
  process.exit(0);
}

function int(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name}: expected an integer >= 1, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
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
const backends = (args.backends ?? '').split(',').filter((b) => b !== '') as Array<Exclude<BackendPreference, 'auto'>>;
for (const b of backends) {
  if (!['node', 'wasm', 'cpu'].includes(b)) {
    console.error(`--backends: expected a comma-separated list of node, wasm, cpu; got ${JSON.stringify(b)}`);
    process.exit(2);
  }
}
const FLOP_PER_SAMPLE = 3 * 2 * T * 4 * H * (E + H);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function batchData(seed: number): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const x = Int32Array.from({ length: B * T }, () => Math.floor(rand() * V));
  const y = Float32Array.from({ length: B }, () => (rand() < 0.5 ? 0 : 1));
  return { xs: tf.tensor2d(x, [B, T], 'int32'), ys: tf.tensor2d(y, [B, 1]) };
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
  wasmFastPath?: string;
  shape: { seqLen: number; batch: number; units: number; embedding: number; vocab: number; dropout: number };
}

async function benchBackend(prefer: Exclude<BackendPreference, 'auto'>): Promise<Row | undefined> {
  try {
    await initBackend({ prefer });
  } catch (err) {
    if (!args.json) console.error(`${prefer}: skipped (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
  const backend = tf.getBackend();
  const params = {
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
  // The baseline is stock throughout: tf.layers.lstm and tfjs' dense Adam.
  const stock = buildModel({ ...params, lstmImplementation: 'stock', embeddingOptimizer: 'dense' });
  const fused = buildModel({ ...params, lstmImplementation: 'fused' });
  const data = Array.from({ length: 4 }, (_, i) => batchData(i + 1));
  const step = async (model: tf.LayersModel, i: number, isStock: boolean): Promise<number> => {
    if (isStock) {
      unregisterFastKernels();
      unregisterFastCpuKernels();
    } else {
      registerFastKernels();
      registerFastCpuKernels();
    }
    const d = data[i % data.length]!;
    const t0 = performance.now();
    await model.trainOnBatch(d.xs, d.ys);
    return performance.now() - t0;
  };
  for (let i = 0; i < WARMUP; i++) {
    await step(stock, i, true);
    await step(fused, i, false);
  }
  const ts: number[] = [];
  const tf_: number[] = [];
  const mm: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    ts.push(await step(stock, i, true));
    tf_.push(await step(fused, i, false));
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
  if (backend === 'wasm') {
    const s = wasmFastPathStatus();
    row.wasmFastPath = s.ok ? 'on' : `off: ${s.reason}`;
  }
  return row;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

const rows: Row[] = [];
for (const b of backends) {
  const row = await benchBackend(b);
  if (row != null) {
    rows.push(row);
    if (!args.json) console.error(`${row.backend}: done`);
  }
}

if (args.json) {
  for (const r of rows) console.log(JSON.stringify(r));
} else {
  console.log(
    `seed shape: seq ${T}, batch ${B}, units ${H}, embedding ${E}, vocab ${V}, dropout ${DROPOUT}; ${(FLOP_PER_SAMPLE / 1e6).toFixed(1)} MFLOP/sample; ` +
      `median of ${STEPS} steps after ${WARMUP} warm-up; tfjs ${tf.version.tfjs}`,
  );
  const header = ['backend', 'stock samples/s', 'sweepq samples/s', 'speedup', 'sweepq GFLOP/s', 'matmul peak GFLOP/s', 'fraction of peak'];
  const table = rows.map((r) => [
    r.backend + (r.wasmFastPath != null && r.wasmFastPath !== 'on' ? ' (fast path off)' : ''),
    r.stockSamplesPerSec.toFixed(1),
    r.sweepqSamplesPerSec.toFixed(1),
    `${r.speedup.toFixed(2)}x`,
    r.sweepqGflops.toFixed(2),
    r.matmulPeakGflops.toFixed(2),
    `${(r.fractionOfMatmulPeak * 100).toFixed(1)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const r of table) console.log(line(r));
}
