/**
 * Search benchmark: random vs bayes (TPE) vs bayes + hyperband (asynchronous successive halving) on the built-in
 * spam-assassin dataset, same search space, same trial budget (run_cap), several seeds. Not a test: figures, not
 * assertions.
 *
 *   npm run bench:search -- [--seeds 3] [--run-cap 20] [--in-flight 2] [--max-rows 2000] [--epochs 9]
 *                           [--jobs 2] [--methods random,bayes,bayes+hyperband] [--json]
 *
 * Everything is the real thing, in-process: the spec is validated by @sweepq/spec, trials come from planTrials (random)
 * or TpeSampler (bayes, proposing a new trial whenever one finishes while the others are still running, with those
 * as pending), every trial trains the real model (@sweepq/model `buildModel`/`trainModel` on data from
 * @sweepq/data), and hyperband decisions come from RungStore in the Redis at REDIS_URL (default
 * redis://127.0.0.1:6379; unique key prefix, deleted afterwards): `onEpochEnd` reports the epoch and, when the rung
 * says stop, aborts training through an AbortController, as a worker does. `--in-flight` trials train concurrently
 * in one process (their batches interleave on the event loop, like simulated workers sharing a core), so bayes sees
 * results in the order they really finish. `--jobs` (method, seed) runs go to child processes in parallel (one per
 * core is the fair setting: two single-threaded wasm processes keep ~85% of their solo speed).
 *
 * Reported per method (mean over seeds): best validation accuracy of any trial (its final epoch, i.e. the weights it
 * keeps), total epochs trained, wall time, and the epochs trained — summed over all trials in the order they happened
 * — until some trial first *ended* with a validation accuracy >= the best that random search found with that seed.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { encodeForTrial, loadDataset, prepareDataset } from '@sweepq/data';
import type { PreparedDataset } from '@sweepq/data';
import { DivergedError, buildModel, initBackend, trainModel } from '@sweepq/model';
import type { EpochLog, TrainData } from '@sweepq/model';
import { planTrials, validateSpec } from '@sweepq/spec';
import type { SweepSpec, TrialParams } from '@sweepq/spec';
import { RungStore, TpeSampler, planAdaptive } from '../src/index.js';
import type { Observation } from '../src/index.js';

const METHODS = ['random', 'bayes', 'bayes+hyperband'] as const;
type Method = (typeof METHODS)[number];

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    'run-cap': { type: 'string', default: '20' },
    'in-flight': { type: 'string', default: '2' },
    'max-rows': { type: 'string', default: '2000' },
    epochs: { type: 'string', default: '9' },
    startup: { type: 'string', default: '6' },
    jobs: { type: 'string', default: '2' },
    methods: { type: 'string', default: METHODS.join(',') },
    json: { type: 'boolean', default: false },
    run: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log('usage: npm run bench:search -- [--seeds N] [--run-cap N] [--in-flight N] [--max-rows N] [--epochs N] [--startup N] [--jobs N] [--methods random,bayes,bayes+hyperband] [--json]');
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

const SEEDS = int('seeds', args.seeds);
const RUN_CAP = int('run-cap', args['run-cap']);
const IN_FLIGHT = int('in-flight', args['in-flight']);
const MAX_ROWS = int('max-rows', args['max-rows']);
const EPOCHS = int('epochs', args.epochs);
const STARTUP = int('startup', args.startup);
const JOBS = int('jobs', args.jobs);
const methods = (args.methods ?? '').split(',').filter((m) => m !== '') as Method[];
for (const m of methods) {
  if (!(METHODS as readonly string[]).includes(m)) {
    console.error(`--methods: expected a comma-separated list of ${METHODS.join(', ')}; got ${JSON.stringify(m)}`);
    process.exit(2);
  }
}

/** The search space: small models so a sweep takes minutes; wide learning rate and optimizer so a bad pick costs. */
function benchSpec(method: Method, seed: number): SweepSpec {
  return validateSpec({
    name: `bench-${method}`,
    method: method === 'random' ? 'random' : 'bayes',
    run_cap: RUN_CAP,
    seed,
    max_in_flight: IN_FLIGHT,
    metric: { name: 'val_accuracy', goal: 'maximize' },
    ...(method === 'random' ? {} : { bayes: { n_startup_trials: STARTUP } }),
    ...(method === 'bayes+hyperband' ? { early_terminate: { type: 'hyperband', min_iter: 1, eta: 3 } } : {}),
    parameters: {
      optimizer: { values: ['adam', 'rmsprop', 'sgd'] },
      learning_rate: { distribution: 'log_uniform_values', min: 1e-4, max: 3e-2 },
      embedding_dim: { values: [16, 32] },
      lstm_units: { distribution: 'q_uniform', min: 8, max: 32, q: 8 },
      dropout: { distribution: 'uniform', min: 0, max: 0.5 },
      batch_size: { values: [32, 64] },
      max_words: { values: [2000, 5000] },
      max_len: { value: 60 },
      epochs: { value: EPOCHS },
    },
    dataset: { uri: 'builtin:spam-assassin', max_rows: MAX_ROWS },
  });
}

