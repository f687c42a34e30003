/**
 * Sweeps replayed against a tabular benchmark (table-format.ts) instead of training: sweepq's real planners and
 * samplers (`planTrials` for grid and random, `TpeSampler` for bayes) and its real early-termination rule (`ashaRule`,
 * the rule RungStore runs in Redis) choose and stop trials; each trial's epochs are looked up in the table. Several
 * trials are in flight as in a sweep: a simulated clock advances by each epoch's recorded seconds, epochs end in
 * clock order, a rung decides when its epoch ends, and a new trial is proposed (with the running ones pending) the
 * moment one ends. Synchronous and cheap: 100 seeds take seconds.
 *
 * The table holds a subset of the space's product, so a proposal that is not in it is looked up as its nearest
 * configuration in the table ({@link TableLookup}): the objective is a nearest-neighbour surrogate, the same for every
 * method (and for Optuna in optuna-peer.py).
 */
import { ashaRule, planAdaptive, planTrials, TpeSampler } from '../src/index.js';
import type { Observation } from '../src/index.js';
import { rungEpochs, validateSpec } from '@sweepq/sweep-config';
import type { StartupDesign, SweepSpec, TrialParams } from '@sweepq/sweep-config';
import type { Table, TableRow } from './table-format.js';

export const SIM_METHODS = ['grid', 'random', 'tpe', 'tpe+hyperband', 'tpe-mv', 'tpe-mv+hyperband'] as const;
export type SimMethod = (typeof SIM_METHODS)[number];

/** Budget of one simulated sweep: epochs trained, or seconds of training (the epochs' recorded seconds summed). */
export interface SimBudget {
  kind: 'epochs' | 'seconds';
  amount: number;
}

/**
 * Nearest configuration in the table for any point of its space. Distance: per parameter, the index distance in
 * its value list scaled to [0, 1] for ordered (numeric) lists, 0/1 for others (optimizer, cell, bidirectional);
 * summed. Ties go to the row that comes first in the table. Exact matches cost one map look-up.
 */
export class TableLookup {
  private readonly names: string[];
  private readonly indices: number[][];
  private readonly cache = new Map<string, TableRow>();

  constructor(readonly table: Table) {
    this.names = Object.keys(table.header.space);
    this.indices = table.rows.map((r) => this.names.map((n) => this.index(n, r.params[n])));
    if (table.rows.length === 0) throw new Error('table: no configurations');
  }

  private index(name: string, v: unknown): number {
    const i = (this.table.header.space[name] as readonly unknown[]).indexOf(v);
    if (i < 0) throw new RangeError(`table: ${name} = ${JSON.stringify(v)} is not one of ${JSON.stringify(this.table.header.space[name])}`);
    return i;
  }

  /** The row for `params` (only the space's parameters are read). */
  row(params: Readonly<Record<string, unknown>>): TableRow {
    const key = this.names.map((n) => JSON.stringify(params[n])).join(',');
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const want = this.names.map((n) => this.index(n, params[n]));
    let best = 0;
    let bestD = Infinity;
    this.indices.forEach((idx, r) => {
      let d = 0;
      this.names.forEach((n, k) => {
        const values = this.table.header.space[n] as readonly unknown[];
        const a = idx[k] as number;
        const b = want[k] as number;
        d += typeof values[0] === 'number' ? Math.abs(a - b) / Math.max(1, values.length - 1) : a === b ? 0 : 1;
      });
      if (d < bestD) {
        bestD = d;
        best = r;
      }
    });
    const row = this.table.rows[best] as TableRow;
    this.cache.set(key, row);
    return row;
  }
}

/** The best validation accuracy of any configuration at any epoch: what regret is measured against. */
export function tableBest(table: Table): number {
  return Math.max(...table.rows.flatMap((r) => r.val_accuracy.filter(Number.isFinite)));
}

/** Mean seconds of one epoch over the table (each configuration weighted once). */
export function meanEpochSeconds(table: Table): number {
  const per = table.rows.filter((r) => r.seconds.length > 0).map((r) => r.seconds.reduce((a, b) => a + b, 0) / r.seconds.length);
  return per.reduce((a, b) => a + b, 0) / per.length;
}

/** Options of {@link simulateSweep}. */
export interface SimOptions {
  method: SimMethod;
  seed: number;
  budget: SimBudget;
  /** Trials in flight (max_in_flight). */
  inFlight: number;
  /** bayes.n_startup_trials; default the spec's default. */
  startup?: number;
  /** bayes.startup_design; default the spec's default (random). */
  startupDesign?: StartupDesign;
  /** Hyperband min_iter and eta; default 1 and 3. */
  minIter?: number;
  eta?: number;
}

