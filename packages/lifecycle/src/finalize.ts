import { SweepState, TrialState, buildLeaderboard, leaderboardCsv, type Leaderboard, type Objective, type SweepRecord, type TrialResult } from '@sweepq/results';
import { ReportRefresher, frontTrial, mapLimit, writeBestModel, writeFrontModels } from '@sweepq/report';
import type { Logger } from '@sweepq/runtime';
import { planTrials } from '@sweepq/search';
import { parseSpec, type BestRule, type SweepSpec, type TrialParams } from '@sweepq/sweep-config';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { emptyCounts, type SweepDoc, type TrialCounts } from './sweep-lifecycle.js';
import type { TrialLifecycle } from './trial-lifecycle.js';
import { trialFiles } from './records.js';
import { ownerViews } from './owner-views.js';
import { LifecycleError } from './errors.js';

/** A trial the sweep planned (or proposed). */
export interface PlannedTrialRef {
  trialId: string;
  index: number;
  params: TrialParams;
}

/** What finalizing a sweep returns (and the coordinator's sweep job returns). */
export interface SweepSummary {
  sweepId: string;
  state: SweepState;
  trials: TrialCounts;
  best?: SweepRecord['best'];
  /** With several objectives: the Pareto front's trials and the `best:` rule's pick. */
  front?: SweepRecord['front'];
}

/** Options for {@link finalizeSweep}. */
export interface FinalizeOptions {
  store: ArtifactStore;
  trials: TrialLifecycle;
  doc: SweepDoc;
  metric: { name: string; goal: 'maximize' | 'minimize' };
  /** `SweepSpec.objectives` (several objectives): the leaderboard ranks by Pareto front and `best/` holds the front. */
  objectives?: readonly Objective[];
  /** `SweepSpec.best`: with several objectives, `best/` holds this rule's pick from the front. */
  bestRule?: BestRule;
  planned: readonly PlannedTrialRef[];
  cancelled: boolean;
  /** Why the sweep ends, when not simply "every trial finished" (e.g. the metric target was reached). */
  endReason?: string;
  /** Trials that never started end `cancelled` with this reason (the metric target was reached); not needed on cancel. */
  unstartedReason?: string;
  /** Results the caller already read; a null means "looked after the final state was recorded; none". */
  resultCache?: Map<string, TrialResult | null>;
  report?: ReportRefresher;
  logger?: Logger;
}

/**
 * End a sweep: results read (trials of a cancelled sweep that never ran get a `cancelled` result), leaderboard
 * (JSON, CSV), best model copy, final report, then the final state in `sweep.json` — last, so a reader who sees
 * the final state finds everything else.
 */
export async function finalizeSweep(opts: FinalizeOptions): Promise<SweepSummary> {
  const { store, doc, planned, cancelled, logger: log } = opts;
  const sweepId = doc.record.sweepId;
  const t0 = Date.now();
  const read = await mapLimit(planned, 16, async (t) => {
    let r = opts.resultCache?.has(t.trialId) ? opts.resultCache.get(t.trialId) : await opts.trials.result(sweepId, t.trialId);
    const unstarted = cancelled ? 'sweep cancelled before the trial started' : opts.unstartedReason;
    if (!r && unstarted) r = await opts.trials.recordFinal(sweepId, t, opts.metric, TrialState.Cancelled, unstarted, 0, doc.epoch);
    return r;
  });
  const results = read.filter((r): r is TrialResult => !!r);
  const tRead = Date.now();
  // Only the owner writes the views: a finalizer that was taken over (paused past its lock) stops here. The views
  // are functions of results that are each written once, so two finalizers that both pass this point write the same.
  await doc.assertOwner();
  const views = ownerViews(store, doc);
  const lb = buildLeaderboard(sweepId, opts.metric, results, new Date(), {
    ...(opts.objectives ? { objectives: opts.objectives } : {}),
    ...(opts.bestRule ? { best: opts.bestRule } : {}),
  });
  const { best, front } = chooseBest(lb);
  const counts = emptyCounts(planned.length);
  for (const r of results) counts[r.state] += 1;
  const state = cancelled ? SweepState.Cancelled : counts.completed + counts.stopped > 0 ? SweepState.Completed : SweepState.Failed;
  const final = {
    trials: counts,
    ...(best ? { best } : {}),
    ...(front ? { front } : {}),
    ...(state === SweepState.Failed ? { error: 'no trial completed; see the failed trials in the leaderboard' } : {}),
    ...(opts.endReason && state === SweepState.Completed ? { endReason: opts.endReason } : {}),
    finishedAt: new Date().toISOString(),
  };
  // The views are independent objects: the leaderboard (JSON and CSV), the best model and the final report are
  // written side by side, each through the owner's fenced writer. The final state in sweep.json comes after all of
  // them, so a reader who sees it finds every view final.
  let tLeaderboard = t0;
  const leaderboard = (async () => {
    await Promise.all([views.putJson(layout.leaderboardJson(sweepId), lb), views.put(layout.leaderboardCsv(sweepId), leaderboardCsv(lb), 'text/csv')]);
    await publishBest(views, lb, best, log);
    tLeaderboard = Date.now();
  })();
  let tReport = t0;
  const report = opts.report ?? new ReportRefresher(views, sweepId, log ? { logger: log } : {});
  const finalReport = report
    .finalize({ sweep: { ...doc.record, ...final, state }, known: { results, running: [] } })
    .catch((err: unknown) => {
      if (err instanceof LifecycleError) throw err;
      // The report is a view of the bucket; `sweepq report <id> --regenerate` can rebuild it.
      log?.error({ err: (err as Error).message }, 'could not write the final report');
    })
    .finally(() => (tReport = Date.now()));
  // Both settle before either's error is thrown: no view write is still in flight when the caller hears of a fence.
  const [lbDone, reportDone] = await Promise.allSettled([leaderboard, finalReport]);
  for (const done of [lbDone, reportDone]) if (done.status === 'rejected') throw done.reason;
  await doc.moveTo(state, final);
  // Since the results were read: the leaderboard with the best model, and the report (written side by side).
  const ms = { read: tRead - t0, leaderboard: tLeaderboard - tRead, report: tReport - tRead, final: Date.now() - tRead };
  log?.info({ state, counts, best, ms }, 'sweep finished');
  return { sweepId, state, trials: counts, ...(best ? { best } : {}), ...(front ? { front } : {}) };
}