interface TrialEnd {
  /** Epochs trained by the whole sweep when this trial ended. */
  sweepEpochs: number;
  value: number;
  epochs: number;
  stopped: boolean;
}

interface RunResult {
  method: Method;
  seed: number;
  backend: string;
  trials: number;
  stopped: number;
  bestValAccuracy: number;
  totalEpochs: number;
  wallSec: number;
  ends: TrialEnd[];
}

async function runOne(method: Method, seed: number): Promise<RunResult> {
  const { backend } = await initBackend({ prefer: 'auto' });
  const spec = benchSpec(method, seed);
  const raw = await loadDataset({ uri: spec.dataset.uri, textField: 'text', labelField: 'label', maxRows: spec.dataset.max_rows });
  const prepared: PreparedDataset = prepareDataset(raw, { validationSplit: spec.dataset.validation_split, testSplit: spec.dataset.test_split, seed: spec.dataset.seed, uri: spec.dataset.uri });
  const enc = (split: 'train' | 'validation', p: TrialParams): TrainData => {
    const e = encodeForTrial(prepared.splits[split], { maxWords: p.max_words, maxLen: p.max_len });
    return { x: e.x, y: e.y, n: e.n, maxLen: p.max_len };
  };

  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  const rungs = new RungStore(redis, `{sweepq-bench-${randomUUID().slice(0, 8)}}`, `bench-${method}-${seed}`);
  const plan = planAdaptive(spec);
  const planned = spec.method === 'random' ? planTrials(spec).map((t) => t.params) : [];
  const sampler = spec.method === 'bayes' ? new TpeSampler(spec) : undefined;
  const observations: Observation[] = [];
  const running = new Map<number, TrialParams>();
  const ends: TrialEnd[] = [];
  let sweepEpochs = 0;
  let proposed = 0;
  let stopped = 0;
  const t0 = performance.now();

  const runTrial = async (index: number, params: TrialParams): Promise<void> => {
    const trialId = `t${String(index).padStart(4, '0')}`;
    const model = buildModel({
      maxWords: params.max_words,
      maxLen: params.max_len,
      embeddingDim: params.embedding_dim,
      lstmUnits: params.lstm_units,
      dropout: params.dropout,
      recurrentDropout: params.recurrent_dropout,
      learningRate: params.learning_rate,
      optimizer: params.optimizer,
      numClasses: prepared.classes.length,
      seed: seed * 1_000_003 + index,
    });
    const stop = new AbortController();
    let last: EpochLog | undefined;
    let wasStopped = false;
    try {
      await trainModel({
        model,
        train: enc('train', params),
        validation: enc('validation', params),
        epochs: params.epochs,
        batchSize: params.batch_size,
        seed: seed * 1_000_003 + index,
        signal: stop.signal,
        onEpochEnd: async (e) => {
          sweepEpochs += 1;
          last = e;
          if (e.epoch >= params.epochs) return;
          const d = await rungs.report(trialId, e.epoch, e.val_accuracy, spec);
          if (!d.continue) {
            wasStopped = true;
            stop.abort(new Error('early_terminated'));
          }
        },
      });
      const value = last?.val_accuracy ?? null;
      observations.push(wasStopped && last ? { params, value, stoppedAtEpoch: last.epoch } : { params, value });
      if (value !== null) ends.push({ sweepEpochs, value, epochs: last?.epoch ?? 0, stopped: wasStopped });
      if (wasStopped) stopped += 1;
    } catch (err) {
      // A diverged trial (NaN loss) fails; the sampler ranks it last.
      observations.push({ params, value: null });
      if (!(err instanceof DivergedError)) throw err;
    } finally {
      model.dispose();
    }
  };

  // Asynchronous scheduling as the coordinator does it: keep max_in_flight trials running; when one ends, propose
  // the next from every result so far, with the still-running ones pending.
  await new Promise<void>((resolve, reject) => {
    const launch = (): void => {
      try {
        fill();
      } catch (err) {
        reject(err as Error);
      }
    };
    const fill = (): void => {
      while (running.size < plan.maxInFlight && proposed < plan.total) {
        const index = proposed++;
        const params = sampler ? sampler.propose(index, observations, [...running.values()]) : (planned[index] as TrialParams);
        running.set(index, params);
        runTrial(index, params).then(
          () => {
            running.delete(index);
            if (running.size === 0 && proposed >= plan.total) resolve();
            else launch();
          },
          reject,
        );
      }
    };
    launch();
  });
  const wallSec = (performance.now() - t0) / 1000;
  await rungs.clear();
  await redis.quit();
  const values = observations.map((o) => o.value).filter((v): v is number => v !== null);
  return { method, seed, backend, trials: observations.length, stopped, bestValAccuracy: Math.max(...values), totalEpochs: sweepEpochs, wallSec, ends };
}

