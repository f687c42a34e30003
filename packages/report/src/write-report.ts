import type { SweepRecord } from '@sweepq/results';
import type { Logger } from '@sweepq/runtime';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { clearReportCache, collectReportData, type KnownTrials } from './collect.js';
import { renderReport } from './render.js';

/** Options for {@link writeSweepReport}. */
export interface WriteReportOptions {
  /** The sweep has finished: mark the page final (no auto-reload) and drop the cached trials; default false. */
  final?: boolean;
  /** Parallel GETs while collecting; default 16. */
  concurrency?: number;
  /** Sweep record to report instead of the stored sweep.json. */
  sweep?: SweepRecord;
  /** Trial states and results the caller already holds (see {@link collectReportData}): nothing is listed. */
  known?: KnownTrials;
}

/**
 * Collect the sweep's files ({@link collectReportData}), render the page ({@link renderReport}) and put it at
 * `sweeps/<id>/report.html` (`text/html; charset=utf-8`). Cheap to call repeatedly while a sweep runs: finished
 * trials are read from the bucket once per process.
 *
 * @returns the store-relative key and the page's size in bytes.
 */
export async function writeSweepReport(
  store: ArtifactStore,
  sweepId: string,
  opts: WriteReportOptions = {},
): Promise<{ key: string; bytes: number }> {
  const data = await collectReportData(store, sweepId, {
    final: opts.final ?? false,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.sweep ? { sweep: opts.sweep } : {}),
    ...(opts.known ? { known: opts.known } : {}),
  });
  const body = new TextEncoder().encode(renderReport(data));
  const key = layout.reportHtml(sweepId);
  await store.put(key, body, 'text/html; charset=utf-8');
  if (opts.final) clearReportCache(store, sweepId);
  return { key, bytes: body.byteLength };
}

/** Options for {@link ReportRefresher}. */
export interface ReportRefresherOptions {
  /** Refresh after this many newly finished trials; default 3. */
  everyTrials?: number;
  /** …or when this much time has passed since the last refresh and something finished; default 60 s. */
  maxIntervalMs?: number;
  logger?: Logger;
}

/** What the caller knows at a refresh: the sweep record and the trials' states, so the report need not read them. */
export interface ReportSnapshot {
  sweep?: SweepRecord;
  known?: KnownTrials;
}

/**
 * Decides when a running sweep's report is rewritten, for a coordinator's follow loop: call {@link update} with the
 * number of finished trials on every poll, and {@link finalize} once at the end. A refresh runs in the background
 * (the loop that follows the trials must not wait on the bucket) and at most one at a time; a failed refresh is
 * logged and retried on a later poll (the report is a convenience, never a reason to fail a sweep), while
 * {@link finalize} throws.
 */
export class ReportRefresher {
  readonly #store: ArtifactStore;
  readonly #sweepId: string;
  readonly #every: number;
  readonly #maxIntervalMs: number;
  readonly #logger: Logger | undefined;
  #lastFinished = -1;
  #lastAt = 0;
  #running: Promise<void> | undefined;

  constructor(store: ArtifactStore, sweepId: string, opts: ReportRefresherOptions = {}) {
    this.#store = store;
    this.#sweepId = sweepId;
    this.#every = Math.max(1, opts.everyTrials ?? 3);
    this.#maxIntervalMs = opts.maxIntervalMs ?? 60_000;
    this.#logger = opts.logger;
  }

  /**
   * Start rewriting the report if enough trials finished since the last write (the first call always writes) and
   * no write is in flight. Returns whether a write started; {@link idle} waits for it.
   */
  update(finished: number, now = Date.now(), snapshot: ReportSnapshot = {}): boolean {
    if (this.#running) return false;
    const due =
      this.#lastFinished < 0 ||
      finished - this.#lastFinished >= this.#every ||
      (finished > this.#lastFinished && now - this.#lastAt >= this.#maxIntervalMs);
    if (!due) return false;
    const before = { finished: this.#lastFinished, at: this.#lastAt };
    this.#lastFinished = finished;
    this.#lastAt = now;
    this.#running = writeSweepReport(this.#store, this.#sweepId, snapshot)
      .then((r) => this.#logger?.debug({ sweepId: this.#sweepId, bytes: r.bytes, finished }, 'report refreshed'))
      .catch((err: unknown) => {
        this.#lastFinished = before.finished;
        this.#lastAt = before.at;
        this.#logger?.warn({ sweepId: this.#sweepId, err }, 'report refresh failed; will retry');
      })
      .finally(() => {
        this.#running = undefined;
      });
    return true;
  }

  /** Resolves when no refresh is in flight. */
  async idle(): Promise<void> {
    await this.#running;
  }

  /** Write the final report (after any refresh in flight), optionally for a sweep record not yet saved. */
  async finalize(snapshot: ReportSnapshot = {}): Promise<{ key: string; bytes: number }> {
    await this.#running;
    return writeSweepReport(this.#store, this.#sweepId, { final: true, ...snapshot });
  }
}
