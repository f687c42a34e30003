import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DatasetError } from '@sweepq/data';
import {
  QueueName,
  TRIAL_JOB_OPTIONS,
  parsePayload,
  sweepJobSchema,
  trialJobId,
  trialJobSchema,
  type SweepJob,
  type TrialJob,
} from '@sweepq/queue';
import { SweepState, TrialState, objectiveValues, type SweepRecord, type TrialResult } from '@sweepq/results';
import {
  LifecycleError,
  finishedTrialIds,
  ownerViews,
  effectiveSpec,
  emptyCounts,
  rebuildRungs,
  RungStore,
  finalizeSweep,
  type SweepDoc,
  type SweepLifecycle,
  type SweepSummary,
  type TrialCounts,
  type TrialLifecycle,
} from '@sweepq/lifecycle';
import type { Logger } from '@sweepq/runtime';
import { SpecError, metricTargetReached, parseSpec, specHash, withDefaultParams, type SweepSpec, type TrialParams } from '@sweepq/sweep-config';
import { SearchError, SearchErrorCode, createSampler, planAdaptive, planTrials, trialId, trialSeed, type Observation, type PlannedTrial, type Sampler } from '@sweepq/search';
import { StorageError, layout, type ArtifactStore } from '@sweepq/storage';
import { ensureShards, prepareSweepDataset, shardManifestSha256Of, type DatasetPreparerOptions } from './dataset-preparer.js';
import { CoordinatorInterrupt, PriorSweepError } from './errors.js';
import { PreparationReporter } from './preparation-reporter.js';
import { priorObservations } from './prior-sweeps.js';
import { ReportRefresher, type KnownTrials } from '@sweepq/report';

/** What {@link runSweep} needs from its process. */
export interface SweepRunnerDeps {
  store: ArtifactStore;
  trials: Queue;
  redis: Redis;
  queuePrefix: string;
  logger: Logger;
  pollMs: number;
  /** The one owner of sweep and trial state changes. */
  lifecycle: SweepLifecycle;
  trialLifecycle: TrialLifecycle;
  /** This coordinator's id, written with its heartbeat into the sweep's owner key. */
  coordinatorId: string;
  /** The heartbeat expires this long after the last one (a few polls). */
  heartbeatTtlMs: number;
  /** Called when a sweep starts or ends, so `sweeps/index.html` is rewritten (in the background). */
  indexChanged?: () => void;
  /** False only in the queue benchmark, whose fake workers keep results in Redis: results are not looked for. */
  resultsInBucket?: boolean;
  /** Size guard and temporary folder of dataset preparation. */
  dataset?: DatasetPreparerOptions;
}

export type { SweepSummary };

/**
 * Own one sweep from submission to leaderboard. Every step is idempotent, so a coordinator that takes
 * over a sweep whose previous owner died repeats them safely: the dataset is stored under its content
 * hash, trial jobs have deterministic ids (and trials that already have a result are not enqueued
 * again), and the leaderboard is written from the results in the bucket.
 */
