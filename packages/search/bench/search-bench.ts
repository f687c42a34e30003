/**
 * Search benchmark: random vs bayes (TPE) vs bayes + hyperband (asynchronous successive halving) on the built-in
 * spam-assassin dataset, same search space, same budget, several seeds. Not a test: figures, not assertions.
 *
 *   npm run bench:search -- [--seeds 3] [--run-cap 20] [--budget epochs|trials] [--in-flight 2] [--max-rows N]
 *                           [--train-rows N] [--epochs 9] [--startup 6] [--min-iter 3] [--eta 3] [--jobs 2]
 *                           [--methods random,bayes,bayes+hyperband] [--json] [--json-out FILE] [--reuse-random FILE]
 *                           [--reuse FILE] [--curves on|off] [--multivariate on|off]
 *   npm run bench:search -- --table FILE[,FILE…] [...]   (no training: sweeps replayed on a table; see table-bench.ts)
 *
 * Hyperband: `early_terminate: {type: hyperband, min_iter: --min-iter, eta: --eta}`, default min_iter 3, eta 3: with
 * 9-epoch trials, one rung at epoch 3 where the top third (by validation accuracy at epoch 3) continue to epoch 9.
 * (min_iter 1 adds a rung at epoch 1, where about half the configurations still predict the majority class — 33 of
 * random search's 60 trials over seeds 1-3 — and the ranking says little about the final one.) The setting is
 * printed with the results.
 *
 * Budget. `--budget trials`: every method runs `--run-cap` trials. `--budget epochs` (default): random search runs
 * `--run-cap` trials first for each seed, and the epochs it trained become that seed's budget for the other methods:
 * they keep proposing trials while the budget can still hold one more, i.e. while epochs trained + the epochs the
 * running trials must still train before they can next stop (their next rung, or their last epoch) + the epochs a new
 * trial must train before it can first stop (hyperband: `min_iter`; otherwise all of them) <= the budget. Running
 * trials always finish, so a hyperband run may end a few epochs over the budget when they get promoted.
 *
 * Multi-fidelity: each finished trial reaches the sampler with its validation accuracy at every epoch it trained
 * (`Observation.curve`), so TPE ranks trials at the same epoch (BOHB): the largest epoch that enough trials reached
 * (see TpeSampler), i.e. the epoch-3 rung while few trials were promoted past it. The coordinator does the same with
 * the rung values in Redis. `--curves off` leaves the curves out: the sampler then ranks a stopped trial by its value
 * at the epoch it stopped against finished trials' final values (the behaviour before curves), for comparison.
 *
 * Everything is the real thing, in-process: the spec is validated by @sweepq/sweep-config, trials come from planTrials (random)
 * or TpeSampler (bayes, proposing a new trial whenever one finishes while the others are still running, with those
 * as pending), every trial trains the real model (@sweepq/model `buildModel`/`trainModel` on data from
 * @sweepq/data), and hyperband decisions come from RungStore in the Redis at REDIS_URL (default
 * redis://127.0.0.1:6379; unique key prefix, deleted afterwards): `onEpochEnd` reports the epoch and, when the rung
 * says stop, aborts training through an AbortController, as a worker does. `--in-flight` trials train concurrently
 * in one process (their batches interleave on the event loop, like simulated workers sharing a core), so bayes sees
 * results in the order they really finish. `--jobs` (method, seed) runs go to child processes in parallel (one per
 * core is the fair setting: two single-threaded wasm processes keep ~85% of their solo speed).
 *
 * Data: the whole dataset by default (`--max-rows` truncates it before splitting), split 70/20/10 as a sweep does, so
 * validation accuracy is measured on the full validation split (~1,200 rows). `--train-rows` trains on only the first
 * N rows of the (shuffled) training split, to keep epochs cheap without shrinking the validation set. For the target
 * of issue #5, use the whole training split (4,232 rows; no `--train-rows`): with 1,500 rows an epoch is only 23-47
 * steps, and the low-learning-rate configurations that end best are still far from converged at the epoch-3 rung
 * (seed 1: the best trial of random search, adam at lr 7e-4, had 0.913 at epoch 3 — rank 3 of 6 there, so successive
 * halving stops it — and 0.974 at epoch 9), so the benchmark measured mostly how the 1,500-row truncation penalises
 * early stopping. With the whole split the same trial has 0.964 at epoch 3 and 0.978 at epoch 9.
 *
 * Reported per method (mean over seeds): best validation accuracy of any trial at its final epoch (the weights it
 * keeps) and at any epoch, total epochs trained, wall time, and — per seed — the epochs trained by the whole run, in
 * the order they happened (an intermediate epoch of a trial counts), when some trial first reported a validation
 * accuracy >= random search's best (at any epoch) with that seed; also the same against the median over seeds of
 * random's best, and the ratios of bayes (+hyperband) epochs-to-target to random's epochs-to-target and to random's
 * total epochs. The target of issue #5: bayes + hyperband reaches random search's best with at most 1/3 of random's
 * total epochs (the "/ random's total" ratio). Also per seed: the epochs until some trial ended (finished, or stopped
 * at a rung) with a value >= random search's best final value, i.e. until the method's leaderboard, which ranks
 * trials by the value they end with, first showed what random search's leaderboard ends with at the top. `--json-out FILE` also writes the --json output (with every trial's
 * curve) to FILE while printing the table.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { encodeForTrial, loadDataset, prepareDataset } from '@sweepq/data';
import type { PreparedDataset } from '@sweepq/data';
import { DivergedError, buildModel, initBackend, modelParamsFromTrial, trainModel } from '@sweepq/model';
import type { EpochLog, TrainData } from '@sweepq/model';
import { BAYES_DEFAULTS, maxEpochs, validateSpec } from '@sweepq/sweep-config';
import type { SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { RungStore } from '@sweepq/lifecycle';
import { TpeSampler, planAdaptive, planTrials, rungEpochs, trialSeed } from '../src/index.js';
import type { Observation } from '../src/index.js';
import { readReusedRuns, savedField } from './saved-runs.js';

// `--table FILE`: replay sweeps against a tabular benchmark instead of training (table-bench.ts has its own flags).
if (process.argv.slice(2).includes('--table') || process.argv.slice(2).some((a) => a.startsWith('--table='))) {
  await import('./table-bench.js');
  process.exit(0);
}

const METHODS = ['random', 'bayes', 'bayes+hyperband'] as const;
type Method = (typeof METHODS)[number];
const BUDGETS = ['epochs', 'trials'] as const;
type Budget = (typeof BUDGETS)[number];

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    'run-cap': { type: 'string', default: '20' },
    budget: { type: 'string', default: 'epochs' },
    'in-flight': { type: 'string', default: '2' },
    'max-rows': { type: 'string' },
    'train-rows': { type: 'string' },
    epochs: { type: 'string', default: '9' },
    startup: { type: 'string', default: '6' },
    'min-iter': { type: 'string', default: '3' },
    eta: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '2' },
    methods: { type: 'string', default: METHODS.join(',') },
    json: { type: 'boolean', default: false },
    'reuse-random': { type: 'string' },
    reuse: { type: 'string' },
    'json-out': { type: 'string' },
    curves: { type: 'string', default: 'on' },
    multivariate: { type: 'string' },
    run: { type: 'string' },
    'epoch-budget': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log(
    'usage: npm run bench:search -- [--seeds N] [--run-cap N] [--budget epochs|trials] [--in-flight N] [--max-rows N] [--train-rows N] [--epochs N] [--startup N] [--min-iter N] [--eta N] [--jobs N] [--methods random,bayes,bayes+hyperband] [--json] [--json-out FILE] [--reuse-random FILE] [--reuse FILE] [--curves on|off] [--multivariate on|off]',
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
const optInt = (name: string, v: string | undefined): number | undefined => (v === undefined ? undefined : int(name, v));

const SEEDS = int('seeds', args.seeds);
const RUN_CAP = int('run-cap', args['run-cap']);
const IN_FLIGHT = int('in-flight', args['in-flight']);
const MAX_ROWS = optInt('max-rows', args['max-rows']);
const TRAIN_ROWS = optInt('train-rows', args['train-rows']);
const EPOCHS = int('epochs', args.epochs);
const STARTUP = int('startup', args.startup);
const MIN_ITER = int('min-iter', args['min-iter']);
const ETA = int('eta', args.eta);
const JOBS = int('jobs', args.jobs);
if (args.curves !== 'on' && args.curves !== 'off') {
  console.error(`--curves: expected on or off, got ${JSON.stringify(args.curves)}`);
  process.exit(2);
}
const CURVES = args.curves === 'on';
if (args.multivariate !== undefined && args.multivariate !== 'on' && args.multivariate !== 'off') {
  console.error(`--multivariate: expected on or off, got ${JSON.stringify(args.multivariate)}`);
  process.exit(2);
}
/** TPE models the parameters jointly (bayes.multivariate); default: the spec's default. */
const MULTIVARIATE = args.multivariate === undefined ? BAYES_DEFAULTS.multivariate : args.multivariate === 'on';
if (!(BUDGETS as readonly string[]).includes(args.budget ?? '')) {
  console.error(`--budget: expected epochs or trials, got ${JSON.stringify(args.budget)}`);
  process.exit(2);
}
const BUDGET = args.budget as Budget;
const methods = (args.methods ?? '').split(',').filter((m) => m !== '') as Method[];
for (const m of methods) {
  if (!(METHODS as readonly string[]).includes(m)) {
    console.error(`--methods: expected a comma-separated list of ${METHODS.join(', ')}; got ${JSON.stringify(m)}`);
    process.exit(2);
  }
}
if (BUDGET === 'epochs' && !methods.includes('random')) {
  console.error('--budget epochs: random search sets the epoch budget, so --methods must include random (or use --budget trials)');
  process.exit(2);
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
    ...(method === 'random' ? {} : { bayes: { n_startup_trials: STARTUP, multivariate: MULTIVARIATE } }),
    ...(method === 'bayes+hyperband' ? { early_terminate: { type: 'hyperband', min_iter: MIN_ITER, eta: ETA } } : {}),
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
    dataset: { uri: 'builtin:spam-assassin', ...(MAX_ROWS === undefined ? {} : { max_rows: MAX_ROWS }) },
  });
}

