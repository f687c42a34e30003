/**
 * `npm run bench:search -- --table FILE[,FILE…]`: sweepq's samplers and pruners against tabular benchmarks made by
 * make-table.ts (see table-sim.ts for how a sweep is replayed), side by side with Optuna on the same tables
 * (optuna-peer.py, run with /usr/bin/python3 and Debian's python3-optuna). Figures, not assertions.
 *
 *   npm run bench:search -- --table packages/search/bench/tables/spam-assassin.jsonl.gz,packages/search/bench/tables/topics4.jsonl.gz
 *       [--seeds 100] [--first-seed 1] [--budget-epochs 180] [--in-flight 4] [--methods grid,random,tpe,tpe+hyperband,tpe-mv,tpe-mv+hyperband]
 *       [--startup N] [--startup-design random|latin_hypercube] [--block 100] [--min-iter 3] [--eta 3] [--optuna on|off] [--optuna-methods random,tpe,tpe-mv,tpe+hyperband,tpe-mv+hyperband]
 *       [--python /usr/bin/python3] [--jobs 1] [--optuna-results FILE[,FILE…]] [--json]
 *
 * Per table, two budgets: `--budget-epochs` epochs, and the same in seconds (that many epochs times the table's mean
 * epoch seconds). Each (method, seed) sweep runs until its budget is spent; the regret after 25 %, 50 % and 100 % of
 * it is the table's best validation accuracy (any configuration, any epoch) minus the best any trial of the sweep
 * reported by then. Printed: mean, median and 90th percentile over seeds; with Optuna, the best method of each engine by
 * median, and (with at least two blocks of `--block` seeds) in how many blocks sweepq's best median is at or below Optuna's.
 *
 * Optuna's side takes minutes per table and is deterministic per seed, so a run's `--json` output can stand in for
 * it: `--optuna-results FILE[,FILE…]` reads Optuna's results from such files (matched by table and budgets; seeds,
 * first seed, budget, trials in flight, min_iter and eta must be the same) instead of running optuna-peer.py, and
 * sweepq's side runs as usual. A table with no results in the files runs optuna-peer.py as without the flag; files
 * with a table's results but not those of every `--optuna-methods` method are refused, naming the methods they have.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { STARTUP_DESIGNS } from '@sweepq/sweep-config';
import { benchArgs } from './bench-args.js';
import { readSavedRuns, savedField } from './saved-runs.js';
import { readTable } from './table-format.js';
import { SIM_METHODS, TableLookup, blockVerdict, meanEpochSeconds, percentile, regretAt, simulateSweep, tableBest } from './table-sim.js';
import type { SimBudget, SimMethod } from './table-sim.js';

// `--objectives`: the multi-objective mode has its own flags (table-mo-bench.ts).
if (process.argv.slice(2).some((a) => a === '--objectives' || a.startsWith('--objectives='))) {
  await import('./table-mo-bench.js');
  process.exit(process.exitCode ?? 0);
}

const FRACTIONS = [0.25, 0.5, 1] as const;
const OPTUNA_METHODS = ['random', 'tpe', 'tpe-mv', 'tpe+hyperband', 'tpe-mv+hyperband'] as const;

const { values: args } = parseArgs({
  options: {
    table: { type: 'string' },
    seeds: { type: 'string', default: '100' },
    'first-seed': { type: 'string', default: '1' },
    'budget-epochs': { type: 'string', default: '180' },
    'in-flight': { type: 'string', default: '4' },
    methods: { type: 'string', default: SIM_METHODS.join(',') },
    startup: { type: 'string' },
    'startup-design': { type: 'string', default: 'random' },
    block: { type: 'string', default: '100' },
    'min-iter': { type: 'string', default: '3' },
    eta: { type: 'string', default: '3' },
    optuna: { type: 'string', default: 'on' },
    'optuna-methods': { type: 'string', default: OPTUNA_METHODS.join(',') },
    python: { type: 'string', default: '/usr/bin/python3' },
    jobs: { type: 'string', default: '1' },
    'optuna-results': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
const usage =
  'usage: npm run bench:search -- --table FILE[,FILE...] [--seeds 100] [--first-seed 1] [--budget-epochs 180] [--in-flight 4] [--methods grid,random,tpe,tpe+hyperband,tpe-mv,tpe-mv+hyperband] [--startup N] [--startup-design random|latin_hypercube] [--block 100] [--min-iter 3] [--eta 3] [--optuna on|off] [--optuna-methods random,tpe,tpe-mv,tpe+hyperband,tpe-mv+hyperband] [--python /usr/bin/python3] [--jobs 1] [--optuna-results FILE[,FILE...]] [--json]';
if (args.help) {
  console.log(usage);
  process.exit(0);
}
const { fail, int, list, oneOf, tableFiles } = benchArgs(usage);
const files = tableFiles(args.table);
const SEEDS = int('seeds', args.seeds);
/** Seeds FIRST_SEED … FIRST_SEED + SEEDS - 1 (another range shows how much of a difference is the seeds' luck). */
const FIRST_SEED = int('first-seed', args['first-seed']);
const BUDGET_EPOCHS = int('budget-epochs', args['budget-epochs']);
const IN_FLIGHT = int('in-flight', args['in-flight']);
const STARTUP = args.startup === undefined ? undefined : int('startup', args.startup);
/** bayes.startup_design of every bayes method (sweepq's side only: Optuna's TPE has no such option). */
const STARTUP_DESIGN = oneOf('startup-design', args['startup-design'], STARTUP_DESIGNS);
const MIN_ITER = int('min-iter', args['min-iter']);
/** Seeds per block of the per-block verdict (printed when there are at least two blocks). */
const BLOCK = int('block', args.block);
const ETA = int('eta', args.eta);
const JOBS = int('jobs', args.jobs);
const methods = list('methods', args.methods, SIM_METHODS);
const optunaMethods = list('optuna-methods', args['optuna-methods'], OPTUNA_METHODS);
if (args.optuna !== 'on' && args.optuna !== 'off') fail(`--optuna: expected on or off, got ${JSON.stringify(args.optuna)}`);
const OPTUNA = args.optuna === 'on';
const savedOptuna = args['optuna-results'] === undefined ? undefined : loadOptunaResults(args['optuna-results']);