export async function runSweep(job: Job, deps: SweepRunnerDeps, signal: AbortSignal): Promise<SweepSummary> {
  let payload: SweepJob;
  try {
    payload = parsePayload(QueueName.Sweeps, sweepJobSchema, job.data);
  } catch (err) {
    throw new UnrecoverableError((err as Error).message);
  }
  const { sweepId } = payload;
  const { store, lifecycle } = deps;
  const log = deps.logger.child({ sweepId, jobId: job.id });

  const doc: SweepDoc = await lifecycle.open(sweepId, { submittedAt: payload.submittedAt });
  const fail = async (message: string): Promise<never> => {
    await doc.moveTo(SweepState.Failed, { error: message, finishedAt: now() });
    deps.indexChanged?.();
    log.error({ error: message }, 'sweep failed');
    throw new UnrecoverableError(message);
  };

  if (doc.record.state === SweepState.Completed || doc.record.state === SweepState.Cancelled || doc.record.state === SweepState.Failed) {
    log.info({ state: doc.record.state }, 'sweep already finished');
    return { sweepId, state: doc.record.state, trials: doc.record.trials ?? emptyCounts(0), ...(doc.record.best ? { best: doc.record.best } : {}) };
  }
  // Take the sweep at a new epoch: whoever ran it before (a coordinator paused past its lock, an earlier attempt of
  // this process after Redis came back empty) is fenced from here on — its next write to sweep.json does not land.
  const epoch = await doc.take(deps.coordinatorId);
  log.info({ epoch }, 'took the sweep');
  const beat = async (): Promise<void> => {
    if (!(await lifecycle.heartbeat(sweepId, deps.coordinatorId, deps.heartbeatTtlMs, epoch))) await doc.assertOwner();
  };
  await beat();

  const spec = await readSweepSpec(store, payload.specKey, doc, fail);
  // Planned before: taken over from a dead coordinator, rebuilt after a Redis loss, or retried.
  const plannedBefore = doc.record.trials !== undefined;
  const details = { name: spec.name, method: spec.method, metric: spec.metric, spec, specHash: specHash(spec), startedAt: doc.record.startedAt ?? now() };
  if (doc.record.state === SweepState.Queued && !plannedBefore) await doc.moveTo(SweepState.Preparing, details);
  else await doc.save(details);
  log.info({ method: spec.method, plannedBefore }, plannedBefore ? 'taking over sweep' : 'sweep started');
  const dataset = await ensureDataset(spec, doc, deps, log, signal, fail);

  // Grid and random plan every trial up front; bayes proposes them one by one as results arrive.
  let priors: Observation[] = [];
  try {
    priors = spec.method === 'bayes' ? await priorObservations(spec, sweepId, deps) : [];
  } catch (err) {
    if (err instanceof PriorSweepError) return fail(err.message);
    throw err;
  }
  const adaptive = spec.method === 'bayes' ? new AdaptiveProposer(spec, sweepId, deps, priors) : undefined;
  const planned = adaptive ? await adaptive.existingProposals() : planTrials(spec);
  const total = () => (adaptive ? adaptive.total : planned.length);
  if (plannedBefore && (doc.record.recoveries?.length ?? 0) > 0) {
    // Rebuilt after a Redis loss: early-termination values come back from the bucket before any trial reports.
    const replayed = await rebuildRungs({ store, redis: deps.redis, prefix: deps.queuePrefix, sweepId, spec });
    if (replayed > 0) log.info({ replayed }, 'rung values rebuilt from metrics.jsonl');
  }
  await enqueueTrials(sweepId, plannedBefore ? doc.record : undefined, planned, spec, dataset, deps, log);
  await doc.moveTo(SweepState.Running, { trials: doc.record.trials ?? { ...emptyCounts(total()), queued: total() } });
  deps.indexChanged?.();
  // Refresh the report about 20 times over a sweep (at least every 3 finished trials).
  // Through the owner's view writer: a refresh that lands after a takeover is refused or replaced (ownerViews).
  const report = new ReportRefresher(ownerViews(store, doc), sweepId, { everyTrials: Math.max(3, Math.ceil(total() / 20)), logger: log });

  const run: SweepRun = { job, deps, sweepId, doc, spec, dataset, log, signal, beat, planned, adaptive, total, report, resultCache: new Map() };
  const { cancelled, targetReached } = await followTrials(run);
  if (spec.early_terminate) await new RungStore(deps.redis, deps.queuePrefix, sweepId).clear().catch(() => undefined);

  const summary = await finalizeSweep({
    store,
    trials: deps.trialLifecycle,
    doc,
    metric: spec.metric,
    ...(spec.objectives ? { objectives: spec.objectives } : {}),
    ...(spec.best ? { bestRule: spec.best } : {}),
    planned,
    cancelled,
    ...(targetReached && !cancelled ? { endReason: targetReached, unstartedReason: `not started: ${targetReached}` } : {}),
    resultCache: run.resultCache,
    report,
    logger: log,
  });
  await lifecycle.release(sweepId, deps.coordinatorId).catch(() => undefined);
  deps.indexChanged?.();
  return summary;
}

const now = () => new Date().toISOString();

/** The sweep's spec as stored at submit, with what `sweepq extend` changed since; a bad spec fails the sweep. */
async function readSweepSpec(store: ArtifactStore, specKey: string, doc: SweepDoc, fail: (message: string) => Promise<never>): Promise<SweepSpec> {
  const specText = await store.getText(specKey);
  if (specText === undefined) return fail(`spec ${store.uri(specKey)} does not exist; submit the sweep again`);
  let spec: SweepSpec;
  try {
    spec = parseSpec(specText, { source: 'spec.yaml' });
  } catch (err) {
    if (err instanceof SpecError) return fail(err.message);
    throw err;
  }
  // `sweepq extend` raised run_cap (spec.yaml stays as submitted); new random trials never repeat earlier ones.
  return effectiveSpec(spec, doc.record);
}