interface TrialEnd {
  /** Epochs trained by the whole sweep when this trial ended. */
  sweepEpochs: number;
  value: number;
  epochs: number;
  stopped: boolean;
}

/** One epoch of one trial: the sweep's epoch count right after it, and its validation accuracy. */
interface EpochPoint {
  sweepEpochs: number;
  value: number;
}

interface RunResult {
  method: Method;
  seed: number;
  backend: string;
  trainRows: number;
  validationRows: number;
  /** Epoch budget the run was given (epochs mode, non-random methods); null otherwise. */
  epochBudget: number | null;
  trials: number;
  stopped: number;
  failed: number;
  /** Best validation accuracy of any trial at its final epoch (the weights it keeps). */
  bestValAccuracy: number;
  /** Best validation accuracy any trial reported at any epoch. */
  bestAnyEpoch: number;
  totalEpochs: number;
  wallSec: number;
  ends: TrialEnd[];
  /** Every epoch of every trial, in the order they happened. */
  points: EpochPoint[];
  /** Every trial: its parameters, its validation accuracy per epoch, and whether a rung stopped it. */
  trialLog: Array<{ index: number; params: TrialParams; curve: number[]; stopped: boolean }>;
}

/** A run of an earlier output (--reuse) after checking the fields this bench reads from it (readReusedRuns). */
function savedRun(r: Record<string, unknown>): RunResult {
  savedField.oneOf(r, 'method', METHODS);
  savedField.string(r, 'backend');
  for (const f of ['seed', 'trainRows', 'validationRows', 'trials', 'stopped', 'bestValAccuracy', 'bestAnyEpoch', 'totalEpochs', 'wallSec'] as const satisfies ReadonlyArray<keyof RunResult>) savedField.number(r, f);
  for (const f of ['ends', 'points'] as const satisfies ReadonlyArray<keyof RunResult>) savedField.objects(r, f, (x) => [savedField.number(x, 'sweepEpochs'), savedField.number(x, 'value')]);
  return r as unknown as RunResult;
}