/** The sweep spec a simulated sweep runs: the table's space as value lists, its max_len and epochs fixed. */
export function tableSpec(table: Table, opts: SimOptions, runCap: number): SweepSpec {
  const { method } = opts;
  const bayes = method.startsWith('tpe');
  return validateSpec({
    name: `table-${method}`,
    method: bayes ? 'bayes' : method,
    run_cap: runCap,
    seed: opts.seed,
    max_in_flight: opts.inFlight,
    metric: { name: 'val_accuracy', goal: 'maximize' },
    ...(bayes
      ? {
          bayes: {
            multivariate: method.startsWith('tpe-mv'),
            ...(opts.startup === undefined ? {} : { n_startup_trials: opts.startup }),
            ...(opts.startupDesign === undefined ? {} : { startup_design: opts.startupDesign }),
          },
        }
      : {}),
    ...(method.endsWith('+hyperband') ? { early_terminate: { type: 'hyperband', min_iter: opts.minIter ?? 1, eta: opts.eta ?? 3 } } : {}),
    parameters: {
      ...Object.fromEntries(Object.entries(table.header.space).map(([n, values]) => [n, { values: [...values] }])),
      max_len: { value: table.header.fixed.max_len },
      epochs: { value: table.header.fixed.epochs },
    },
  });
}

/** One epoch ended: the sweep's cost so far and the best validation accuracy seen so far (any trial, any epoch). */
export interface TracePoint {
  epochs: number;
  seconds: number;
  best: number;
}

/** One trial of a simulated sweep: its table row, the epochs it trained and how it ended (null: the budget ran out). */
export interface SimTrial {
  index: number;
  row: number;
  epochs: number;
  outcome: 'finished' | 'stopped' | 'failed' | null;
}

export interface SimResult {
  trace: TracePoint[];
  /** Every trial proposed, in proposal order: what the planner or sampler chose and what the rung rule decided. */
  runs: SimTrial[];
  trials: number;
  stopped: number;
  failed: number;
}

interface Running {
  index: number;
  params: TrialParams;
  row: TableRow;
  start: number;
  /** Epochs done. */
  done: number;
  /** Clock time at which the next epoch ends. */
  next: number;
}

/** Seconds of epoch `e` (1-based) of a row; an epoch the row has no record of (it diverged) costs the row's mean. */
function epochSeconds(row: TableRow, e: number): number {
  const s = row.seconds[e - 1];
  if (s !== undefined) return s;
  return row.seconds.length > 0 ? row.seconds.reduce((a, b) => a + b, 0) / row.seconds.length : 1;
}

/**
 * One simulated sweep: trials proposed by sweepq's planner or sampler, epochs looked up in the table, in clock
 * order with `inFlight` trials running, until the budget is spent (an epoch that would overrun it is not trained) or
 * no trial is left (a grid exhausted). Returns the best-so-far after every epoch.
 */