/**
 * The sweep's prepared dataset: the one recorded, if its object is still there, else prepared now (a bad one fails the
 * sweep); with the SHA-256 of its shard manifest, which every trial job carries.
 */
async function ensureDataset(
  spec: SweepSpec,
  doc: SweepDoc,
  deps: SweepRunnerDeps,
  log: Logger,
  signal: AbortSignal,
  fail: (message: string) => Promise<never>,
): Promise<SweepDataset> {
  const recorded = doc.record.dataset;
  if (recorded && (await deps.store.exists(recorded.key))) {
    // Taken over from a coordinator of a version that wrote no shards: workers need them.
    await ensureShards(deps.store, recorded.key, recorded.hash, log, { ...deps.dataset, signal }).catch((err: unknown) => {
      throw signal.aborted ? new CoordinatorInterrupt() : err;
    });
    return { ...recorded, manifestSha256: await shardManifestSha256Of(deps.store, recorded.hash) };
  }
  let dataset: NonNullable<SweepRecord['dataset']>;
  const progress = new PreparationReporter(doc, log);
  try {
    dataset = await prepareSweepDataset(spec.dataset, deps.store, log, { ...deps.dataset, signal, onProgress: (p) => progress.report(p) });
    await progress.flush();
  } catch (err) {
    await progress.flush();
    if (signal.aborted) throw new CoordinatorInterrupt();
    if (err instanceof DatasetError) return fail(`dataset: ${err.message}`);
    if (err instanceof StorageError && !err.transient) return fail(`dataset: ${err.message}`);
    throw err;
  }
  // The last progress (`done`) goes with the dataset in one write.
  await doc.save({ dataset, ...progress.pending() });
  return { ...dataset, manifestSha256: await shardManifestSha256Of(deps.store, dataset.hash) };
}

/** The sweep's prepared dataset as recorded, and the SHA-256 of its shard manifest (for the trial jobs). */
type SweepDataset = NonNullable<SweepRecord['dataset']> & { manifestSha256: string };

/** One sweep being followed by {@link runSweep}: what the follow loop reads and updates. */
interface SweepRun {
  job: Job;
  deps: SweepRunnerDeps;
  sweepId: string;
  doc: SweepDoc;
  spec: SweepSpec;
  dataset: SweepDataset;
  log: Logger;
  signal: AbortSignal;
  /** The owner heartbeat; throws once someone took the sweep over. */
  beat: () => Promise<void>;
  /** Every trial planned so far (bayes proposals are appended as they are made). */
  planned: PlannedTrial[];
  adaptive: AdaptiveProposer | undefined;
  /** Trials to expect in all. */
  total: () => number;
  report: ReportRefresher;
  /** Results of finished trials, read as they finish so the leaderboard at the end needs few reads. */
  resultCache: Map<string, TrialResult | null>;
}

/**
 * Follow the trials until each has a final state: poll their states, propose bayes trials, stop on cancel or on the
 * metric target (W&B's metric.target: once a finished trial reaches it, no new trial starts, running ones finish),
 * and record the counts and the report whenever they change.
 */