async function runOne(method: Method, seed: number, epochBudget: number | undefined): Promise<RunResult> {
  const { backend } = await initBackend({ prefer: 'auto' });
  const spec = benchSpec(method, seed);
  const raw = await loadDataset({ uri: spec.dataset.uri, textField: 'text', labelField: 'label', maxRows: spec.dataset.max_rows });
  const prepared: PreparedDataset = prepareDataset(raw, { validationSplit: spec.dataset.validation_split, testSplit: spec.dataset.test_split, seed: spec.dataset.seed, uri: spec.dataset.uri });
  const enc = (split: 'train' | 'validation', p: TrialParams): TrainData => {
    const e = encodeForTrial(prepared.splits[split], { maxWords: p.max_words, maxLen: p.max_len });
    if (split === 'train' && TRAIN_ROWS !== undefined && TRAIN_ROWS < e.n) {
      // The split is shuffled (stratified, classes interleaved), so its first rows are a fair sample.
      return { x: e.x.slice(0, TRAIN_ROWS * p.max_len), y: e.y.slice(0, TRAIN_ROWS), n: TRAIN_ROWS, maxLen: p.max_len };
    }
    return { x: e.x, y: e.y, n: e.n, maxLen: p.max_len };
  };
  const trainRows = Math.min(TRAIN_ROWS ?? Infinity, prepared.splits.train.labels.length);
  const validationRows = prepared.splits.validation.labels.length;

  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  const rungs = new RungStore(redis, `{sweepq-bench-${randomUUID().slice(0, 8)}}`, `bench-${method}-${seed}`);
  const plan = planAdaptive(spec);
  const planned = spec.method === 'random' ? planTrials(spec).map((t) => t.params) : [];
  const sampler = spec.method === 'bayes' ? new TpeSampler(spec) : undefined;
  const lastEpoch = maxEpochs(spec);
  // Epochs at which a trial can end: its rungs (hyperband) and its last epoch.
  const stops = [...rungEpochs(spec), lastEpoch].sort((a, b) => a - b);
  const nextStop = (done: number): number => stops.find((e) => e > done) ?? done;
  const observations: Observation[] = [];
  const running = new Map<number, { params: TrialParams; done: number }>();
  const ends: TrialEnd[] = [];
  const points: EpochPoint[] = [];
  const trialLog: RunResult['trialLog'] = [];
  let sweepEpochs = 0;
  let proposed = 0;
  let stopped = 0;
  let failed = 0;
  const t0 = performance.now();

  /** Whether another trial may start: the trial cap, or (epoch budget) the epochs already committed plus its first stop. */
  const mayPropose = (): boolean => {
    if (epochBudget === undefined) return proposed < plan.total;
    let committed = sweepEpochs;
    for (const r of running.values()) committed += nextStop(r.done) - r.done;
    return committed + nextStop(0) <= epochBudget;
  };

  const runTrial = async (index: number, params: TrialParams): Promise<void> => {
    const trialId = `t${String(index).padStart(4, '0')}`;
    const model = buildModel(modelParamsFromTrial(params, prepared.classes.length, trialSeed(seed, index)));
    const stop = new AbortController();
    let last: EpochLog | undefined;
    let wasStopped = false;
    const curve: number[] = [];
    trialLog.push({ index, params, curve, stopped: false });
    try {
      await trainModel({
        model,
        train: enc('train', params),
        validation: enc('validation', params),
        epochs: params.epochs,
        batchSize: params.batch_size,
        seed: trialSeed(seed, index),
        signal: stop.signal,
        onEpochEnd: async (e) => {
          sweepEpochs += 1;
          const r = running.get(index);
          if (r !== undefined) r.done = e.epoch;
          last = e;
          curve.push(e.val_accuracy);
          if (Number.isFinite(e.val_accuracy)) points.push({ sweepEpochs, value: e.val_accuracy });
          if (e.epoch >= params.epochs) return;
          const d = await rungs.report(trialId, e.epoch, e.val_accuracy, spec);
          if (!d.continue) {
            wasStopped = true;
            stop.abort(new Error('early_terminated'));
          }
        },
      });
      const value = last?.val_accuracy ?? null;
      // The curve: the sampler compares trials at equal epochs (multi-fidelity), as the coordinator does with the
      // rung values from Redis; a value at a non-rung epoch changes nothing there (same trials reach it as the rung below).
      const observed: Observation = CURVES ? { params, value, curve: Object.fromEntries(curve.map((v, i) => [i + 1, v])) } : { params, value };
      observations.push(wasStopped && last ? { ...observed, stoppedAtEpoch: last.epoch } : observed);
      if (value !== null) ends.push({ sweepEpochs, value, epochs: last?.epoch ?? 0, stopped: wasStopped });
      if (wasStopped) stopped += 1;
      (trialLog.find((t) => t.index === index) as RunResult['trialLog'][number]).stopped = wasStopped;
    } catch (err) {
      // A diverged trial (NaN loss) fails; the sampler ranks it last.
      observations.push({ params, value: null });
      failed += 1;
      if (!(err instanceof DivergedError)) throw err;
    } finally {
      model.dispose();
    }
  };

  // Asynchronous scheduling as the coordinator does it: keep max_in_flight trials running; when one ends, propose
  // the next from every result so far, with the still-running ones pending.
  await new Promise<void>((resolve, reject) => {
    const fill = (): void => {
      while (running.size < plan.maxInFlight && mayPropose()) {
        const index = proposed++;
        const params = sampler ? sampler.propose(index, observations, [...running.values()].map((r) => r.params)) : (planned[index] as TrialParams);
        running.set(index, { params, done: 0 });
        runTrial(index, params).then(() => {
          running.delete(index);
          launch();
        }, reject);
      }
      if (running.size === 0) resolve();
    };
    const launch = (): void => {
      try {
        fill();
      } catch (err) {
        reject(err as Error);
      }
    };
    launch();
  });
  const wallSec = (performance.now() - t0) / 1000;
  await rungs.clear();
  await redis.quit();
  return {
    method,
    seed,
    backend,
    trainRows,
    validationRows,
    epochBudget: epochBudget ?? null,
    trials: observations.length,
    stopped,
    failed,
    bestValAccuracy: Math.max(...ends.map((e) => e.value)),
    bestAnyEpoch: Math.max(...points.map((p) => p.value)),
    totalEpochs: sweepEpochs,
    wallSec,
    ends,
    points,
    trialLog,
  };
}