/** Regrets of one (method, budget kind) over seeds: per fraction of the budget, one value per seed. */
interface MethodRegrets {
  engine: 'sweepq' | 'optuna';
  method: string;
  kind: SimBudget['kind'];
  /** regrets[f][s]: after FRACTIONS[f] of the budget, seed s+1. */
  regrets: number[][];
  /** Mean trials per sweep. */
  trials: number;
}

interface TableReport {
  file: string;
  dataset: string;
  configs: number;
  best: number;
  budgets: Record<SimBudget['kind'], number>;
  results: MethodRegrets[];
  sweepqSec: number;
  optunaSec: number | null;
}

function runOptuna(file: string, budgets: Record<SimBudget['kind'], number>): Promise<OptunaRegrets[]> {
  const script = fileURLToPath(new URL('./optuna-peer.py', import.meta.url));
  const argv = [script, '--table', file, '--seeds', String(SEEDS), '--first-seed', String(FIRST_SEED), '--budget-epochs', String(budgets.epochs), '--budget-seconds', String(budgets.seconds), '--in-flight', String(IN_FLIGHT), '--min-iter', String(MIN_ITER), '--eta', String(ETA), '--methods', optunaMethods.join(','), '--jobs', String(JOBS), '--json'];
  return new Promise((resolve, reject) => {
    const child = spawn(args.python as string, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`optuna-peer.py ${basename(file)}: exit ${code}`));
      else resolve((JSON.parse(out) as { results: OptunaRegrets[] }).results);
    });
  });
}