/**
 * Which trial(s) sweep.json names best. One metric: the leaderboard's top trial, as always. Several objectives with a
 * `best:` rule: the rule's pick; without a rule: the front trial best by the first objective (the top row: what
 * `predict` uses by default), and `front` lists the whole front.
 */
function chooseBest(lb: Leaderboard): Pick<SweepSummary, 'best' | 'front'> {
  const chosen = lb.pick !== undefined ? (lb.pick ?? undefined) : lb.rows[0]?.rank !== null ? lb.rows[0]?.trialId : undefined;
  const row = chosen === undefined ? undefined : lb.rows.find((r) => r.trialId === chosen);
  const best = row ? { trialId: row.trialId, value: row.metric, ...(row.values ? { values: row.values } : {}) } : undefined;
  const front = lb.objectives && lb.front ? { trialIds: lb.front, ...(lb.pick !== undefined ? { pick: lb.pick } : {}) } : undefined;
  return { ...(best ? { best } : {}), ...(front ? { front } : {}) };
}

/**
 * Copy the best model(s) to `best/`: the chosen trial's (one metric, or a `best:` rule: `best/` as for one metric,
 * best.json naming the rule and the front), or without a rule every front trial in `best/<trialId>/` with
 * `best/front.json`.
 */
async function publishBest(views: ArtifactStore, lb: Leaderboard, best: SweepSummary['best'], log: Logger | undefined): Promise<void> {
  const { sweepId, objectives } = lb;
  const byId = new Map(lb.rows.map((r) => [r.trialId, r]));
  const frontTrials = (lb.front ?? []).map((id) => frontTrial(id, byId.get(id)?.values ?? [], objectives ?? []));
  try {
    if (objectives && !lb.bestRule) {
      if (frontTrials.length > 0) await writeFrontModels(views, sweepId, frontTrials, objectives);
    } else if (best) {
      await writeBestModel(views, sweepId, best.trialId, objectives ? { objectives, ...(lb.bestRule ? { rule: lb.bestRule } : {}), front: frontTrials } : {});
    }
  } catch (err) {
    if (err instanceof LifecycleError) throw err;
    // The leaderboard names the best trial(s) either way; a missing best/ copy must not fail the sweep.
    log?.error({ err: (err as Error).message, trialId: best?.trialId }, 'could not copy the best model');
  }
  if (lb.bestRule && lb.pick === null) log?.warn({ rule: lb.bestRule }, 'the best rule picks no trial of the front: best/ is not written');
}

/**
 * The spec a sweep runs with: spec.yaml as submitted, with `run_cap` raised by `sweepq extend` (trials from the first
 * extension's start never repeat a configuration). The coordinator plans from it; so does finishing a sweep here.
 */
export function effectiveSpec(spec: SweepSpec, record: Pick<SweepRecord, 'runCap' | 'extensions'>): SweepSpec {
  const first = record.extensions?.[0];
  return record.runCap !== undefined && first ? { ...spec, run_cap: record.runCap, no_repeats_from: first.from } : spec;
}

/**
 * The trials of a sweep as the bucket knows them, for finishing a sweep no coordinator follows: every trial with
 * params.json or result.json, plus (grid and random) every trial the spec plans.
 */
export async function plannedFromBucket(store: ArtifactStore, record: SweepRecord): Promise<PlannedTrialRef[]> {
  const { sweepId } = record;
  const byId = new Map<string, PlannedTrialRef>();
  const specText = await store.getText(layout.specYaml(sweepId));
  if (specText !== undefined) {
    try {
      const spec = effectiveSpec(parseSpec(specText, { source: 'spec.yaml' }), record);
      if (spec.method !== 'bayes') for (const t of planTrials(spec)) byId.set(t.trialId, t);
    } catch {
      // An invalid spec plans nothing; the trials in the bucket are still listed below.
    }
  }
  for (const [trialId, files] of await trialFiles(store, sweepId)) {
    const file = files.has('params.json') ? layout.params(sweepId, trialId) : files.has('result.json') ? layout.result(sweepId, trialId) : undefined;
    if (file === undefined || byId.has(trialId)) continue;
    const doc = await store.getJson<{ index?: number; params?: TrialParams }>(file);
    if (doc && typeof doc.index === 'number' && doc.params) byId.set(trialId, { trialId, index: doc.index, params: doc.params });
  }
  return [...byId.values()].sort((a, b) => a.index - b.index);
}
