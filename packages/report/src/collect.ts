import { committedResult, isFinalSweepState, type ReopenedTrial, type SweepRecord, type TrialResult } from '@sweepq/results';
import { planTrials } from '@sweepq/search';
import type { SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { ReportError } from './errors.js';
import { mapLimit } from './map-limit.js';
import { buildReportData, type ReportData } from './report-data.js';

/** Options for {@link collectReportData}. */
export interface CollectOptions {
  /** Mark the data as the final report; default false. */
  final?: boolean;
  /** Use this sweep record instead of reading sweep.json (the coordinator passes the final one before saving it). */
  sweep?: SweepRecord;
  /** Parallel GETs against the bucket; default 16. */
  concurrency?: number;
  /**
   * Remember finished trials (result.json is written last, and changes only when `sweepq retry` reopens a trial of a
   * sweep that has ended, whose final report cleared this cache) between calls for the same store and sweep, so a report refreshed every few trials reads only what is new; default true.
   */
  cache?: boolean;
  /**
   * What the caller (the coordinator) already knows about the trials, so nothing is listed and no result is read
   * twice: only `metrics.jsonl` is fetched (once for a finished trial, on every call for a running one). Trials in
   * neither set are queued. Copied when the call starts, so the caller may keep updating its own collections.
   */
  known?: KnownTrials;
  now?: Date;
}

/** Trial states a caller already holds: see {@link CollectOptions.known}. */
export interface KnownTrials {
  /** Results of finished trials. */
  results: Iterable<TrialResult>;
  /** Ids of trials running now. */
  running: Iterable<string>;
}

interface FinishedTrial {
  result: TrialResult;
  metrics: string | undefined;
}

// Keyed by the store object, so a coordinator's one long-lived store keeps its cache and a dropped store frees it.
const finishedCache = new WeakMap<ArtifactStore, Map<string, Map<string, FinishedTrial>>>();

function cacheFor(store: ArtifactStore, sweepId: string, enabled: boolean): Map<string, FinishedTrial> {
  if (!enabled) return new Map();
  let bySweep = finishedCache.get(store);
  if (!bySweep) {
    bySweep = new Map();
    finishedCache.set(store, bySweep);
  }
  let trials = bySweep.get(sweepId);
  if (!trials) {
    trials = new Map();
    bySweep.set(sweepId, trials);
  }
  return trials;
}

/** Forget cached trials of one sweep (or all of a store's), e.g. once its final report is written. */
export function clearReportCache(store: ArtifactStore, sweepId?: string): void {
  if (sweepId === undefined) finishedCache.delete(store);
  else finishedCache.get(store)?.delete(sweepId);
}

const TRIAL_FILE = /^([a-z0-9][a-z0-9-]{0,63})\/(result\.json|metrics\.jsonl|params\.json)$/;

/**
 * Read what a report needs from the bucket: `sweep.json`, `spec.yaml`, and for every trial its `result.json` and
 * `metrics.jsonl`. One listing of the trials folder tells which files exist, so absent files cost nothing, and
 * files are fetched {@link CollectOptions.concurrency} at a time. Trials that are planned but have no files yet are
 * listed as queued (from the resolved spec); trials with metrics but no result as running. A caller that already
 * knows the trials' states and results passes them as {@link CollectOptions.known}, and nothing is listed.
 *
 * @throws ReportError `NO_SWEEP` when `sweep.json` does not exist.
 */
export async function collectReportData(store: ArtifactStore, sweepId: string, opts: CollectOptions = {}): Promise<ReportData> {
  // Snapshot first: the caller goes on updating its collections while this call awaits the bucket.
  const known = opts.known ? { results: [...opts.known.results], running: [...opts.known.running] } : undefined;
  const sweep = opts.sweep ?? (await store.getJson<SweepRecord>(layout.sweepJson(sweepId)));
  if (!sweep) throw new ReportError('NO_SWEEP', `no sweep "${sweepId}": ${store.uri(layout.sweepJson(sweepId))} does not exist`);
  const limit = opts.concurrency ?? 16;
  const cache = cacheFor(store, sweepId, opts.cache ?? true);

  // Which trials exist, and which of their files: from the caller when it knows, else from one listing.
  const files = new Map<string, Set<string>>();
  const fresh = new Map<string, TrialResult>();
  let specText: string | undefined;
  if (known) {
    specText = await store.getText(layout.specYaml(sweepId));
    for (const r of known.results) {
      // metrics.jsonl has a line per epoch: a trial that trained none (failed early, cancelled) has none to read.
      files.set(r.trialId, new Set(r.epochs > 0 ? ['result.json', 'metrics.jsonl'] : ['result.json']));
      fresh.set(r.trialId, r);
    }
    // A running trial may have no metrics yet (a missing file reads as undefined) and, in a bayes sweep, its
    // parameters only in params.json.
    for (const id of known.running) if (!files.has(id)) files.set(id, new Set(['metrics.jsonl', 'params.json']));
  } else {
    const prefix = layout.trialsPrefix(sweepId);
    let keys: string[];
    [specText, keys] = await Promise.all([store.getText(layout.specYaml(sweepId)), store.list(prefix)]);
    for (const key of keys) {
      const m = TRIAL_FILE.exec(key.slice(prefix.length));
      if (!m) continue;
      const [, trialId, file] = m as unknown as [string, string, string];
      let set = files.get(trialId);
      if (!set) files.set(trialId, (set = new Set()));
      set.add(file);
    }
  }

  const withResult = [...files].filter(([, f]) => f.has('result.json')).map(([id]) => id);
  const toRead = withResult.filter((id) => !cache.has(id));
  await mapLimit(toRead, limit, async (trialId) => {
    const [result, metrics] = await Promise.all([
      fresh.get(trialId) ?? store.getJson<TrialResult | ReopenedTrial>(layout.result(sweepId, trialId)).then(committedResult),
      files.get(trialId)?.has('metrics.jsonl') ? store.getText(layout.metrics(sweepId, trialId)) : Promise.resolve(undefined),
    ]);
    if (result) cache.set(trialId, { result, metrics });
  });

  const results: TrialResult[] = [];
  const metrics = new Map<string, string>();
  for (const id of withResult) {
    const f = cache.get(id);
    if (!f) continue;
    results.push(f.result);
    if (f.metrics !== undefined) metrics.set(id, f.metrics);
  }

  // Open trials: planned ones from the spec, plus any with files but no result (a spec we cannot plan).
  const pending = new Map<string, { index: number; params?: Partial<TrialParams> }>();
  let planned: { trialId: string; index: number; params: TrialParams }[] = [];
  // A sweep that has ended runs nothing more: trials it planned but never started are not "queued" (and one that
  // failed before planning has none at all).
  if (sweep.spec && !isFinalSweepState(sweep.state)) {
    try {
      planned = planTrials(sweep.spec as SweepSpec);
    } catch {
      planned = [];
    }
  }
  const finished = new Set(results.map((r) => r.trialId));
  for (const t of planned) if (!finished.has(t.trialId)) pending.set(t.trialId, { index: t.index, params: t.params });
  const open = [...files].filter(([id]) => !finished.has(id)).map(([id, f]) => ({ id, f }));
  await mapLimit(open, limit, async ({ id, f }) => {
    const [text, params] = await Promise.all([
      f.has('metrics.jsonl') ? store.getText(layout.metrics(sweepId, id)) : Promise.resolve(undefined),
      !pending.has(id) && f.has('params.json') ? store.getJson<Partial<TrialParams>>(layout.params(sweepId, id)) : Promise.resolve(undefined),
    ]);
    if (text !== undefined) metrics.set(id, text);
    if (!pending.has(id)) pending.set(id, { index: Number.parseInt(id.replace(/\D/g, ''), 10) || 0, ...(params ? { params } : {}) });
  });

  // Runs that `sweepq retry` replaced keep their results under trials/<id>/attempts/: the timeline shows them.
  const retried = [...new Set((sweep.retries ?? []).flatMap((r) => r.trials))];
  const earlier = (
    await mapLimit(retried, limit, async (id) => {
      const keys = (await store.list(layout.trialAttemptsPrefix(sweepId, id))).filter((k) => k.endsWith('result.json'));
      return Promise.all(keys.map((k) => store.getJson<TrialResult>(k)));
    })
  )
    .flat()
    .filter((r): r is TrialResult => r !== undefined);

  return buildReportData({
    sweep,
    specText: specText ?? null,
    ...(earlier.length > 0 ? { earlier } : {}),
    results,
    metrics,
    pending,
    final: opts.final ?? false,
    ...(opts.now ? { now: opts.now } : {}),
  });
}