/** One method's regrets as optuna-peer.py reports them (and a saved `--json` output holds them). */
type OptunaRegrets = Omit<MethodRegrets, 'engine'>;

/**
 * Reads Optuna's results from earlier `--json` outputs (readSavedRuns); returns a look-up of one table (its optuna
 * rows, or undefined when no file has them for the table's name and budgets: then optuna-peer.py runs).
 */
function loadOptunaResults(text: string): (file: string, budgets: Record<SimBudget['kind'], number>) => OptunaRegrets[] | undefined {
  const key = (file: string, budgets: Record<SimBudget['kind'], number>): string => `${basename(file)} ${budgets.epochs} epochs ${budgets.seconds} s`;
  const found = readSavedRuns<OptunaRegrets>(text, {
    want: { seeds: SEEDS, firstSeed: FIRST_SEED, budgetEpochs: BUDGET_EPOCHS, inFlight: IN_FLIGHT, minIter: MIN_ITER, eta: ETA },
    fractions: FRACTIONS,
    methods: optunaMethods,
    fail,
    key: (r) => {
      const budgets = savedField.object(r, 'budgets');
      return key(savedField.string(r, 'file'), { epochs: savedField.number(budgets, 'epochs'), seconds: savedField.number(budgets, 'seconds') });
    },
    row: (m) => ({ method: m.method, kind: savedField.oneOf(m, 'kind', ['epochs', 'seconds']), regrets: savedField.numberRows(m, 'regrets', FRACTIONS.length), trials: savedField.number(m, 'trials') }),
  });
  return (file, budgets) => found.get(key(file, budgets));
}

const reports: TableReport[] = [];
for (const file of files) {
  const table = readTable(file);
  const lookup = new TableLookup(table);
  const best = tableBest(table);
  const budgets = { epochs: BUDGET_EPOCHS, seconds: Math.round(BUDGET_EPOCHS * meanEpochSeconds(table) * 10) / 10 };
  // Optuna runs in its own process meanwhile, unless --optuna-results has its results for this table.
  const saved = savedOptuna?.(file, budgets);
  const optuna = OPTUNA && saved === undefined ? runOptuna(file, budgets) : undefined;
  optuna?.catch(() => undefined);
  const t0 = performance.now();
  const results: MethodRegrets[] = [];
  for (const method of methods) {
    for (const kind of ['epochs', 'seconds'] as const) {
      const regrets: number[][] = FRACTIONS.map(() => []);
      let trials = 0;
      for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
        const budget = { kind, amount: budgets[kind] };
        const r = simulateSweep(lookup, { method: method as SimMethod, seed, budget, inFlight: IN_FLIGHT, minIter: MIN_ITER, eta: ETA, startupDesign: STARTUP_DESIGN, ...(STARTUP === undefined ? {} : { startup: STARTUP }) });
        FRACTIONS.forEach((f, i) => (regrets[i] as number[]).push(regretAt(r.trace, kind, f * budget.amount, best)));
        trials += r.trials;
      }
      results.push({ engine: 'sweepq', method, kind, regrets, trials: trials / SEEDS });
    }
  }
  const sweepqSec = (performance.now() - t0) / 1000;
  let optunaSec: number | null = null;
  if (optuna !== undefined) {
    const o = await optuna;
    optunaSec = (performance.now() - t0) / 1000;
    results.push(...o.map((x) => ({ ...x, engine: 'optuna' as const })));
  }
  if (saved !== undefined) {
    results.push(...saved.map((x) => ({ ...x, engine: 'optuna' as const })));
    optunaSec = 0;
  }
  reports.push({ file, dataset: table.header.dataset.name, configs: table.rows.length, best, budgets, results, sweepqSec, optunaSec });
}

const stats = (xs: readonly number[]): { mean: number; median: number; p90: number } => ({
  mean: xs.reduce((a, b) => a + b, 0) / xs.length,
  median: percentile(xs, 50),
  p90: percentile(xs, 90),
});