async function followTrials(run: SweepRun): Promise<{ cancelled: boolean; targetReached: string | undefined }> {
  const { deps, sweepId, spec, log, signal } = run;
  let lastCounts = '';
  let cancelled = false;
  let swept = false;
  let targetReached: string | undefined;
  for (let poll = 0; ; poll++) {
    if (signal.aborted) throw signal.reason instanceof LifecycleError ? signal.reason : new CoordinatorInterrupt();
    await run.beat();
    cancelled = await deps.lifecycle.isCancelled(sweepId);
    // Stopping: trials that have not started will not (removed from the queue, ended as cancelled at finalize).
    const stopping = cancelled || targetReached !== undefined;
    const states = await trialStates(run, stopping, poll % FULL_SCAN_EVERY === 0);
    if (run.adaptive && !stopping) await proposeTrials(run, run.adaptive, states);
    if (stopping && !swept) {
      // On cancel the CLI removed the queued jobs it saw; remove any added since (an enqueue racing the cancel), or,
      // when the target was reached, every queued trial of the sweep.
      swept = true;
      await deps.lifecycle.removeQueuedTrials(sweepId);
    }
    const justRead = await cacheResults(sweepId, states, run.resultCache, deps);
    if (targetReached === undefined && spec.metric.target !== undefined) {
      targetReached = firstReachingTarget(justRead, spec.metric, log);
      if (targetReached !== undefined && !swept) {
        // At once, not after the next poll's wait: a worker would start another queued trial meanwhile.
        swept = true;
        await deps.lifecycle.removeQueuedTrials(sweepId);
      }
    }
    // Once stopping, trials a bayes sweep has not proposed yet never will be: they do not count.
    const counts = countStates(states, stopping ? run.planned.length : run.total());
    const countsText = JSON.stringify(counts);
    const last = counts.queued + counts.running === 0 || (stopping && counts.running === 0);
    if (countsText !== lastCounts) {
      lastCounts = countsText;
      await run.doc.save({ trials: counts });
      await run.job.updateProgress({ sweepId, ...counts });
      log.info(counts, 'trials');
      // In the background, from what this loop already holds: the report lists nothing and reads only metrics.
      // Not on the last poll: the final report follows at once, and would wait for this one.
      const finished = counts.completed + counts.stopped + counts.failed + counts.cancelled;
      if (!last) run.report.update(finished, Date.now(), { sweep: run.doc.record, known: knownTrials(states, run.resultCache) });
    }
    if (last) return { cancelled, targetReached };
    await sleep(deps.pollMs, undefined, { signal }).catch(() => undefined);
  }
}

/** Propose bayes trials up to `max_in_flight`, record their parameters and enqueue them; `states` learns they are queued. */
async function proposeTrials(run: SweepRun, adaptive: AdaptiveProposer, states: Map<string, TrialStatus>): Promise<void> {
  const { deps, sweepId, spec } = run;
  const fresh = await adaptive.fill(run.planned, states);
  if (fresh.length === 0) return;
  // params.json first: a takeover (or a retry) reads proposals back from it. Written once: should an earlier
  // owner that was taken over have proposed this index too, the first proposal stands and is the one enqueued.
  for (const t of fresh) {
    const record = { trialId: t.trialId, index: t.index, seed: trialSeed(spec.seed, t.index), params: t.params };
    if (!(await deps.store.putJsonIfAbsent(layout.params(sweepId, t.trialId), record))) {
      const first = await deps.store.getJson<{ params?: TrialParams }>(layout.params(sweepId, t.trialId));
      if (first?.params) t.params = withDefaultParams(first.params);
    }
  }
  await enqueueTrials(sweepId, undefined, fresh, spec, run.dataset, deps, run.log);
  run.log.info({ trials: fresh.map((t) => t.trialId), observations: adaptive.observations }, 'proposed trials');
  run.planned.push(...fresh);
  for (const t of fresh) states.set(t.trialId, 'queued');
}

/** Why the sweep stops early, if one of these results (in the order they finished) reached the metric's target. */
function firstReachingTarget(results: TrialResult[], metric: SweepSpec['metric'], log: Logger): string | undefined {
  for (const r of results) {
    if ((r.state === TrialState.Completed || r.state === TrialState.Stopped) && metricTargetReached(metric, r.metric.value)) {
      log.info({ trialId: r.trialId, value: r.metric.value, target: metric.target }, 'metric target reached; no new trials start');
      return `metric target reached: ${r.trialId} ${metric.name} ${r.metric.value} ${metric.goal === 'maximize' ? '>=' : '<='} ${metric.target}`;
    }
  }
  return undefined;
}

