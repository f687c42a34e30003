import { leaderboardTable, type Leaderboard, type SweepRecord } from '@sweepq/results';
import { layout, type ArtifactStore } from '@sweepq/storage';
import type { BucketContext } from './context.js';
import { ExitCode } from './errors.js';
import { print } from './output.js';
import { readLeaderboard } from './sweep-reads.js';

/** Failed trials listed one per line before the rest are counted. */
const MAX_FAILED_SHOWN = 10;

/** Where a sweep's files are: the bucket, or a local copy of `sweeps/<id>/` (the demo's). */
export interface SweepFiles {
  /** Whether the file at `path` (relative to the sweep's folder, e.g. `report.html`, `best/model.json`) exists. */
  exists(path: string): Promise<boolean>;
  /** How to show `path` to a person: an s3:// URI or a local path. */
  show(path: string): string;
}

/** The files of a sweep in the bucket. */
export function bucketFiles(store: ArtifactStore, sweepId: string): SweepFiles {
  const key = (path: string) => `${layout.sweepPrefix(sweepId)}${path}`;
  return { exists: (path) => store.exists(key(path)), show: (path) => store.uri(key(path)) };
}

/** Options for {@link describeOutcome}. */
export interface OutcomeOptions {
  /** Seconds to report; default from the sweep's submittedAt to finishedAt. */
  seconds?: number;
  /** Where the report, leaderboard and best model are; links are printed only to those that exist. */
  files?: SweepFiles;
}

/**
 * What a person reads when a sweep has finished: the leaderboard (when any trial finished), one summary line, the
 * sweep's error and each failed trial's reason when something failed, and links to the report, the leaderboard CSV and
 * the best model, only for those that exist.
 */
export async function describeOutcome(sweep: SweepRecord, lb: Leaderboard, opts: OutcomeOptions = {}): Promise<string[]> {
  const lines: string[] = [];
  if (lb.rows.length > 0) lines.push(leaderboardTable(lb), '');
  if (sweep.dataset) {
    const d = sweep.dataset;
    lines.push(`dataset: ${d.rows} rows, classes ${d.classes.join('/')}, majority-class rate ${(d.majorityRate * 100).toFixed(1)}%`);
  }
  const seconds = opts.seconds ?? elapsedSeconds(sweep);
  const backends = [...new Set(lb.rows.map((r) => r.result.backend).filter((b) => b && b !== 'unknown'))];
  lines.push(
    `sweep ${sweep.sweepId}: ${sweep.state}${seconds === undefined ? '' : ` in ${seconds.toFixed(0)} s`}` +
      `${backends.length > 0 ? ` on backend ${backends.join('/')}` : ''}${lb.rows.length === 0 ? '; no trial finished' : ''}`,
  );
  if (sweep.endReason) lines.push(`  ended: ${sweep.endReason}`);
  if (sweep.error) lines.push(`  error: ${sweep.error}`);
  const failed = lb.rows.filter((r) => r.state === 'failed');
  if (failed.length > 0) {
    lines.push(`  ${failed.length} failed trial(s):`);
    for (const row of failed.slice(0, MAX_FAILED_SHOWN)) {
      const { reason, error } = row.result;
      const why = (reason && error && !error.includes(reason) ? `${reason}: ${error}` : (error ?? reason)) || 'no reason recorded';
      lines.push(`    ${row.trialId} (attempt ${row.result.attempt}): ${why}`);
    }
    if (failed.length > MAX_FAILED_SHOWN) lines.push(`    … ${failed.length - MAX_FAILED_SHOWN} more (see the leaderboard's reason column)`);
  }
  if (opts.files) lines.push(...(await fileLinks(opts.files)));
  return lines;
}

async function fileLinks(files: SweepFiles): Promise<string[]> {
  const [report, csv, best, front] = await Promise.all(['report.html', 'leaderboard.csv', 'best/model.json', 'best/front.json'].map((p) => files.exists(p)));
  const out: string[] = [];
  if (report) out.push(`  report: ${files.show('report.html')} (open it in a browser; it works offline)`);
  if (csv) out.push(`  leaderboard: ${files.show('leaderboard.csv')}`);
  if (best) out.push(`  best model: ${files.show('best/')} (see its README.md)`);
  if (front) out.push(`  Pareto front's models: ${files.show('best/')} (one folder per trial; see its README.md and front.json)`);
  return out;
}

function elapsedSeconds(sweep: SweepRecord): number | undefined {
  const end = Date.parse(sweep.finishedAt ?? '');
  const start = Date.parse(sweep.submittedAt);
  return Number.isFinite(end) && Number.isFinite(start) && end >= start ? (end - start) / 1000 : undefined;
}

/**
 * Print how a finished sweep ended (leaderboard, error, failed trials, links to the files that exist) and set a
 * non-zero exit code unless it completed.
 */
export async function printOutcome(ctx: BucketContext, sweep: SweepRecord, json: boolean): Promise<void> {
  const lb = await readLeaderboard(ctx, sweep);
  if (json) print(true, lb, '');
  else process.stdout.write(`\n${(await describeOutcome(sweep, lb, { files: bucketFiles(ctx.store, sweep.sweepId) })).join('\n')}\n`);
  if (sweep.state !== 'completed') process.exitCode = ExitCode.Failure;
}
