/**
 * Multi-objective sweeps replayed against a tabular benchmark (issue 26, item 4): sweepq's real sampler for several
 * objectives (`createSampler`, MotpeSampler) or random search choose the trials; each trial's objective values are
 * looked up in the table (nearest configuration, {@link TableLookup}). No pruning: every trial trains its full epochs.
 * Several trials are in flight as in a sweep: a simulated clock advances by the trials' recorded epoch seconds, and
 * a new trial is proposed (the running ones pending) the moment one ends. optuna-peer.py replays Optuna the same way
 * and hands back the rows its trials looked up, so both engines' hypervolumes come from {@link HypervolumeScale}.
 */
import { METRIC_NAMES, paretoFront } from '@sweepq/sweep-config';
import type { MetricGoal, MetricName, MetricSpec, SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { createSampler, hypervolume, planTrials } from '../src/index.js';
import type { Observation } from '../src/index.js';
import type { Table, TableRow } from './table-format.js';
import { tableSpec } from './table-sim.js';
import type { SimOptions, TableLookup } from './table-sim.js';

/** sweepq's methods in this mode: random search, MOTPE (per-parameter estimators) and MOTPE multivariate. */
export const MO_METHODS = ['random', 'motpe', 'motpe-mv'] as const;
export type MoMethod = (typeof MO_METHODS)[number];

/** Metrics a table row has, for a whole trial: the last epoch's validation figures, and the model's costs. */
const TABLE_METRICS = ['val_accuracy', 'val_loss', 'loss', 'model_bytes', 'param_count', 'latency_ms'] as const satisfies readonly MetricName[];
type TableMetric = (typeof TABLE_METRICS)[number];
/** Costs that span orders of magnitude (bytes and parameters grow with the vocabulary times the embedding): log scale. */
const LOG_SCALE: ReadonlySet<string> = new Set(['model_bytes', 'param_count', 'latency_ms']);

/**
 * Parses `val_accuracy:max,model_bytes:min` (goals `max`/`min` or `maximize`/`minimize`) into 2-4 objectives.
 * @throws Error naming the part that is wrong and what would be right.
 */
export function parseObjectives(text: string): MetricSpec[] {
  const parts = text.split(',').filter((p) => p !== '');
  if (parts.length < 2 || parts.length > 4) throw new Error(`--objectives: expected 2 to 4 comma-separated name:goal pairs, got ${parts.length} in ${JSON.stringify(text)}`);
  const out = parts.map((part): MetricSpec => {
    const [name, goal, ...rest] = part.split(':');
    if (!(TABLE_METRICS as readonly string[]).includes(name ?? '') || rest.length > 0) {
      const known = (METRIC_NAMES as readonly string[]).includes(name ?? '') ? ` (${name} is a metric, but the table has no value of it)` : '';
      throw new Error(`--objectives: ${JSON.stringify(part)}: expected name:goal with a name among ${TABLE_METRICS.join(', ')}${known}`);
    }
    const g = goal === 'max' || goal === 'maximize' ? 'maximize' : goal === 'min' || goal === 'minimize' ? 'minimize' : undefined;
    if (g === undefined) throw new Error(`--objectives: ${JSON.stringify(part)}: expected the goal max or min after the colon, got ${JSON.stringify(goal ?? '')}`);
    return { name: name as MetricName, goal: g };
  });
  const names = out.map((o) => o.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`--objectives: ${twice} is listed twice; list each metric once`);
  return out;
}

/** The epoch a row's training failed at (its loss diverged: no finite validation accuracy), or undefined. */
export function failedEpoch(row: TableRow, epochs: number): number | undefined {
  for (let e = 1; e <= epochs; e++) {
    const v = row.val_accuracy[e - 1];
    if (v === undefined || !Number.isFinite(v)) return e;
  }
  return undefined;
}

/** A finished trial's value of each objective, or null for a trial that failed (diverged). */
export function rowValues(row: TableRow, objectives: readonly MetricSpec[], epochs: number): number[] | null {
  if (failedEpoch(row, epochs) !== undefined) return null;
  return objectives.map((o) => {
    const m = o.name as TableMetric;
    if (m === 'val_accuracy' || m === 'val_loss' || m === 'loss') return row[m][epochs - 1] as number;
    return row[m];
  });
}

/** Seconds a trial of this row takes: every epoch, or up to and including the one its loss diverged in. */
export function trialSeconds(row: TableRow, epochs: number): number {
  const last = failedEpoch(row, epochs) ?? epochs;
  const mean = row.seconds.length > 0 ? row.seconds.reduce((a, b) => a + b, 0) / row.seconds.length : 1;
  let total = 0;
  for (let e = 1; e <= last; e++) total += row.seconds[e - 1] ?? mean;
  return total;
}

/** The spec of a simulated multi-objective sweep: the table's space, the objectives, the first as `metric`. */
export function moTableSpec(
  table: Table,
  method: MoMethod,
  seed: number,
  trials: number,
  inFlight: number,
  objectives: readonly MetricSpec[],
  startup: Pick<SimOptions, 'startup' | 'startupDesign'> = {},
): SweepSpec {
  const base = tableSpec(table, { method: method === 'random' ? 'random' : method === 'motpe-mv' ? 'tpe-mv' : 'tpe', seed, budget: { kind: 'epochs', amount: 1 }, inFlight, ...startup }, trials);
  return { ...base, metric: objectives[0] as MetricSpec, objectives: [...objectives] };
}

interface Running {
  index: number;
  params: TrialParams;
  row: number;
  end: number;
}

/**
 * One simulated sweep of `trials` trials, `inFlight` at a time; returns the table rows its trials looked up, in the
 * order they finished (what hypervolume at a fraction of the budget counts).
 */
export function simulateMoSweep(
  lookup: TableLookup,
  opts: { method: MoMethod; seed: number; trials: number; inFlight: number; objectives: readonly MetricSpec[] } & Pick<SimOptions, 'startup' | 'startupDesign'>,
): number[] {
  const table = lookup.table;
  const epochs = table.header.fixed.epochs;
  const rowIndex = new Map(table.rows.map((r, i) => [r, i]));
  const spec = moTableSpec(table, opts.method, opts.seed, opts.trials, opts.inFlight, opts.objectives, { startup: opts.startup, startupDesign: opts.startupDesign });
  const planned = spec.method === 'random' ? planTrials(spec).map((t) => t.params) : undefined;
  const sampler = spec.method === 'bayes' ? createSampler(spec) : undefined;
  const observations: Observation[] = [];
  const running: Running[] = [];
  const finished: number[] = [];
  let proposed = 0;
  let clock = 0;
  const start = (): void => {
    while (running.length < opts.inFlight && proposed < opts.trials) {
      const params = planned !== undefined ? (planned[proposed] as TrialParams) : (sampler as NonNullable<typeof sampler>).propose(proposed, observations, running.map((r) => r.params));
      const row = lookup.row(params);
      running.push({ index: proposed, params, row: rowIndex.get(row) as number, end: clock + trialSeconds(row, epochs) });
      proposed += 1;
    }
  };
  start();
  while (running.length > 0) {
    // The trial that ends first; equal times go to the older trial.
    let r = running[0] as Running;
    for (const o of running) if (o.end < r.end || (o.end === r.end && o.index < r.index)) r = o;
    running.splice(running.indexOf(r), 1);
    clock = r.end;
    finished.push(r.row);
    const values = rowValues(table.rows[r.row] as TableRow, opts.objectives, epochs);
    observations.push({ params: r.params, value: values?.[0] ?? null, values: values ?? opts.objectives.map(() => null) });
    start();
  }
  return finished;
}

/**
 * How both engines' trials are scored: each objective scaled to [0, 1] by the table's range over its configurations
 * (0 the best value, 1 the worst; model_bytes, param_count and latency_ms on a log scale, as they span orders of
 * magnitude and a single slow outlier would otherwise squeeze every other latency to 0), the reference point 1.1 in
 * each (slightly past the worst). The hypervolume of a set of trials is that of their rows' scaled values (failed
 * trials add nothing); the table's true front has the largest possible.
 */
export class HypervolumeScale {
  private readonly points: (number[] | null)[];
  readonly reference: number[];
  /** The hypervolume of every configuration of the table together: its true Pareto front's. */
  readonly best: number;
  /** Configurations on the table's true Pareto front (equal values counted each). */
  readonly frontSize: number;

  constructor(
    readonly table: Table,
    readonly objectives: readonly MetricSpec[],
  ) {
    const epochs = table.header.fixed.epochs;
    const raw = table.rows.map((r) => rowValues(r, objectives, epochs));
    const ok = raw.filter((v): v is number[] => v !== null);
    if (ok.length === 0) throw new Error('table: no configuration trained without diverging; nothing to measure hypervolume against');
    const t = (j: number, v: number): number => (LOG_SCALE.has((objectives[j] as MetricSpec).name) ? Math.log(Math.max(v, 1e-12)) : v);
    const lo = objectives.map((_, j) => Math.min(...ok.map((v) => t(j, v[j] as number))));
    const hi = objectives.map((_, j) => Math.max(...ok.map((v) => t(j, v[j] as number))));
    const scale = (j: number, goal: MetricGoal, v: number): number => {
      const span = (hi[j] as number) - (lo[j] as number);
      if (span <= 0) return 0;
      const x = (t(j, v) - (lo[j] as number)) / span;
      return goal === 'maximize' ? 1 - x : x;
    };
    this.points = raw.map((v) => (v === null ? null : v.map((x, j) => scale(j, (objectives[j] as MetricSpec).goal, x))));
    this.reference = objectives.map(() => 1.1);
    this.best = this.of(table.rows.map((_, i) => i));
    this.frontSize = paretoFront(ok, objectives.map((o) => o.goal)).length;
  }

  /** Hypervolume of the trials that looked up these rows. */
  of(rows: readonly number[]): number {
    const pts = rows.map((i) => this.points[i]).filter((p): p is number[] => p !== null && p !== undefined);
    return hypervolume(pts, this.reference);
  }

  /** Hypervolume once the first `floor(fraction · trials)` trials of a sweep have finished. */
  at(finished: readonly number[], trials: number, fraction: number): number {
    return this.of(finished.slice(0, Math.floor(fraction * trials + 1e-9)));
  }
}