if (args.json) {
  console.log(JSON.stringify({ config: { seeds: SEEDS, firstSeed: FIRST_SEED, budgetEpochs: BUDGET_EPOCHS, inFlight: IN_FLIGHT, startup: STARTUP ?? null, startupDesign: STARTUP_DESIGN, minIter: MIN_ITER, eta: ETA, fractions: FRACTIONS }, reports: reports.map((r) => ({ ...r, results: r.results.map((m) => ({ ...m, stats: m.regrets.map(stats) })) })) }, null, 2));
} else {
  for (const r of reports) {
    console.log(`\n${r.dataset} (${r.configs} configurations, best val_accuracy ${r.best.toFixed(4)}; ${basename(r.file)}): ${SEEDS} seeds, ${IN_FLIGHT} in flight, hyperband min_iter ${MIN_ITER} eta ${ETA}${STARTUP === undefined ? '' : `, bayes start-up ${STARTUP}`}, bayes start-up design ${STARTUP_DESIGN}; sweepq ${r.sweepqSec.toFixed(1)} s${r.optunaSec === null ? '' : r.optunaSec === 0 ? ', optuna from --optuna-results' : `, optuna done after ${r.optunaSec.toFixed(1)} s`}`);
    for (const kind of ['epochs', 'seconds'] as const) {
      console.log(`\nregret (best - best found), budget ${r.budgets[kind]} ${kind}: mean / median / p90 over seeds`);
      const header = ['engine', 'method', 'trials', ...FRACTIONS.map((f) => `at ${f * 100}% (${Math.round(f * r.budgets[kind] * 10) / 10} ${kind === 'epochs' ? 'ep' : 's'})`)];
      const rows = r.results
        .filter((m) => m.kind === kind)
        .map((m) => [m.engine, m.method, m.trials.toFixed(1), ...m.regrets.map((xs) => { const s = stats(xs); return `${s.mean.toFixed(4)} / ${s.median.toFixed(4)} / ${s.p90.toFixed(4)}`; })]);
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
      const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
      console.log(line(header));
      console.log(line(widths.map((w) => '-'.repeat(w))));
      for (const row of rows) console.log(line(row));
      // Best method of each engine by median regret at each fraction. Grid is left out: it does not depend on the
      // seed, so its "median" is one sweep's luck with the order of the grid.
      const bestOf = (engine: string, f: number): { method: string; median: number } | undefined =>
        r.results
          .filter((m) => m.engine === engine && m.kind === kind && m.method !== 'grid')
          .map((m) => ({ method: m.method, median: percentile(m.regrets[f] as number[], 50) }))
          .sort((a, b) => a.median - b.median)[0];
      if (r.optunaSec !== null) {
        const verdict = FRACTIONS.map((f, i) => {
          const s = bestOf('sweepq', i);
          const o = bestOf('optuna', i);
          if (s === undefined || o === undefined) return '';
          return `${f * 100}%: sweepq ${s.method} ${s.median.toFixed(4)} vs optuna ${o.method} ${o.median.toFixed(4)} ${s.median <= o.median + 1e-12 ? '(sweepq <=)' : '(optuna better)'}`;
        });
        console.log(`best median: ${verdict.join('; ')}`);
        // The same verdict in each block of BLOCK seeds: how often a run of BLOCK seeds would have found sweepq at or
        // below Optuna (a median over 100 seeds moves by a step of the table's accuracy between seed ranges).
        const { blocks, won } = blockVerdict(
          r.results.filter((m) => m.kind === kind && m.method !== 'grid').map((m) => ({ engine: m.engine, values: m.regrets })),
          FRACTIONS.length,
          BLOCK,
          true,
        );
        if (blocks >= 2) {
          console.log(`blocks of ${BLOCK} seeds where sweepq's best median is at or below optuna's: ${FRACTIONS.map((f, i) => `${f * 100}%: ${won[i]} of ${blocks}`).join('; ')}`);
        }
      }
    }
  }
}