async function enqueueTrials(
  sweepId: string,
  /** The record of a sweep planned before (taken over, retried, extended, rebuilt); undefined for new trials. */
  before: Pick<SweepRecord, 'retries'> | undefined,
  planned: PlannedTrial[],
  spec: SweepSpec,
  dataset: SweepDataset,
  deps: SweepRunnerDeps,
  log: Logger,
): Promise<void> {
  // A trial with a result is finished; re-adding its job (if it was removed) would train it twice.
  // A sweep planned before (taken over, or retried) may have results: one listing finds them all (and the trials a
  // retry reopened are read, to be enqueued again).
  const finished = before ? await finishedTrialIds(deps.store, sweepId, before.retries) : new Set<string>();
  const todo = planned.filter((t) => !finished.has(t.trialId));
  const job = (t: PlannedTrial) => {
    const data: TrialJob = parsePayload(QueueName.Trials, trialJobSchema, {
      sweepId,
      trialId: t.trialId,
      index: t.index,
      params: t.params,
      seed: trialSeed(spec.seed, t.index),
      metric: spec.metric,
      dataset: { key: dataset.key, hash: dataset.hash, manifestSha256: dataset.manifestSha256 },
      ...(spec.trial_timeout ? { timeoutSec: spec.trial_timeout } : {}),
      ...(spec.early_terminate ? { earlyTerminate: true } : {}),
    });
    return { name: 'trial', data, opts: { ...TRIAL_JOB_OPTIONS, jobId: trialJobId(sweepId, t.trialId) } };
  };
  // Deterministic job ids: adding a job whose id exists is a no-op, so a coordinator that takes over
  // a half-enqueued sweep cannot create duplicate trials.
  // Chunk by chunk, each added while the next is validated: workers start the first trials while the rest are built
  // (validating 6,400 payloads takes a few hundred ms, which all came before the first trial started).
  let adding: Promise<unknown> = Promise.resolve();
  try {
    for (let i = 0; i < todo.length; i += ENQUEUE_CHUNK) {
      const chunk = todo.slice(i, i + ENQUEUE_CHUNK).map(job);
      await adding;
      adding = deps.trials.addBulk(chunk);
    }
  } catch (err) {
    // A payload that does not validate: the add in flight is awaited (not left to reject unheard), then the error.
    await adding.catch(() => undefined);
    throw err;
  }
  await adding;
  log.info({ planned: planned.length, enqueued: todo.length }, 'trials enqueued');
}

/** Trial jobs added per round trip (one MULTI of BullMQ's addBulk). */
const ENQUEUE_CHUNK = 500;

type TrialStatus = 'queued' | 'running' | TrialResult['state'];

/** The report's view of the trials: results read so far, and the trials running now. */
function knownTrials(states: Map<string, TrialStatus>, cache: Map<string, TrialResult | null>): KnownTrials {
  const results: TrialResult[] = [];
  for (const r of cache.values()) if (r) results.push(r);
  const running: string[] = [];
  for (const [id, st] of states) if (st === 'running') running.push(id);
  return { results, running };
}

/** Read up to this many newly finished results per poll, 16 at a time, keeping polls short; returns those read. */
const RESULTS_PER_POLL = 256;

