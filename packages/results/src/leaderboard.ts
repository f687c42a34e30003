import { PARAMETER_NAMES, describeBestRule, paretoObjectives, paretoRanks, withDefaultParams, type BestRule } from '@sweepq/sweep-config';
import { pickByRule, type Objective } from './best-rule.js';
import { TrialState, objectiveValues, type TrialResult } from './trial-result.js';

/** One row of the leaderboard. */
export interface LeaderboardRow {
  rank: number | null;
  trialId: string;
  state: TrialResult['state'];
  reason?: string;
  metric: number | null;
  /** With several objectives: the trial's value of each, in {@link Leaderboard.objectives} order (null: none). */
  values?: (number | null)[];
  /**
   * With several objectives: the trial's Pareto rank among the ranked trials, 0 = on the front, 1 = on the front of
   * what is left, and so on; null for a trial that is not ranked (failed, cancelled, or without a value of each).
   */
  front?: number | null;
  result: TrialResult;
}

/** Content of `leaderboard.json`. */
export interface Leaderboard {
  sweepId: string;
  metric: { name: string; goal: 'maximize' | 'minimize' };
  generatedAt: string;
  rows: LeaderboardRow[];
  /** Several objectives (the spec's `metric:` list), in order; `metric` is the first. Absent for a single metric. */
  objectives?: Objective[];
  /** With several objectives: the trials on the Pareto front (rank 0), in row order. */
  front?: string[];
  /** The spec's `best:` rule, when it has one. */
  bestRule?: BestRule;
  /** With a `best:` rule: the front trial it picks, null when no front trial has the values it needs. */
  pick?: string | null;
}

/** Options of {@link buildLeaderboard}. */
export interface LeaderboardOptions {
  /** `SweepSpec.objectives`: with two or more, rows are ordered by Pareto rank and carry each objective's value. */
  objectives?: readonly Objective[];
  /** `SweepSpec.best`: the leaderboard names the front trial it picks. */
  best?: BestRule;
}

/**
 * Rank trials by the sweep's metric in its goal's direction. Completed (and early-stopped) trials with a value come first
 * (ties broken by trial index, so the order is stable), then everything else (failed, cancelled, no value),
 * unranked, in index order. Each row's result has every parameter (defaults for those an older result lacks).
 *
 * With several objectives (`opts.objectives`): the ranked trials are the completed and stopped ones with a value of
 * every objective, ordered by Pareto rank (0 = the front), then by the first objective in its goal's direction, then
 * index; each row carries `values` and `front`, the leaderboard `objectives`, `front` and, with `opts.best`, the
 * rule's `pick`. A single metric (no objectives, or one) gives exactly the single-metric leaderboard.
 */
export function buildLeaderboard(
  sweepId: string,
  metric: { name: string; goal: 'maximize' | 'minimize' },
  results: readonly TrialResult[],
  now: Date = new Date(),
  opts: LeaderboardOptions = {},
): Leaderboard {
  // Results written before a parameter existed lack it; they trained with its default.
  const all = results.map((r) => ({ ...r, params: withDefaultParams(r.params) }));
  const objectives = paretoObjectives(opts.objectives);
  if (objectives) return paretoLeaderboard(sweepId, metric, all, now, objectives, opts.best);
  const sign = metric.goal === 'maximize' ? -1 : 1;
  const ranked = all
    .filter((r) => finished(r) && r.metric.value !== null && Number.isFinite(r.metric.value))
    .sort((a, b) => sign * ((a.metric.value as number) - (b.metric.value as number)) || a.index - b.index);
  const rankedIds = new Set(ranked.map((r) => r.trialId));
  const rest = all.filter((r) => !rankedIds.has(r.trialId)).sort((a, b) => a.index - b.index);
  const rows: LeaderboardRow[] = [...ranked.map((r, i) => ({ rank: i + 1, trialId: r.trialId, state: r.state, metric: r.metric.value, result: r })), ...rest.map(unrankedRow)];
  return { sweepId, metric, generatedAt: now.toISOString(), rows };
}