function runChild(method: Method, seed: number): Promise<RunResult> {
  const script = fileURLToPath(import.meta.url);
  const argv = ['--conditions=source', '--import', 'tsx', script, '--run', `${method}:${seed}`, '--run-cap', String(RUN_CAP), '--in-flight', String(IN_FLIGHT), '--max-rows', String(MAX_ROWS), '--epochs', String(EPOCHS), '--startup', String(STARTUP)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`${method} seed ${seed}: exit ${code}`));
      else resolve(JSON.parse(line) as RunResult);
    });
  });
}

async function pool<T>(tasks: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await (tasks[i] as () => Promise<T>)();
      }
    }),
  );
  return out;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

if (args.run !== undefined) {
  const [m, s] = args.run.split(':');
  const result = await runOne(m as Method, Number(s));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

const tasks: Array<{ method: Method; seed: number }> = [];
for (let seed = 1; seed <= SEEDS; seed++) for (const method of methods) tasks.push({ method, seed });
if (!args.json) console.error(`running ${tasks.length} sweeps (${methods.join(', ')} x ${SEEDS} seeds, run_cap ${RUN_CAP}, ${IN_FLIGHT} in flight, ${JOBS} at a time)…`);
const results = await pool(
  tasks.map((t) => async () => {
    const r = await runChild(t.method, t.seed);
    if (!args.json) console.error(`  ${t.method} seed ${t.seed}: best ${r.bestValAccuracy.toFixed(4)}, ${r.totalEpochs} epochs, ${r.wallSec.toFixed(0)} s`);
    return r;
  }),
  JOBS,
);

/** Epochs the run had trained when a trial first ended at or above `target`; null if never. */
function epochsToReach(r: RunResult, target: number): number | null {
  const hit = r.ends.find((e) => e.value >= target - 1e-9);
  return hit === undefined ? null : hit.sweepEpochs;
}

const rows = methods.map((method) => {
  const runs = results.filter((r) => r.method === method);
  const reach = runs.map((r) => {
    const random = results.find((x) => x.method === 'random' && x.seed === r.seed);
    return random === undefined ? null : epochsToReach(r, random.bestValAccuracy);
  });
  const reached = reach.filter((x): x is number => x !== null);
  return {
    method,
    seeds: runs.length,
    bestValAccuracy: mean(runs.map((r) => r.bestValAccuracy)),
    totalEpochs: mean(runs.map((r) => r.totalEpochs)),
    wallSec: mean(runs.map((r) => r.wallSec)),
    stoppedTrials: mean(runs.map((r) => r.stopped)),
    epochsToRandomBest: reach,
    reachedRandomBest: `${reached.length}/${runs.length}`,
    meanEpochsToRandomBest: reached.length > 0 ? mean(reached) : null,
  };
});

if (args.json) {
  console.log(JSON.stringify({ config: { seeds: SEEDS, runCap: RUN_CAP, inFlight: IN_FLIGHT, maxRows: MAX_ROWS, epochs: EPOCHS, startup: STARTUP }, backend: results[0]?.backend, rows, runs: results }, null, 2));
} else {
  const header = ['method', 'best val_acc', 'epochs', 'wall s', 'stopped', 'reached random best', 'epochs to random best (per seed)'];
  const table = rows.map((r) => [
    r.method,
    r.bestValAccuracy.toFixed(4),
    r.totalEpochs.toFixed(1),
    r.wallSec.toFixed(0),
    r.stoppedTrials.toFixed(1),
    r.reachedRandomBest,
    r.epochsToRandomBest.map((x) => (x === null ? '-' : String(x))).join(' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) console.log(line(row));
  const perSeed = results.filter((r) => r.method === 'random').map((r) => `seed ${r.seed}: ${r.bestValAccuracy.toFixed(4)} in ${r.totalEpochs} epochs`);
  console.log(`\nrandom search's best per seed (the target): ${perSeed.join('; ')}`);
  console.log(`backend ${results[0]?.backend}; run_cap ${RUN_CAP}, ${IN_FLIGHT} trials in flight, ${EPOCHS} epochs max, ${MAX_ROWS} rows, bayes start-up ${STARTUP}`);
}