function runChild(method: Method, seed: number, epochBudget: number | undefined): Promise<RunResult> {
  const script = fileURLToPath(import.meta.url);
  const argv = ['--conditions=source', '--import', 'tsx', script, '--run', `${method}:${seed}`, '--run-cap', String(RUN_CAP), '--in-flight', String(IN_FLIGHT), '--epochs', String(EPOCHS), '--startup', String(STARTUP), '--min-iter', String(MIN_ITER), '--eta', String(ETA)];
  if (MAX_ROWS !== undefined) argv.push('--max-rows', String(MAX_ROWS));
  if (TRAIN_ROWS !== undefined) argv.push('--train-rows', String(TRAIN_ROWS));
  if (epochBudget !== undefined) argv.push('--epoch-budget', String(epochBudget));
  argv.push('--curves', CURVES ? 'on' : 'off', '--multivariate', MULTIVARIATE ? 'on' : 'off');
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
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

if (args.run !== undefined) {
  const [m, s] = args.run.split(':');
  const result = await runOne(m as Method, Number(s), optInt('epoch-budget', args['epoch-budget']));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

// Random search first for every seed (in epochs mode it sets the budget), then the other methods, each waiting for
// its seed's random run.
const order: Array<{ method: Method; seed: number }> = [];
for (let seed = 1; seed <= SEEDS; seed++) if (methods.includes('random')) order.push({ method: 'random', seed });
for (let seed = 1; seed <= SEEDS; seed++) for (const method of methods) if (method !== 'random') order.push({ method, seed });
/**
 * `--reuse-random FILE`: random search's runs come from an earlier `--json` output of this bench with the same data,
 * trial and epoch settings (random search does not depend on the bayes or hyperband options), instead of being run
 * again. Saves time when comparing bayes settings; a final comparison should run everything.
 * `--reuse FILE`: every run of FILE (any method) whose settings all match is taken instead of being run again, e.g. to
 * print the tables of an earlier `--json-out` file (same flags, nothing runs) or to add seeds or methods to it.
 */
const reuseFile = args['reuse'] ?? args['reuse-random'];
const reusedRuns: RunResult[] = [];
if (reuseFile !== undefined) {
  const all = args['reuse'] !== undefined;
  const refuse = (message: string): never => {
    console.error(message);
    process.exit(2);
  };
  const prior = readReusedRuns(`--reuse${all ? '' : '-random'}`, reuseFile, refuse, savedRun);
  const mine: Record<string, unknown> = { runCap: RUN_CAP, inFlight: IN_FLIGHT, maxRows: MAX_ROWS ?? null, epochs: EPOCHS };
  if (all) Object.assign(mine, { budget: BUDGET, startup: STARTUP, curves: CURVES, multivariate: MULTIVARIATE, hyperband: { min_iter: MIN_ITER, eta: ETA } });
  const same = (k: string): boolean =>
    k === 'hyperband'
      ? (['min_iter', 'eta'] as const).every((h) => (prior.config['hyperband'] as Record<string, unknown> | undefined)?.[h] === (mine['hyperband'] as Record<string, unknown>)[h])
      : prior.config[k] === mine[k];
  if (!Object.keys(mine).every(same) || (TRAIN_ROWS !== undefined && prior.config['trainRows'] !== TRAIN_ROWS)) {
    console.error(`--reuse${all ? '' : '-random'}: ${reuseFile} was run with other settings (${JSON.stringify(prior.config)})`);
    process.exit(2);
  }
  reusedRuns.push(...prior.runs.filter((r) => all || r.method === 'random'));
}
const reusedRun = (method: Method, seed: number): RunResult | undefined => reusedRuns.find((r) => r.method === method && r.seed === seed);
const randomRuns = new Map<number, Promise<RunResult>>();
const randomSettle = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void }>();
for (let seed = 1; seed <= SEEDS; seed++) {
  const p = new Promise<RunResult>((resolve, reject) => randomSettle.set(seed, { resolve, reject }));
  p.catch(() => undefined); // a failure surfaces through the random task itself
  randomRuns.set(seed, p);
}
if (!args.json) {
  console.error(
    `running ${order.length} sweeps (${methods.join(', ')} x ${SEEDS} seeds, ${BUDGET === 'epochs' ? `random: run_cap ${RUN_CAP}, others: random's epochs` : `run_cap ${RUN_CAP}`}, ${IN_FLIGHT} in flight, ${JOBS} at a time; bayes start-up ${STARTUP}; hyperband min_iter ${MIN_ITER}, eta ${ETA})…`,
  );
}
const t0 = performance.now();
const results = await pool(
  order.map((t) => async () => {
    const budget = t.method !== 'random' && BUDGET === 'epochs' ? (await (randomRuns.get(t.seed) as Promise<RunResult>)).totalEpochs : undefined;
    const settle = t.method === 'random' ? randomSettle.get(t.seed) : undefined;
    const reused = reusedRun(t.method, t.seed);
    const r = await (reused !== undefined ? Promise.resolve(reused) : runChild(t.method, t.seed, budget)).catch((err: Error) => {
      settle?.reject(err);
      throw err;
    });
    settle?.resolve(r);
    if (!args.json) {
      // Epochs to random's best (the target) as soon as it is known, so an interrupted run still shows it.
      const random = t.method === 'random' ? undefined : await randomRuns.get(t.seed);
      const reach = random === undefined ? '' : `; random's best ${random.bestAnyEpoch.toFixed(4)} reached at epoch ${epochsToReach(r, random.bestAnyEpoch) ?? '-'} (random: ${epochsToReach(random, random.bestAnyEpoch)} of ${random.totalEpochs})`;
      console.error(`  ${t.method} seed ${t.seed}: best ${r.bestValAccuracy.toFixed(4)} (any epoch ${r.bestAnyEpoch.toFixed(4)}), ${r.trials} trials, ${r.totalEpochs} epochs${budget === undefined ? '' : ` (budget ${budget})`}, ${r.wallSec.toFixed(0)} s${reach}`);
    }
    return r;
  }),
  JOBS,
);
const totalWall = (performance.now() - t0) / 1000;

/** Epochs the run had trained when some trial first reported (at any epoch) a validation accuracy >= `target`; null if never. */
function epochsToReach(r: RunResult, target: number): number | null {
  const hit = r.points.find((p) => p.value >= target - 1e-9);
  return hit === undefined ? null : hit.sweepEpochs;
}

/**
 * Epochs the run had trained when some trial first ended (finished or stopped) with a value >= `target`: when its
 * leaderboard, which ranks trials by the value they end with, first showed `target` or better; null if never.
 */
function epochsToLeaderboard(r: RunResult, target: number): number | null {
  const hit = r.ends.find((e) => e.value >= target - 1e-9);
  return hit === undefined ? null : hit.sweepEpochs;
}

const seeds = Array.from({ length: SEEDS }, (_, i) => i + 1);
const randomOf = (seed: number): RunResult | undefined => results.find((x) => x.method === 'random' && x.seed === seed);
const medianTarget = methods.includes('random') ? median(seeds.map((s) => (randomOf(s) as RunResult).bestAnyEpoch)) : null;

const rows = methods.map((method) => {
  const runs = seeds.map((seed) => results.find((r) => r.method === method && r.seed === seed) as RunResult);
  const reach = runs.map((r) => {
    const random = randomOf(r.seed);
    return random === undefined ? null : epochsToReach(r, random.bestAnyEpoch);
  });
  const reachMedian = runs.map((r) => (medianTarget === null ? null : epochsToReach(r, medianTarget)));
  const reachLeaderboard = runs.map((r) => {
    const random = randomOf(r.seed);
    return random === undefined ? null : epochsToLeaderboard(r, random.bestValAccuracy);
  });
  return {
    method,
    seeds: runs.length,
    bestValAccuracy: mean(runs.map((r) => r.bestValAccuracy)),
    bestAnyEpoch: mean(runs.map((r) => r.bestAnyEpoch)),
    totalEpochs: mean(runs.map((r) => r.totalEpochs)),
    trials: mean(runs.map((r) => r.trials)),
    wallSec: mean(runs.map((r) => r.wallSec)),
    stoppedTrials: mean(runs.map((r) => r.stopped)),
    epochsToRandomBest: reach,
    reachedRandomBest: `${reach.filter((x) => x !== null).length}/${runs.length}`,
    epochsToRandomMedianBest: reachMedian,
    reachedRandomMedianBest: `${reachMedian.filter((x) => x !== null).length}/${runs.length}`,
    epochsToRandomLeaderboardBest: reachLeaderboard,
  };
});

/** Per seed, for each non-random method: its epochs-to-target over random's epochs-to-target and over random's total. */
const ratios = methods
  .filter((m) => m !== 'random')
  .flatMap((method) =>
    seeds.map((seed) => {
      const random = randomOf(seed);
      const r = results.find((x) => x.method === method && x.seed === seed) as RunResult;
      if (random === undefined) return { method, seed, epochsToTarget: null, randomEpochsToTarget: null, randomTotalEpochs: null, vsRandomToTarget: null, vsRandomTotal: null };
      const mine = epochsToReach(r, random.bestAnyEpoch);
      const theirs = epochsToReach(random, random.bestAnyEpoch) as number;
      return {
        method,
        seed,
        epochsToTarget: mine,
        randomEpochsToTarget: theirs,
        randomTotalEpochs: random.totalEpochs,
        vsRandomToTarget: mine === null ? null : mine / theirs,
        vsRandomTotal: mine === null ? null : mine / random.totalEpochs,
      };
    }),
  );

const hyperbandRungs = rungEpochs(benchSpec('bayes+hyperband', 1));
const config = { seeds: SEEDS, runCap: RUN_CAP, budget: BUDGET, inFlight: IN_FLIGHT, maxRows: MAX_ROWS ?? null, trainRows: results[0]?.trainRows, validationRows: results[0]?.validationRows, epochs: EPOCHS, startup: STARTUP, hyperband: { min_iter: MIN_ITER, eta: ETA, rungs: hyperbandRungs }, curves: CURVES, multivariate: MULTIVARIATE, jobs: JOBS };
const jsonText = JSON.stringify({ config, backend: results[0]?.backend, totalWallSec: totalWall, medianTarget, rows, ratios, runs: results }, null, 2);
if (args['json-out'] !== undefined) writeFileSync(args['json-out'], `${jsonText}\n`);
if (args.json) {
  console.log(jsonText);
} else {
  const fmtReach = (xs: ReadonlyArray<number | null>): string => xs.map((x) => (x === null ? '-' : String(x))).join(' ');
  const header = ['method', 'best val_acc', 'best any epoch', 'trials', 'epochs', 'wall s', 'stopped', 'reached random best', 'epochs to random best (per seed)', 'epochs to random median best (per seed)', 'epochs to random leaderboard best (per seed)'];
  const table = rows.map((r) => [
    r.method,
    r.bestValAccuracy.toFixed(4),
    r.bestAnyEpoch.toFixed(4),
    r.trials.toFixed(1),
    r.totalEpochs.toFixed(1),
    r.wallSec.toFixed(0),
    r.stoppedTrials.toFixed(1),
    r.reachedRandomBest,
    fmtReach(r.epochsToRandomBest),
    fmtReach(r.epochsToRandomMedianBest),
    fmtReach(r.epochsToRandomLeaderboardBest),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) console.log(line(row));
  if (methods.includes('random')) {
    const perSeed = seeds.map((s) => {
      const r = randomOf(s) as RunResult;
      return `seed ${s}: ${r.bestAnyEpoch.toFixed(4)} (${Math.round(r.bestAnyEpoch * r.validationRows)}/${r.validationRows}) at epoch ${epochsToReach(r, r.bestAnyEpoch)} of ${r.totalEpochs}`;
    });
    console.log(`\nrandom search's best per seed (the target, any epoch): ${perSeed.join('; ')}; median over seeds ${(medianTarget as number).toFixed(4)}`);
    console.log('\nepochs to random best, relative to random (target <= 1/3 = 0.333):');
    for (const q of ratios) {
      const f = (x: number | null): string => (x === null ? 'not reached' : x.toFixed(3));
      const met = q.vsRandomToTarget !== null && q.vsRandomToTarget <= 1 / 3 ? 'yes' : 'no';
      const metTotal = q.vsRandomTotal !== null && q.vsRandomTotal <= 1 / 3 ? 'yes' : 'no';
      console.log(
        `  ${q.method.padEnd(15)} seed ${q.seed}: ${q.epochsToTarget ?? '-'} epochs; / random's epochs-to-best ${q.randomEpochsToTarget} = ${f(q.vsRandomToTarget)} (<= 1/3: ${met}); / random's total ${q.randomTotalEpochs} = ${f(q.vsRandomTotal)} (<= 1/3: ${metTotal})`,
      );
    }
  }
  const r0 = results[0];
  console.log(
    `\nbackend ${r0?.backend}; budget ${BUDGET === 'epochs' ? `epochs (random: run_cap ${RUN_CAP}; others: random's total epochs per seed)` : `trials (run_cap ${RUN_CAP})`}; ${IN_FLIGHT} trials in flight, ${JOBS} runs at a time; ${EPOCHS} epochs max; ${r0?.trainRows} training rows, ${r0?.validationRows} validation rows${MAX_ROWS === undefined ? '' : ` (max_rows ${MAX_ROWS})`}; bayes start-up ${STARTUP}; hyperband min_iter ${MIN_ITER}, eta ${ETA} (rungs at epoch ${hyperbandRungs.join(', ')}; the last epoch is ${EPOCHS}); bayes compares trials at equal epochs: ${CURVES ? 'yes (curves)' : 'no (--curves off)'}; bayes models parameters ${MULTIVARIATE ? 'jointly (multivariate)' : 'separately (--multivariate off)'}${reuseFile === undefined ? '' : `; ${args['reuse'] !== undefined ? 'runs' : "random search's runs"} reused from ${reuseFile}`}; total wall ${totalWall.toFixed(0)} s`,
  );
}