const finished = (r: TrialResult): boolean => r.state === TrialState.Completed || r.state === TrialState.Stopped;

function unrankedRow(r: TrialResult): LeaderboardRow {
  return { rank: null, trialId: r.trialId, state: r.state, ...(r.reason ? { reason: r.reason } : {}), metric: r.metric.value, result: r };
}

function paretoLeaderboard(
  sweepId: string,
  metric: Leaderboard['metric'],
  all: readonly TrialResult[],
  now: Date,
  objectives: Objective[],
  rule: BestRule | undefined,
): Leaderboard {
  const values = all.map((r) => objectiveValues(r, objectives));
  // Only finished trials are ranked: a failed or cancelled trial's values (if any) say nothing about its model.
  const ranks = paretoRanks(
    values.map((v, i) => (finished(all[i] as TrialResult) ? v : objectives.map(() => null))),
    objectives.map((o) => o.goal),
  );
  const first = objectives[0] as Objective;
  const sign = first.goal === 'maximize' ? -1 : 1;
  const order = all.map((r, i) => ({ r, v: values[i] as (number | null)[], front: ranks[i] ?? null }));
  const ranked = order
    .filter((o) => o.front !== null)
    .sort((a, b) => (a.front as number) - (b.front as number) || sign * ((a.v[0] as number) - (b.v[0] as number)) || a.r.index - b.r.index);
  const rest = order.filter((o) => o.front === null).sort((a, b) => a.r.index - b.r.index);
  const rows: LeaderboardRow[] = [
    ...ranked.map((o, i) => ({ rank: i + 1, trialId: o.r.trialId, state: o.r.state, metric: o.r.metric.value, values: o.v, front: o.front, result: o.r })),
    ...rest.map((o) => ({ ...unrankedRow(o.r), values: o.v, front: null })),
  ];
  const front = ranked.filter((o) => o.front === 0).map((o) => o.r);
  const pick = rule ? (pickByRule(front, objectives, rule)?.trialId ?? null) : undefined;
  return {
    sweepId,
    metric,
    generatedAt: now.toISOString(),
    rows,
    objectives,
    front: front.map((r) => r.trialId),
    ...(rule ? { bestRule: rule, pick } : {}),
  };
}

const CSV_METRICS = ['loss', 'accuracy', 'val_loss', 'val_accuracy'] as const;

/**
 * The leaderboard as CSV (RFC 4180 quoting), one row per trial, parameters as columns. With several objectives the
 * metric's column is followed by `front` (the Pareto rank, 0 = on the front) and a column for each other objective.
 */
