/**
 * `npm run bench:search -- --table FILE[,FILE…] --objectives val_accuracy:max,model_bytes:min`: sweepq's
 * multi-objective search against tabular benchmarks (table-mo.ts replays the sweeps), side by side with Optuna's
 * multi-objective samplers on the same tables (optuna-peer.py, /usr/bin/python3 with Debian's python3-optuna).
 * Figures, not assertions.
 *
 *   npm run bench:search -- --table packages/search/bench/tables/spam-assassin.jsonl.gz,packages/search/bench/tables/topics4.jsonl.gz
 *       --objectives val_accuracy:max,model_bytes:min [--objectives val_accuracy:max,latency_ms:min …]
 *       [--seeds 100] [--first-seed 1] [--budget-trials 60] [--in-flight 4] [--methods random,motpe,motpe-mv]
 *       [--startup N] [--startup-design random|latin_hypercube] [--block 100] [--optuna on|off] [--optuna-methods random,tpe,tpe-mv,nsga2,nsga2-small] [--nsga2-population N]
 *       [--python /usr/bin/python3] [--jobs 1] [--optuna-results FILE[,FILE…]] [--json]
 *
 * Optuna's side takes minutes per table and set of objectives and is deterministic per seed, so a run's `--json`
 * output can stand in for it: `--optuna-results FILE[,FILE…]` reads Optuna's results from such files (matched by
 * table and objectives; seeds, first seed, budget and trials in flight must be the same) instead of running
 * optuna-peer.py, and sweepq's side runs as usual. Files with a case's results but not those of every
 * `--optuna-methods` method are refused, naming the methods they have.
 *
 * The budget is in trials (no pruning in this mode: every trial trains its full epochs, so a trial is the unit of
 * cost; seconds would only reweigh trials by their size, which is an objective here). Default 60 trials: a sweep of
 * tens of trials, 37.5 % of a table's 160 configurations (so finding the front takes search, not enumeration), whose
 * 25 % mark (15 trials) is already 5 trials past both engines' 10 random start-up trials. Printed per table and set of
 * objectives: the hypervolume of the trials finished after 25 %, 50 % and 100 % of the budget (mean, median, 10th and
 * 90th percentile over seeds; the scale is HypervolumeScale's) and the hypervolume of the table's true front.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { STARTUP_DESIGNS } from '@sweepq/sweep-config';
import type { MetricSpec } from '@sweepq/sweep-config';
import { benchArgs } from './bench-args.js';
import { readSavedRuns, savedField } from './saved-runs.js';
import { readTable } from './table-format.js';
import { HypervolumeScale, MO_METHODS, parseObjectives, simulateMoSweep } from './table-mo.js';
import type { MoMethod } from './table-mo.js';
import { TableLookup, blockVerdict, percentile } from './table-sim.js';

const FRACTIONS = [0.25, 0.5, 1] as const;
const OPTUNA_METHODS = ['random', 'tpe', 'tpe-mv', 'nsga2', 'nsga2-small'] as const;

const { values: args } = parseArgs({
  options: {
    table: { type: 'string' },
    objectives: { type: 'string', multiple: true },
    seeds: { type: 'string', default: '100' },
    'first-seed': { type: 'string', default: '1' },
    'budget-trials': { type: 'string', default: '60' },
    'in-flight': { type: 'string', default: '4' },
    methods: { type: 'string', default: MO_METHODS.join(',') },
    startup: { type: 'string' },
    'startup-design': { type: 'string', default: 'random' },
    block: { type: 'string', default: '100' },
    optuna: { type: 'string', default: 'on' },
    'optuna-methods': { type: 'string', default: OPTUNA_METHODS.join(',') },
    'nsga2-population': { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    jobs: { type: 'string', default: '1' },
    'optuna-results': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
const usage =
  'usage: npm run bench:search -- --table FILE[,FILE...] --objectives NAME:max|min,NAME:max|min[,...] [--objectives ...] [--seeds 100] [--first-seed 1] [--budget-trials 60] [--in-flight 4] [--methods random,motpe,motpe-mv] [--startup N] [--startup-design random|latin_hypercube] [--block 100] [--optuna on|off] [--optuna-methods random,tpe,tpe-mv,nsga2,nsga2-small] [--nsga2-population N] [--python /usr/bin/python3] [--jobs 1] [--optuna-results FILE[,FILE...]] [--json]';
if (args.help) {
  console.log(usage);
  process.exit(0);
}
const { fail, int, list, oneOf, tableFiles } = benchArgs(usage);
const files = tableFiles(args.table);
const objectiveSets: MetricSpec[][] = (args.objectives ?? []).map((text) => {
  try {
    return parseObjectives(text);
  } catch (e) {
    return fail((e as Error).message);
  }
});
if (objectiveSets.length === 0) fail('--objectives: expected at least one set, e.g. --objectives val_accuracy:max,model_bytes:min');
const SEEDS = int('seeds', args.seeds);
const FIRST_SEED = int('first-seed', args['first-seed']);
const TRIALS = int('budget-trials', args['budget-trials']);
const IN_FLIGHT = int('in-flight', args['in-flight']);
const STARTUP = args.startup === undefined ? undefined : int('startup', args.startup);
/** Seeds per block of the per-block verdict (printed when there are at least two blocks). */
const BLOCK = int('block', args.block);
/** bayes.startup_design of every bayes method (sweepq's side only: Optuna's TPE has no such option). */
const STARTUP_DESIGN = oneOf('startup-design', args['startup-design'], STARTUP_DESIGNS);
/** NSGA-II's population sized to the budget: five generations in it (Optuna's default 50 is nsga2). */
const NSGA2_POPULATION = args['nsga2-population'] === undefined ? Math.max(2, Math.round(TRIALS / 5)) : int('nsga2-population', args['nsga2-population']);
const JOBS = int('jobs', args.jobs);
const methods = list('methods', args.methods, MO_METHODS);
const optunaMethods = list('optuna-methods', args['optuna-methods'], OPTUNA_METHODS);
if (args.optuna !== 'on' && args.optuna !== 'off') fail(`--optuna: expected on or off, got ${JSON.stringify(args.optuna)}`);
const OPTUNA = args.optuna === 'on';

