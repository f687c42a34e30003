/**
 * Profiling helper: trains the fused (or stock) seed model on one backend for a number of steps and prints the
 * median step time. Run under `node --cpu-prof` to see where a training step goes.
 *
 *   [SWEEPQ_PROFILE=1] [SWEEPQ_KPROF=1] node --conditions=source --import tsx packages/model/bench/profile-step.ts
 *        [--backend wasm|cpu] [--steps 20] [--impl fused|stock] [--dropout 0] [--embedding-optimizer dense|lazy]
 *
 * SWEEPQ_PROFILE=1 adds the fused LSTM's own part timings (input projection, per-step matmuls, gate math, weight
 * matmuls); SWEEPQ_KPROF=1 adds a per-kernel breakdown of a step from `tf.profile`.
 */
import { parseArgs } from 'node:util';
import { gemmStatus, initBackend, tf, type ModelParams } from '../src/index.js';
import { buildModelWith } from '../src/testing.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '20' },
    impl: { type: 'string', default: 'fused' },
    dropout: { type: 'string', default: '0' },
    'embedding-optimizer': { type: 'string', default: '' },
  },
});
await initBackend({ prefer: args.backend as 'wasm' | 'cpu' });
const T = 100, B = 32, V = 10000;
const dropout = Number(args.dropout);
const embOpt = args['embedding-optimizer'];
const model = buildModelWith(
  {
    maxWords: V, maxLen: T, embeddingDim: 64, lstmUnits: 64, dropout, recurrentDropout: dropout,
    learningRate: 1e-3, optimizer: 'adam', numClasses: 2, seed: 1,
  } as ModelParams,
  { lstmImplementation: args.impl as 'fused' | 'stock', ...(embOpt === 'dense' || embOpt === 'lazy' ? { embeddingOptimizer: embOpt } : {}) },
);
let s = 1;
const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
const data = Array.from({ length: 4 }, () => ({
  xs: tf.tensor2d(Int32Array.from({ length: B * T }, () => Math.floor(rand() * V)), [B, T], 'int32'),
  ys: tf.tensor2d(Float32Array.from({ length: B }, () => (rand() < 0.5 ? 0 : 1)), [B, 1]),
}));
const times: number[] = [];
const steps = Number(args.steps);
for (let i = 0; i < steps + 2; i++) {
  const d = data[i % 4]!;
  const t0 = performance.now();
  await model.trainOnBatch(d.xs, d.ys);
  if (i >= 2) times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const gs = gemmStatus();
console.log(
  `${args.backend} ${args.impl}: median ${times[times.length >> 1]!.toFixed(1)} ms/step, min ${times[0]!.toFixed(1)}, ` +
    `tensors ${tf.memory().numTensors}; own matmul ${gs.ok ? gs.kind : `off (${gs.reason})`}`,
);

if (process.env['SWEEPQ_KPROF'] === '1') {
  const agg = new Map<string, { n: number; ms: number }>();
  const d = data[0]!;
  const reps = 5;
  for (let r = 0; r < reps; r++) {
    const info = await tf.profile(async () => {
      await model.trainOnBatch(d.xs, d.ys);
    });
    for (const k of info.kernels) {
      const key = `${k.name} [${k.inputShapes.map((s) => (s ?? []).join('x')).join(', ')}]`;
      const e = agg.get(key) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += Number(k.kernelTimeMs);
      agg.set(key, e);
    }
  }
  const rows = [...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30);
  let tot = 0;
  for (const [, e] of agg) tot += e.ms;
  console.log(`kernel total ${(tot / reps).toFixed(1)} ms/step`);
  for (const [k, e] of rows) console.log(`${(e.ms / reps).toFixed(2).padStart(7)} ms  x${e.n / reps}  ${k}`);
}

if (process.env['SWEEPQ_PROFILE'] === '1') {
  const { profileTimes, setProfiling } = await import('@sweepq/kernels/testing');
  setProfiling(true);
  profileTimes(true);
  const d = data[0]!;
  const n = 10;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await model.trainOnBatch(d.xs, d.ys);
  const stepMs = (performance.now() - t0) / n;
  console.log(`profiled steps: ${stepMs.toFixed(1)} ms/step`);
  const parts = profileTimes(true);
  for (const [k, e] of Object.entries(parts)) console.log(`${(e.ms / n).toFixed(2).padStart(7)} ms/step  ${k}`);
  // The top-level parts (the step matmuls are inside the recurrences); what is left is the rest of the model.
  const lstm = ['fwd.inputProjection', 'fwd.recurrence', 'bwd.recurrence', 'bwd.weightMatmuls'].reduce((a, k) => a + (parts[k]?.ms ?? 0), 0) / n;
  console.log(`${lstm.toFixed(2).padStart(7)} ms/step  LSTM in all (the four parts above that are not stepMatmul)`);
  console.log(`${(stepMs - lstm).toFixed(2).padStart(7)} ms/step  rest: embedding gather and gradient, dense layer, loss, Adam, tfjs bookkeeping`);
}