export function leaderboardCsv(lb: Leaderboard): string {
  const others = (lb.objectives ?? []).slice(1);
  const header = [
    'rank',
    'trial_id',
    'state',
    'reason',
    lb.metric.name,
    ...(lb.objectives ? ['front', ...others.map((o) => o.name)] : []),
    ...CSV_METRICS.map((m) => `final_${m}`),
    'test_accuracy',
    // Not `epochs`: that is also a parameter column (the epochs asked for); this is how many the trial trained.
    'epochs_done',
    'duration_sec',
    'samples_per_sec',
    'backend',
    ...PARAMETER_NAMES,
  ];
  const lines = [header.join(',')];
  for (const row of lb.rows) {
    const r = row.result;
    const cells: unknown[] = [
      row.rank ?? '',
      row.trialId,
      row.state,
      row.reason ?? '',
      row.metric ?? '',
      ...(lb.objectives ? [row.front ?? '', ...others.map((_, i) => row.values?.[i + 1] ?? '')] : []),
      ...CSV_METRICS.map((m) => r.final?.[m] ?? ''),
      r.test?.accuracy ?? '',
      r.epochs,
      r.durationSec.toFixed(1),
      r.samplesPerSec === null ? '' : r.samplesPerSec.toFixed(1),
      r.backend,
      ...PARAMETER_NAMES.map((p) => r.params[p]),
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function csvCell(v: unknown): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * A fixed-width text table of the top rows, for terminals. With several objectives: a `front` column (Pareto rank,
 * 0 = on the front; the rule's pick marked `0 pick`), a column per objective, and a line under the table saying how
 * many trials the front holds and which one the rule picks.
 */
export function leaderboardTable(lb: Leaderboard, limit = 20): string {
  const shown = lb.rows.slice(0, limit);
  const varying = PARAMETER_NAMES.filter((p) => new Set(lb.rows.map((r) => r.result.params[p])).size > 1);
  const params = varying.length > 0 ? varying : (['lstm_units', 'learning_rate'] as const);
  const objectives = lb.objectives ?? [];
  const metricCols = objectives.length > 0 ? ['front', ...objectives.map((o) => o.name)] : [lb.metric.name];
  const lossCol = objectives.some((o) => o.name === 'val_loss') ? [] : ['val_loss'];
  const header = ['#', 'trial', 'state', ...metricCols, ...lossCol, 'test_acc', 'epochs_done', 'sec', ...params];
  const rows = shown.map((row) => {
    const r = row.result;
    const front = row.front === undefined || row.front === null ? '-' : `${row.front}${lb.pick === row.trialId ? ' pick' : ''}`;
    return [
      row.rank === null ? '-' : String(row.rank),
      row.trialId,
      row.reason ? `${row.state}(${row.reason})` : row.state,
      ...(objectives.length > 0 ? [front, ...objectives.map((_, i) => fmt(row.values?.[i] ?? null))] : [fmt(row.metric)]),
      ...(lossCol.length > 0 ? [fmt(r.final?.val_loss ?? null)] : []),
      fmt(r.test?.accuracy ?? null),
      String(r.epochs),
      r.durationSec.toFixed(0),
      ...params.map((p) => formatParam(r.params[p])),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (lb.rows.length > shown.length) out.push(`… ${lb.rows.length - shown.length} more`);
  if (objectives.length > 0) out.push(frontSummary(lb));
  return out.join('\n');
}

/**
 * One line on a leaderboard's Pareto front: its size over which objectives, and the rule's pick when there is a rule
 * (`Pareto front (front 0): 3 trials on val_accuracy (maximize), model_bytes (minimize); best rule (lowest …): t0004`).
 */
export function frontSummary(lb: Pick<Leaderboard, 'objectives' | 'front' | 'bestRule' | 'pick'>): string {
  const objectives = lb.objectives ?? [];
  const n = lb.front?.length ?? 0;
  const head = `Pareto front (front 0): ${n} trial${n === 1 ? '' : 's'} on ${objectives.map((o) => `${o.name} (${o.goal})`).join(', ')}`;
  if (!lb.bestRule) return head;
  return `${head}; best rule (${describeBestRule(lb.bestRule, objectives)}): ${lb.pick ?? 'no front trial has the values it needs'}`;
}

function fmt(v: number | null): string {
  return formatSignificant(v);
}

function formatParam(v: unknown): string {
  return typeof v === 'number' ? formatSignificant(v, { trimZeros: true }) : String(v);
}

/**
 * A number for people at a terminal: `digits` significant digits (default 4), integers as they are, values of
 * 10^digits and more rounded to integers, `-` for null/undefined/NaN/±Infinity. `trimZeros` drops trailing zeros
 * (`0.01` rather than `0.01000`: right for parameters; metrics keep them so columns line up). JSON and CSV keep
 * full precision; this is only for text meant to be read.
 */
export function formatSignificant(v: number | null | undefined, opts: { digits?: number; trimZeros?: boolean } = {}): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  const digits = opts.digits ?? 4;
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 10 ** digits) return Math.round(v).toString();
  const text = v.toPrecision(digits);
  return opts.trimZeros ? String(Number(text)) : text;
}