const spec = (objectives: readonly MetricSpec[]): string => objectives.map((o) => `${o.name}:${o.goal === 'maximize' ? 'max' : 'min'}`).join(',');
const savedOptuna = args['optuna-results'] === undefined ? undefined : loadOptunaResults(args['optuna-results']);

/** One method's sweeps: per seed, the table rows its trials looked up, in the order they finished. */
interface MethodRuns {
  engine: 'sweepq' | 'optuna';
  method: string;
  orders: number[][];
}

function runOptuna(file: string, objectives: readonly MetricSpec[]): Promise<MethodRuns[]> {
  const script = fileURLToPath(new URL('./optuna-peer.py', import.meta.url));
  const argv = [script, '--table', file, '--objectives', spec(objectives), '--budget-trials', String(TRIALS), '--seeds', String(SEEDS), '--first-seed', String(FIRST_SEED), '--in-flight', String(IN_FLIGHT), '--methods', optunaMethods.join(','), '--nsga2-population', String(NSGA2_POPULATION), '--jobs', String(JOBS), '--json'];
  return new Promise((resolve, reject) => {
    const child = spawn(args.python as string, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`optuna-peer.py ${basename(file)}: exit ${code}`));
      else resolve((JSON.parse(out) as { results: Array<{ method: string; orders: number[][] }> }).results.map((r) => ({ ...r, engine: 'optuna' as const })));
    });
  });
}

/**
 * Reads Optuna's results from earlier `--json` outputs (readSavedRuns); returns a look-up of one table and set of
 * objectives (its optuna rows, or undefined when no file has them: then optuna-peer.py runs).
 */
function loadOptunaResults(text: string): (file: string, objectives: readonly MetricSpec[]) => Report['results'] | undefined {
  const key = (file: string, objectives: readonly MetricSpec[]): string => `${basename(file)} ${spec(objectives)}`;
  const found = readSavedRuns<Report['results'][number]>(text, {
    want: { seeds: SEEDS, firstSeed: FIRST_SEED, budgetTrials: TRIALS, inFlight: IN_FLIGHT },
    fractions: FRACTIONS,
    methods: optunaMethods,
    fail,
    key: (r) => key(savedField.string(r, 'file'), savedField.objects(r, 'objectives', (o) => ({ name: savedField.string(o, 'name') as MetricSpec['name'], goal: savedField.oneOf(o, 'goal', ['maximize', 'minimize']) }))),
    row: (m) => ({ engine: m.engine, method: m.method, hv: savedField.numberRows(m, 'hv', FRACTIONS.length) }),
  });
  return (file, objectives) => found.get(key(file, objectives));
}

interface Report {
  file: string;
  dataset: string;
  configs: number;
  objectives: MetricSpec[];
  front: number;
  trueHv: number;
  /** hv[method][fraction][seed] */
  results: Array<{ engine: string; method: string; hv: number[][] }>;
  sweepqSec: number;
  optunaSec: number | null;
}