export function simulateSweep(lookup: TableLookup, opts: SimOptions): SimResult {
  const table = lookup.table;
  const lastEpoch = table.header.fixed.epochs;
  // Planned methods: enough trials that the budget runs out first (every trial costs at least one epoch).
  const minEpochSec = Math.min(...table.rows.flatMap((r) => r.seconds).filter((s) => s > 0));
  const cap = Math.min(100_000, Math.ceil(opts.budget.kind === 'epochs' ? opts.budget.amount : opts.budget.amount / minEpochSec) + opts.inFlight);
  const spec = tableSpec(table, opts, cap);
  // Grid and random plans are planned in growing prefixes (trial k of either does not depend on run_cap), so a
  // sweep that ends after 30 trials does not draw thousands.
  let planned: TrialParams[] = [];
  const plannedAt = (k: number): TrialParams | undefined => {
    if (k >= planned.length && planned.length < cap) planned = planTrials(tableSpec(table, opts, Math.min(cap, Math.max(64, 2 * planned.length)))).map((t) => t.params);
    return planned[k];
  };
  const sampler = spec.method === 'bayes' ? new TpeSampler(spec) : undefined;
  // As the coordinator: bayes never repeats a configuration, so a finite space caps its trials.
  const total = planAdaptive(spec).total;
  const rungs = new Set(rungEpochs(spec).filter((e) => e < lastEpoch));
  const eta = opts.eta ?? 3;
  const atRung = new Map<number, number[]>();
  const observations: Observation[] = [];
  const running: Running[] = [];
  const trace: TracePoint[] = [];
  const runs: SimTrial[] = [];
  let proposed = 0;
  let stopped = 0;
  let failed = 0;
  let epochs = 0;
  let seconds = 0;
  let best = -Infinity;
  let clock = 0;

  const start = (): void => {
    while (running.length < opts.inFlight && proposed < total) {
      let params: TrialParams | undefined;
      if (sampler !== undefined) params = sampler.propose(proposed, observations, running.map((r) => r.params));
      else params = plannedAt(proposed);
      if (params === undefined) return;
      const row = lookup.row(params);
      running.push({ index: proposed, params, row, start: clock, done: 0, next: clock + epochSeconds(row, 1) });
      runs.push({ index: proposed, row: row.id, epochs: 0, outcome: null });
      proposed += 1;
    }
  };
  const end = (r: Running, outcome: 'finished' | 'stopped' | 'failed'): void => {
    running.splice(running.indexOf(r), 1);
    (runs[r.index] as SimTrial).outcome = outcome;
    if (outcome === 'failed') {
      failed += 1;
      observations.push({ params: r.params, value: null });
      return;
    }
    const curve = r.row.val_accuracy.slice(0, r.done);
    const value = curve[curve.length - 1] as number;
    const obs: Observation = { params: r.params, value, curve: Object.fromEntries(curve.map((v, i) => [i + 1, v])) };
    if (outcome === 'stopped') stopped += 1;
    observations.push(outcome === 'stopped' ? { ...obs, stoppedAtEpoch: r.done } : obs);
  };

  start();
  while (running.length > 0) {
    // The epoch that ends first; equal times go to the older trial.
    let r = running[0] as Running;
    for (const o of running) if (o.next < r.next || (o.next === r.next && o.index < r.index)) r = o;
    const e = r.done + 1;
    const cost = epochSeconds(r.row, e);
    if (opts.budget.kind === 'epochs' ? epochs + 1 > opts.budget.amount : seconds + cost > opts.budget.amount) break;
    clock = r.next;
    epochs += 1;
    seconds += cost;
    const v = r.row.val_accuracy[e - 1];
    if (v === undefined || !Number.isFinite(v)) {
      // The loss diverged in this epoch: the trial fails, as DivergedError fails it in a worker.
      trace.push({ epochs, seconds, best });
      end(r, 'failed');
      start();
      continue;
    }
    r.done = e;
    (runs[r.index] as SimTrial).epochs = e;
    r.next = clock + epochSeconds(r.row, e + 1);
    best = Math.max(best, v);
    trace.push({ epochs, seconds, best });
    if (e >= lastEpoch) {
      end(r, 'finished');
      start();
    } else if (rungs.has(e)) {
      const values = atRung.get(e) ?? [];
      values.push(v);
      atRung.set(e, values);
      if (!ashaRule(values, v, eta, true).continue) {
        end(r, 'stopped');
        start();
      }
    }
  }
  return { trace, runs, trials: proposed, stopped, failed };
}

/** Regret (table best minus best found) once `cost` of the budget's kind was spent: the last trace point within it. */
export function regretAt(trace: readonly TracePoint[], kind: SimBudget['kind'], cost: number, best: number): number {
  let found = -Infinity;
  for (const p of trace) {
    if ((kind === 'epochs' ? p.epochs : p.seconds) > cost + 1e-9) break;
    found = p.best;
  }
  return Number.isFinite(found) ? best - found : best;
}

/** Percentile by linear interpolation between order statistics (numpy's default), q in [0, 100]. */
export function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = ((s.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

/**
 * The engines' comparison in blocks of `block` seeds: for each fraction of the budget, in how many blocks the best
 * sweepq method's median (over the block's seeds) is at or better than the best Optuna method's. `values[f][s]` is a
 * method's figure after fraction f for seed s; `lowerIsBetter` for regret, not for hypervolume. Seeds past the last
 * whole block are left out. A median over 100 seeds moves by a step of the table's accuracy between seed ranges, so
 * one range's verdict is one draw of this.
 */
export function blockVerdict(
  results: ReadonlyArray<{ engine: string; values: ReadonlyArray<readonly number[]> }>,
  fractions: number,
  block: number,
  lowerIsBetter: boolean,
): { blocks: number; won: number[] } {
  // Without a method of either engine there is nothing to compare (and Math.min of nothing is Infinity).
  if (!results.some((m) => m.engine === 'sweepq') || !results.some((m) => m.engine === 'optuna')) return { blocks: 0, won: Array.from({ length: fractions }, () => 0) };
  const seeds = Math.min(...results.map((m) => m.values[0]?.length ?? 0));
  const blocks = Math.floor(seeds / block);
  const won = Array.from({ length: fractions }, (_, f) => {
    let k = 0;
    for (let b = 0; b < blocks; b++) {
      const best = (engine: string): number => {
        const medians = results.filter((m) => m.engine === engine).map((m) => percentile((m.values[f] as number[]).slice(b * block, (b + 1) * block), 50));
        return lowerIsBetter ? Math.min(...medians) : Math.max(...medians);
      };
      const s = best('sweepq');
      const o = best('optuna');
      if (lowerIsBetter ? s <= o + 1e-12 : s >= o - 1e-12) k += 1;
    }
    return k;
  });
  return { blocks, won };
}