async function cacheResults(
  sweepId: string,
  states: Map<string, TrialStatus>,
  cache: Map<string, TrialResult | null>,
  deps: SweepRunnerDeps,
): Promise<TrialResult[]> {
  if (deps.resultsInBucket === false) {
    for (const [trialId, st] of states) if (st !== 'queued' && st !== 'running') cache.set(trialId, null);
    return [];
  }
  const todo: string[] = [];
  for (const [trialId, st] of states) {
    if (st !== 'queued' && st !== 'running' && !cache.has(trialId)) todo.push(trialId);
    if (todo.length >= RESULTS_PER_POLL) break;
  }
  const read: TrialResult[] = [];
  for (let i = 0; i < todo.length; i += 16) {
    await Promise.all(
      todo.slice(i, i + 16).map(async (trialId) => {
        // A final state is recorded only after its result.json is written; null marks "looked, none" so a
        // missing result is not asked for on every poll (finalize looks once more).
        const r = (await deps.trialLifecycle.result(sweepId, trialId)) ?? null;
        cache.set(trialId, r);
        if (r) read.push(r);
      }),
    );
  }
  // In the order the trials finished (the reads above complete in any order), so "the first trial that reached the
  // metric target" is the one that did so first when several finished within one poll.
  const key = (r: TrialResult): string => `${r.finishedAt} ${r.trialId}`;
  return read.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Every this many polls the coordinator also asks BullMQ about every unfinished trial (jobs failed for good). */
const FULL_SCAN_EVERY = 10;

async function trialStates(run: SweepRun, cancelled: boolean, fullScan: boolean): Promise<Map<string, TrialStatus>> {
  const { planned, sweepId, deps } = run;
  const { metric } = run.spec;
  // Finished trials come from the hash workers update when they commit a result: one call per poll.
  const done = await deps.trialLifecycle.doneTrials(sweepId);
  const out = new Map<string, TrialStatus>();
  const unfinished: PlannedTrial[] = [];
  for (const t of planned) {
    const state = done.get(t.trialId);
    if (state) out.set(t.trialId, state as TrialStatus);
    else unfinished.push(t);
  }
  const running = new Set<string>();
  for (const job of await deps.trials.getJobs(['active'])) {
    const data = job.data as { sweepId?: string; trialId?: string } | undefined;
    if (data?.sweepId === sweepId && data.trialId) running.add(data.trialId);
  }
  // Cheap polls trust the hash; a full scan (every few polls, on cancel, or near the end) also finds
  // jobs that failed for good without a worker writing a result (crash loops, exhausted retries).
  const scan = fullScan || cancelled || unfinished.length <= running.size;
  for (let i = 0; i < unfinished.length; i += 1000) {
    const chunk = unfinished.slice(i, i + 1000);
    const ended = scan ? await endedJobStates(deps, chunk.map((t) => trialJobId(sweepId, t.trialId))) : [];
    const states = chunk.map((t, j) => ended[j] ?? (running.has(t.trialId) ? 'active' : 'waiting'));
    for (let j = 0; j < chunk.length; j++) {
      const t = chunk[j]!;
      const state = states[j];
      if (state === 'active') {
        out.set(t.trialId, 'running');
      } else if (state === 'failed' || state === 'completed' || state === 'unknown') {
        // Most often the trial finished after this poll read the hash (workers record the state, then complete the
        // job): the hash now says so, and nothing need be read.
        const recorded = await deps.trialLifecycle.doneState(sweepId, t.trialId);
        if (recorded) {
          out.set(t.trialId, recorded as TrialStatus);
          continue;
        }
        // Finished or removed without the hash saying so: the bucket has the truth, or we write it.
        const result = await deps.trialLifecycle.result(sweepId, t.trialId);
        if (result) {
          await deps.trialLifecycle.markDone(sweepId, t.trialId, result.state);
          out.set(t.trialId, result.state);
        } else if (state === 'failed') {
          const job = await deps.trials.getJob(trialJobId(sweepId, t.trialId));
          await deps.trialLifecycle.recordFinal(sweepId, t, metric, TrialState.Failed, job?.failedReason ?? 'unknown error', job?.attemptsMade ?? 0, run.doc.epoch);
          out.set(t.trialId, TrialState.Failed);
        } else {
          out.set(t.trialId, cancelled ? TrialState.Cancelled : 'queued');
        }
      } else {
        out.set(t.trialId, cancelled ? TrialState.Cancelled : 'queued');
      }
    }
  }
  return out;
}

/**
 * Which of these jobs ended in BullMQ: `completed`, `failed`, `unknown` (removed), or undefined (still waiting,
 * delayed or active). One pipelined round trip of O(1) commands per job; BullMQ's getJobState searches the wait list
 * (LPOS) for every job, which for a sweep of thousands of queued trials costs Redis far more.
 */
async function endedJobStates(deps: SweepRunnerDeps, jobIds: string[]): Promise<('completed' | 'failed' | 'unknown' | undefined)[]> {
  const { trials } = deps;
  const p = deps.redis.pipeline();
  for (const id of jobIds) p.zscore(trials.keys['completed']!, id).zscore(trials.keys['failed']!, id).exists(trials.toKey(id));
  const replies = (await p.exec()) ?? [];
  return jobIds.map((id, k) => {
    const [completed, failed, exists] = [0, 1, 2].map((o) => {
      const [err, value] = replies[3 * k + o] ?? [new Error('no reply')];
      if (err) throw new Error(`reading the state of job ${id}: ${err.message}`);
      return value;
    });
    if (completed !== null) return 'completed';
    if (failed !== null) return 'failed';
    return exists === 0 ? 'unknown' : undefined;
  });
}

function countStates(states: Map<string, TrialStatus>, total: number): TrialCounts {
  const c = emptyCounts(total);
  for (const s of states.values()) c[s] += 1;
  // Trials an adaptive method has not proposed yet count as queued.
  c.queued += Math.max(0, total - states.size);
  return c;
}

/**
 * Bayes (TPE) proposals for one sweep: keeps up to `max_in_flight` trials queued or running and proposes
 * the next whenever one finishes, from every result so far. Proposal k gets the deterministic trial id
 * of index k, so a coordinator that takes over finds what was proposed (from the jobs, or params.json)
 * and never proposes an index twice; run_cap is exact.
 */
class AdaptiveProposer {
  readonly #sweepId: string;
  readonly #deps: SweepRunnerDeps;
  readonly #sampler: Sampler;
  readonly #plan: ReturnType<typeof planAdaptive>;
  readonly #observed = new Map<string, Observation>();
  readonly #spec: SweepSpec;
  /** With early termination: the rung values, the trials' curves for the sampler (compared at equal epochs). */
  readonly #rungs: RungStore | undefined;
  #exhausted = false;

  /** Observations from `prior_sweeps` (warm start): passed with every proposal, never proposed again. */
  readonly #priors: Observation[];

  constructor(spec: SweepSpec, sweepId: string, deps: SweepRunnerDeps, priors: Observation[] = []) {
    this.#sweepId = sweepId;
    this.#deps = deps;
    this.#spec = spec;
    this.#priors = priors;
    this.#sampler = createSampler(spec, { seed: spec.seed, warmStart: priors.length });
    this.#plan = planAdaptive(spec);
    this.#rungs = spec.early_terminate ? new RungStore(deps.redis, deps.queuePrefix, sweepId) : undefined;
  }

  /** How many finished trials the sampler has seen, prior sweeps' included (what its next proposal is fitted on). */
  get observations(): number {
    return this.#priors.length + this.#observed.size;
  }

  /** Trials to expect in all: run_cap, or fewer if the space ran out. */
  get total(): number {
    return this.#plan.total;
  }

  /** Trials proposed by an earlier coordinator of this sweep, read back from their jobs or params.json. */
  async existingProposals(): Promise<PlannedTrial[]> {
    const out: PlannedTrial[] = [];
    for (let index = 0; index < this.#plan.total; index++) {
      const id = trialId(index);
      const job = await this.#deps.trials.getJob(trialJobId(this.#sweepId, id));
      let params = (job?.data as { params?: TrialParams } | undefined)?.params;
      if (!params) params = (await this.#deps.store.getJson<{ params: TrialParams }>(layout.params(this.#sweepId, id)))?.params;
      // A proposal made before a parameter existed lacks it (and trains with its default).
      if (params) out.push({ index, trialId: id, params: withDefaultParams(params) });
    }
    return out;
  }

  /** Propose trials until `max_in_flight` are queued or running, or the budget is spent. */
  async fill(planned: PlannedTrial[], states: Map<string, TrialStatus>): Promise<PlannedTrial[]> {
    const pending: TrialParams[] = [];
    for (const t of planned) {
      const st = states.get(t.trialId);
      if (st === 'queued' || st === 'running') {
        pending.push(t.params);
      } else if (st && !this.#observed.has(t.trialId)) {
        const r = await this.#deps.trialLifecycle.result(this.#sweepId, t.trialId);
        const value = r?.metric.value ?? null;
        // The trial's value at each rung it reached, as its worker reported them (one Redis round trip, once per
        // trial: a finished trial's rung values do not change); its last epoch's value is `value`.
        const curve = this.#rungs && value !== null ? await this.#rungs.trialValues(t.trialId, this.#spec) : undefined;
        this.#observed.set(t.trialId, {
          // The parameters the trial really ran with (a coordinator that lost a race may hold others).
          params: r?.params ?? t.params,
          value,
          ...(this.#spec.objectives ? { values: r ? objectiveValues(r, this.#spec.objectives) : this.#spec.objectives.map(() => null) } : {}),
          ...(r?.state === TrialState.Stopped && r.stoppedAtEpoch ? { stoppedAtEpoch: r.stoppedAtEpoch } : {}),
          ...(curve && Object.keys(curve).length > 0 ? { curve } : {}),
        });
      }
    }
    const used = new Set(planned.map((t) => t.index));
    const fresh: PlannedTrial[] = [];
    let inFlight = pending.length;
    for (let index = 0; index < this.#plan.total && inFlight < this.#plan.maxInFlight && !this.#exhausted; index++) {
      if (used.has(index)) continue;
      try {
        const params = this.#sampler.propose(index, [...this.#priors, ...this.#observed.values()], [...pending, ...fresh.map((f) => f.params)]);
        fresh.push({ index, trialId: trialId(index), params });
        inFlight += 1;
      } catch (err) {
        if (err instanceof SearchError && err.code === SearchErrorCode.SpaceExhausted) {
          this.#exhausted = true;
          this.#plan.total = planned.length + fresh.length;
        } else {
          throw err;
        }
      }
    }
    return fresh;
  }
}