const reports: Report[] = [];
for (const file of files) {
  const table = readTable(file);
  const lookup = new TableLookup(table);
  for (const objectives of objectiveSets) {
    const scale = new HypervolumeScale(table, objectives);
    const saved = savedOptuna?.(file, objectives);
    const optuna = OPTUNA && saved === undefined ? runOptuna(file, objectives) : undefined;
    optuna?.catch(() => undefined);
    const t0 = performance.now();
    const runs: MethodRuns[] = methods.map((method: MoMethod) => ({
      engine: 'sweepq',
      method,
      orders: Array.from({ length: SEEDS }, (_, s) => simulateMoSweep(lookup, { method, seed: FIRST_SEED + s, trials: TRIALS, inFlight: IN_FLIGHT, objectives, startupDesign: STARTUP_DESIGN, ...(STARTUP === undefined ? {} : { startup: STARTUP }) })),
    }));
    const sweepqSec = (performance.now() - t0) / 1000;
    let optunaSec: number | null = null;
    if (optuna !== undefined) {
      runs.push(...(await optuna));
      optunaSec = (performance.now() - t0) / 1000;
    }
    const results = [...runs.map((r) => ({ engine: r.engine, method: r.method, hv: FRACTIONS.map((f) => r.orders.map((order) => scale.at(order, TRIALS, f))) })), ...(saved ?? [])];
    if (saved !== undefined) optunaSec = 0;
    reports.push({ file, dataset: table.header.dataset.name, configs: table.rows.length, objectives, front: scale.frontSize, trueHv: scale.best, results, sweepqSec, optunaSec });
  }
}

const stats = (xs: readonly number[]): { mean: number; median: number; p10: number; p90: number } => ({
  mean: xs.reduce((a, b) => a + b, 0) / xs.length,
  median: percentile(xs, 50),
  p10: percentile(xs, 10),
  p90: percentile(xs, 90),
});

if (args.json) {
  const config = { seeds: SEEDS, firstSeed: FIRST_SEED, budgetTrials: TRIALS, inFlight: IN_FLIGHT, startup: STARTUP ?? null, startupDesign: STARTUP_DESIGN, nsga2Population: NSGA2_POPULATION, fractions: FRACTIONS };
  console.log(JSON.stringify({ config, reports: reports.map((r) => ({ ...r, results: r.results.map((m) => ({ ...m, stats: m.hv.map(stats) })) })) }, null, 2));
} else {
  for (const r of reports) printReport(r);
}

function printReport(r: Report): void {
  console.log(`\n${r.dataset} (${r.configs} configurations; ${basename(r.file)}), objectives ${spec(r.objectives)}: true front ${r.front} configurations, hypervolume ${r.trueHv.toFixed(4)}`);
  console.log(`${SEEDS} seeds, ${TRIALS} trials, ${IN_FLIGHT} in flight${STARTUP === undefined ? '' : `, start-up ${STARTUP}`}, start-up design ${STARTUP_DESIGN}, NSGA-II small population ${NSGA2_POPULATION}; sweepq ${r.sweepqSec.toFixed(1)} s${r.optunaSec === null ? '' : r.optunaSec === 0 ? ', optuna from --optuna-results' : `, optuna done after ${r.optunaSec.toFixed(1)} s`}`);
  console.log('hypervolume (higher is better): mean / median / p10 / p90 over seeds');
  const header = ['engine', 'method', ...FRACTIONS.map((f) => `at ${f * 100}% (${Math.floor(f * TRIALS + 1e-9)} trials)`)];
  const rows = r.results.map((m) => [m.engine, m.method, ...m.hv.map((xs) => { const s = stats(xs); return `${s.mean.toFixed(4)} / ${s.median.toFixed(4)} / ${s.p10.toFixed(4)} / ${s.p90.toFixed(4)}`; })]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  const bestOf = (engine: string, f: number): { method: string; median: number } | undefined =>
    r.results
      .filter((m) => m.engine === engine)
      .map((m) => ({ method: m.method, median: percentile(m.hv[f] as number[], 50) }))
      .sort((a, b) => b.median - a.median)[0];
  if (r.optunaSec !== null) {
    const verdict = FRACTIONS.map((f, i) => {
      const s = bestOf('sweepq', i);
      const o = bestOf('optuna', i);
      if (s === undefined || o === undefined) return '';
      return `${f * 100}%: sweepq ${s.method} ${s.median.toFixed(4)} vs optuna ${o.method} ${o.median.toFixed(4)} ${s.median >= o.median - 1e-12 ? '(sweepq >=)' : '(optuna better)'}`;
    });
    console.log(`best median: ${verdict.join('; ')}`);
    const { blocks, won } = blockVerdict(r.results.map((m) => ({ engine: m.engine, values: m.hv })), FRACTIONS.length, BLOCK, false);
    if (blocks >= 2) console.log(`blocks of ${BLOCK} seeds where sweepq's best median is at or above optuna's: ${FRACTIONS.map((f, i) => `${f * 100}%: ${won[i]} of ${blocks}`).join('; ')}`);
  }
}
