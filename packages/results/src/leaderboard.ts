import { PARAMETER_NAMES, withDefaultParams } from '@sweepq/sweep-config';
import { TrialState, type TrialResult } from './trial-result.js';

/** One row of the leaderboard. */
export interface LeaderboardRow {
  rank: number | null;
  trialId: string;
  state: TrialResult['state'];
  reason?: string;
  metric: number | null;
  result: TrialResult;
}

/** Content of `leaderboard.json`. */
export interface Leaderboard {
  sweepId: string;
  metric: { name: string; goal: 'maximize' | 'minimize' };
  generatedAt: string;
  rows: LeaderboardRow[];
}

/**
 * Rank trials by the sweep's metric in its goal's direction. Completed (and early-stopped) trials with a value come first
 * (ties broken by trial index, so the order is stable), then everything else (failed, cancelled, no value),
 * unranked, in index order. Each row's result has every parameter (defaults for those an older result lacks).
 */
export function buildLeaderboard(
  sweepId: string,
  metric: { name: string; goal: 'maximize' | 'minimize' },
  results: readonly TrialResult[],
  now: Date = new Date(),
): Leaderboard {
  const sign = metric.goal === 'maximize' ? -1 : 1;
  // Results written before a parameter existed lack it; they trained with its default.
  const all = results.map((r) => ({ ...r, params: withDefaultParams(r.params) }));
  const ranked = all
    .filter(
      (r) =>
        (r.state === TrialState.Completed || r.state === TrialState.Stopped) &&
        r.metric.value !== null &&
        Number.isFinite(r.metric.value),
    )
    .sort((a, b) => sign * ((a.metric.value as number) - (b.metric.value as number)) || a.index - b.index);
  const rankedIds = new Set(ranked.map((r) => r.trialId));
  const rest = all.filter((r) => !rankedIds.has(r.trialId)).sort((a, b) => a.index - b.index);
  const rows: LeaderboardRow[] = [
    ...ranked.map((r, i) => ({ rank: i + 1, trialId: r.trialId, state: r.state, metric: r.metric.value, result: r })),
    ...rest.map((r) => ({
      rank: null,
      trialId: r.trialId,
      state: r.state,
      ...(r.reason ? { reason: r.reason } : {}),
      metric: r.metric.value,
      result: r,
    })),
  ];
  return { sweepId, metric, generatedAt: now.toISOString(), rows };
}

const CSV_METRICS = ['loss', 'accuracy', 'val_loss', 'val_accuracy'] as const;

/** The leaderboard as CSV (RFC 4180 quoting), one row per trial, parameters as columns. */
export function leaderboardCsv(lb: Leaderboard): string {
  const header = [
    'rank',
    'trial_id',
    'state',
    'reason',
    lb.metric.name,
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

/** A fixed-width text table of the top rows, for terminals. */
export function leaderboardTable(lb: Leaderboard, limit = 20): string {
  const shown = lb.rows.slice(0, limit);
  const varying = PARAMETER_NAMES.filter((p) => new Set(lb.rows.map((r) => r.result.params[p])).size > 1);
  const params = varying.length > 0 ? varying : (['lstm_units', 'learning_rate'] as const);
  const header = ['#', 'trial', 'state', lb.metric.name, 'val_loss', 'test_acc', 'epochs_done', 'sec', ...params];
  const rows = shown.map((row) => {
    const r = row.result;
    return [
      row.rank === null ? '-' : String(row.rank),
      row.trialId,
      row.reason ? `${row.state}(${row.reason})` : row.state,
      fmt(row.metric),
      fmt(r.final?.val_loss ?? null),
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
  return out.join('\n');
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
