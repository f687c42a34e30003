import { UnrecoverableError, type Job } from 'bullmq';
import {
  DivergedError,
  buildModel,
  modelParamsFromTrial,
  evaluate,
  predictSource,
  trainModel,
  tf,
  type BlockSource,
  type EpochLog,
} from '@sweepq/model';
import { QueueName, parsePayload, trialJobSchema, type TrialJob, type TrialProgress } from '@sweepq/queue';
import { LockLostError, RungStore, type JobLease, type TrialLifecycle } from '@sweepq/lifecycle';
import type { Redis } from 'ioredis';
import { isCostMetric, type SweepSpec } from '@sweepq/sweep-config';
import { TrialCheckpoint, restoreCheckpoint, type ResumeRecord } from './checkpoint.js';
import { randomBytes } from 'node:crypto';
import type { Logger } from '@sweepq/runtime';
import { layout, type ArtifactStore } from '@sweepq/storage';
import type { DatasetCache, ShardedDataset } from './dataset-cache.js';
import { savedModelAndCosts } from './model-costs.js';
import { ShutdownInterrupt } from './errors.js';
import type { WorkerMetrics } from './metrics.js';
import {
  TrialState,
  argmaxRows,
  classificationReport,
  confusionMatrix,
  type AttemptRecord,
  type Evaluation,
  type TrialResult,
} from '@sweepq/results';

/** What {@link runTrial} needs from its process. */
export interface TrialRunnerDeps {
  store: ArtifactStore;
  cache: DatasetCache;
  logger: Logger;
  backend: string;
  tfjsVersion: string;
  workerId: string;
  /** True once the sweep was cancelled (cheap: callers cache it for a second or two). */
  isCancelled: (sweepId: string) => Promise<boolean>;
  /** Worker-wide per-trial timeout in seconds; 0 = none. */
  defaultTimeoutSec: number;
  /**
   * Train with this instead of the model (injected by the queue benchmark; production leaves it unset). It gets the
   * validated payload and commits through `trials` like the real path.
   */
  trainer?: TrialTrainer;
  /** The sweep spec by id, for early-termination rules (read from the bucket once per sweep). */
  specFor?: (sweepId: string) => Promise<SweepSpec>;
  /** Prometheus metrics; optional so tests and tools can run trials without them. */
  metrics?: WorkerMetrics;
  /** Redis connection and BullMQ prefix, for the rung store. */
  redis: Redis;
  queuePrefix: string;
  /** The one owner of trial state changes: lock checks, the result claim, the commit. */
  trials: TrialLifecycle;
}

/** The result fields every trial result shares, filled in before training. */
export type TrialBase = Pick<TrialResult, 'attemptKey' | 'sweepId' | 'trialId' | 'index' | 'params' | 'backend' | 'tfjsVersion' | 'worker' | 'attempt'>;

/** An injected trainer (see {@link TrialRunnerDeps.trainer}). */
export type TrialTrainer = (ctx: {
  lease: JobLease;
  payload: TrialJob;
  base: TrialBase;
  started: number;
  deps: TrialRunnerDeps;
  shutdown: AbortSignal;
}) => Promise<TrialResult>;

/** Why training stopped before its last epoch; one place for every source (the order is the precedence). */
type StopCause = 'lock-lost' | 'early-stop' | 'shutdown' | 'timeout' | 'cancelled';

/** Every way a running trial can be told to stop, combined into the one signal training watches. */
class StopSignals {
  readonly #timeout = new AbortController();
  readonly #cancelled = new AbortController();
  readonly #early = new AbortController();
  readonly #timer: NodeJS.Timeout | undefined;
  readonly signal: AbortSignal;

  constructor(
    private readonly shutdown: AbortSignal,
    private readonly lockLost: AbortSignal | undefined,
    readonly timeoutSec: number | undefined,
  ) {
    this.signal = AbortSignal.any([shutdown, this.#timeout.signal, this.#cancelled.signal, this.#early.signal, ...(lockLost ? [lockLost] : [])]);
    if (timeoutSec) this.#timer = setTimeout(() => this.#timeout.abort(new Error('timeout')), timeoutSec * 1000);
  }

  cancel(): void {
    this.#cancelled.abort(new Error('cancelled'));
  }

  stopEarly(): void {
    this.#early.abort(new Error('early terminated'));
  }

  /** Why training was aborted, if it was. */
  cause(): StopCause | undefined {
    if (this.lockLost?.aborted) return 'lock-lost';
    if (this.#early.signal.aborted) return 'early-stop';
    if (this.shutdown.aborted) return 'shutdown';
    if (this.#timeout.signal.aborted) return 'timeout';
    if (this.#cancelled.signal.aborted) return 'cancelled';
    return undefined;
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}

/** The trial's dataset and its splits as shard sources, encoded with the trial's max_words and max_len. */
interface TrialData {
  prepared: ShardedDataset;
  train: BlockSource;
  validation: BlockSource;
  test: BlockSource;
}

/** One attempt at one trial: what it trains on and everything it has done so far (what a checkpoint saves). */
interface TrialAttempt {
  job: Job;
  payload: TrialJob;
  lease: JobLease;
  base: TrialBase;
  started: number;
  deps: TrialRunnerDeps;
  log: Logger;
  stops: StopSignals;
  model: tf.LayersModel;
  history: EpochLog[];
  epochsTrained: number;
  resumes: ResumeRecord[];
  /** Every attempt at the trial, this one last (carried in the checkpoint; the report's worker timeline). */
  attempts: AttemptRecord[];
  /** The epoch of the checkpoint in the bucket (its folder is dropped when the next one lands). */
  checkpointEpoch: number | undefined;
  /** This attempt's hold on the trial's checkpoint and metrics.jsonl (compare-and-set; see TrialCheckpoint). */
  checkpoint: TrialCheckpoint;
  /** Early termination: the rules and where decisions are taken; the decision that stopped the trial. */
  rungs: { store: RungStore; rules: SweepSpec } | undefined;
  stopped: { epoch: number; reason: string } | undefined;
}

/**
 * Train one trial and write its artifacts, in steps: check for a duplicate, resume from a checkpoint, train epoch by
 * epoch (each ends with a checkpoint and a rung report), then commit. `result.json` is written last: it is the
 * commit point, and a trial that already has one is not trained again (a duplicate delivery is a no-op).
 */
export async function runTrial(
  job: Job,
  token: string | undefined,
  deps: TrialRunnerDeps,
  shutdown: AbortSignal,
  /** Aborted by BullMQ when this worker lost the job's lock: another worker owns the trial now. */
  lockLost?: AbortSignal,
): Promise<TrialResult> {
  let payload: TrialJob;
  try {
    payload = parsePayload(QueueName.Trials, trialJobSchema, job.data);
  } catch (err) {
    // A payload that fails its schema will fail the same way on every attempt.
    throw new UnrecoverableError((err as Error).message);
  }
  const { sweepId, trialId, params } = payload;
  const log = deps.logger.child({ sweepId, trialId, jobId: job.id, attempt: job.attemptsMade + 1 });
  const lease: JobLease = { jobId: job.id, token, attempt: job.attemptsMade + 1 };
  // Names this attempt's own folder of outputs (checkpoint epochs, the model) and the result it commits.
  const attemptKey = `${lease.attempt}-${randomBytes(4).toString('hex')}`;

  // A duplicate delivery of a finished trial is a no-op. The Redis hash answers without an S3 request;
  // should it have lost the entry, the result claim below still refuses a second result.
  if ((await deps.trials.doneState(sweepId, trialId)) !== undefined) {
    const existing = await deps.trials.result(sweepId, trialId);
    if (existing) {
      log.info({ state: existing.state }, 'trial already has a result; not training it again');
      return existing;
    }
  }
  const started = Date.now();
  if (job.attemptsMade === 0 && job.timestamp) deps.metrics?.enqueueToStartSeconds.observe((started - job.timestamp) / 1000);
  const base: TrialBase = {
    attemptKey,
    sweepId,
    trialId,
    index: payload.index,
    params,
    backend: deps.backend,
    tfjsVersion: deps.tfjsVersion,
    worker: deps.workerId,
    attempt: job.attemptsMade + 1,
  };
  if (deps.trainer) return deps.trainer({ lease, payload, base, started, deps, shutdown });
  if (await deps.isCancelled(sweepId)) {
    return commitResult(failedResult(base, payload, started, [], TrialState.Cancelled, 'cancelled', 'sweep was cancelled before the trial started'), lease, deps);
  }

  // Shards, fetched as training reaches them: the first batch starts before the last shard arrives.
  const prepared = await deps.cache.open(payload.dataset.hash, payload.dataset.manifestSha256);
  const enc = { maxWords: params.max_words, maxLen: params.max_len };
  const data: TrialData = { prepared, train: prepared.source('train', enc), validation: prepared.source('validation', enc), test: prepared.source('test', enc) };
  const rules = payload.earlyTerminate && deps.specFor ? await deps.specFor(sweepId) : undefined;
  const timeoutSec = payload.timeoutSec ?? (deps.defaultTimeoutSec > 0 ? deps.defaultTimeoutSec : undefined);
  const attempt: TrialAttempt = {
    job,
    payload,
    lease,
    base,
    started,
    deps,
    log,
    stops: new StopSignals(shutdown, lockLost, timeoutSec),
    model: buildModel(modelParamsFromTrial(params, prepared.manifest.classes.length, payload.seed)),
    history: [],
    epochsTrained: 0,
    resumes: [],
    attempts: [],
    checkpointEpoch: undefined,
    checkpoint: new TrialCheckpoint(deps.store, sweepId, trialId, attemptKey),
    rungs: rules?.early_terminate ? { store: new RungStore(deps.redis, deps.queuePrefix, sweepId), rules } : undefined,
    stopped: undefined,
  };
  return trainAttempt(attempt, data, prepared);
}

/**
 * Steps 1-3 of {@link runTrial} for one attempt: resume, train, commit (a diverged trial commits as failed and is not
 * retried). The attempt's model and stop signals are released whatever happens.
 */
async function trainAttempt(attempt: TrialAttempt, data: TrialData, prepared: ShardedDataset): Promise<TrialResult> {
  const { payload, deps, log, base, started, lease } = attempt;
  const { params } = payload;
  deps.metrics?.running.inc();
  try {
    await resume(attempt);
    const startEpoch = attempt.history.length;
    // A resumed trial re-reports its last epoch (idempotent in the rung store): a stop decided before the
    // previous worker died, or a rung it never got to report, is honoured now.
    const lastLog = attempt.history.at(-1);
    if (lastLog && startEpoch < params.epochs) await reportRung(attempt, lastLog);
    log.info({ params, train: prepared.rows('train'), validation: prepared.rows('validation'), startEpoch, stopped: attempt.stopped }, 'training');
    const run = attempt.stopped ? { history: [] as EpochLog[], aborted: false } : await train(attempt, data, startEpoch);
    // A trial told to stop at a rung is finished, even if a shutdown or timeout came right after.
    if (run.aborted && !attempt.stopped) return await commitInterrupted(attempt);
    if (attempt.history.length < params.epochs && !attempt.stopped) {
      throw new Error(`training ended after ${attempt.history.length} of ${params.epochs} epochs without being stopped`);
    }
    return await commitTrained(attempt, data, run.history);
  } catch (err) {
    if (err instanceof DivergedError) {
      const result = failedResult(base, payload, started, attempt.history, TrialState.Failed, 'diverged', err.message);
      await commitResult({ ...result, epochsTrained: attempt.epochsTrained, resumes: attempt.resumes, attempts: attemptsUntilNow(attempt) }, lease, deps);
      throw new UnrecoverableError(`diverged: ${err.message}`);
    }
    throw err;
  } finally {
    deps.metrics?.running.dec();
    attempt.stops.dispose();
    // Optimizer slots (Adam moments) are variables of their own; the model does not own them.
    (attempt.model.optimizer as tf.Optimizer | undefined)?.dispose();
    attempt.model.dispose();
  }
}

/** The attempts so far, this one ending now. */
function attemptsUntilNow(a: TrialAttempt): AttemptRecord[] {
  const now = new Date().toISOString();
  return a.attempts.map((r, i) => (i === a.attempts.length - 1 ? { ...r, endedAt: now } : r));
}

/** Step 1: resume from the last completed epoch when an earlier attempt left a checkpoint; else record the params. */
async function resume(a: TrialAttempt): Promise<void> {
  const { store } = a.deps;
  const { sweepId, trialId, params, seed, index } = a.payload;
  // Taking the checkpoint fences every earlier attempt (one paused past its lock): its next write does not land.
  const ckpt = await a.checkpoint.take();
  if (ckpt && ckpt.state.seed === seed && ckpt.state.epoch <= params.epochs) {
    await restoreCheckpoint(tf, a.model, ckpt);
    a.history = ckpt.state.history.slice(0, ckpt.state.epoch);
    a.epochsTrained = ckpt.state.epochsTrained;
    a.resumes = [...ckpt.state.resumes, { attempt: a.base.attempt, worker: a.deps.workerId, fromEpoch: ckpt.state.epoch, at: new Date().toISOString() }];
    a.attempts = [...(ckpt.state.attempts ?? [])];
    // The earlier attempt may have died between its checkpoint and its metrics line (metrics.jsonl is written after
    // the checkpoint): write the checkpoint's epochs again, so none is missing even if no further epoch runs.
    await writeMetrics(a);
    a.log.info({ fromEpoch: ckpt.state.epoch, savedBy: ckpt.state.worker }, 'resuming from checkpoint');
  } else {
    // Written once (a bayes proposal's coordinator wrote it already; a retried grid trial keeps its first copy).
    await store.putJsonIfAbsent(layout.params(sweepId, trialId), { trialId, index, seed, params });
  }
  a.attempts.push({ attempt: a.base.attempt, worker: a.deps.workerId, startedAt: new Date(a.started).toISOString(), fromEpoch: a.history.length });
}

/** metrics.jsonl: one line per epoch of the trial so far (`a.history`), written whole, by compare-and-set. */
async function writeMetrics(a: TrialAttempt): Promise<void> {
  await a.checkpoint.writeMetrics(`${a.history.map((h) => JSON.stringify(h)).join('\n')}\n`);
}

/** Step 2: train the remaining epochs, polling the cancel flag and reporting progress between batches. */
function train(a: TrialAttempt, data: TrialData, startEpoch: number) {
  const { sweepId, trialId, params } = a.payload;
  let lastCancelCheck = 0;
  let lastProgress = 0;
  return trainModel({
    model: a.model,
    train: data.train,
    validation: data.validation,
    epochs: params.epochs,
    startEpoch,
    batchSize: params.batch_size,
    seed: a.payload.seed,
    signal: a.stops.signal,
    logger: a.log,
    onBatchEnd: async ({ epoch, batch, batches, loss }) => {
      const now = Date.now();
      if (now - lastCancelCheck > 1000) {
        lastCancelCheck = now;
        if (await a.deps.isCancelled(sweepId)) a.stops.cancel();
      }
      if (now - lastProgress > 2000) {
        lastProgress = now;
        const progress: TrialProgress = { sweepId, trialId, epoch: epoch - 1, epochs: params.epochs, batch, batches, loss };
        await a.job.updateProgress(progress);
      }
    },
    onEpochEnd: (e: EpochLog) => endEpoch(a, e),
  });
}

/** Step 3, after each epoch: checkpoint, metrics line, progress, rung report — or nothing, if the lock is gone. */
async function endEpoch(a: TrialAttempt, e: EpochLog): Promise<void> {
  const { metrics, workerId } = a.deps;
  const { sweepId, trialId, params, seed } = a.payload;
  // Write nothing once another worker owns the trial (this one stalled and lost its lock).
  if (!(await a.deps.trials.ownsLock(a.lease))) throw new LockLostError(trialId);
  a.history.push(e);
  a.epochsTrained += 1;
  metrics?.epochSeconds.observe(e.seconds);
  metrics?.samplesPerSec.set(e.samplesPerSec);
  const ckptTimer = metrics?.checkpointSeconds.startTimer();
  const state = { epoch: e.epoch, history: a.history, seed, epochsTrained: a.epochsTrained, resumes: a.resumes, attempts: attemptsUntilNow(a), worker: workerId, attempt: a.base.attempt };
  await a.checkpoint.save(a.model, state, a.checkpointEpoch);
  ckptTimer?.();
  a.checkpointEpoch = e.epoch;
  // After the checkpoint, so metrics.jsonl never has an epoch the checkpoint lacks.
  await writeMetrics(a);
  const progress: TrialProgress = { sweepId, trialId, epoch: e.epoch, epochs: params.epochs, loss: e.loss, val_loss: e.val_loss, val_accuracy: e.val_accuracy };
  await a.job.updateProgress(progress);
  a.log.info(e, 'epoch done');
  if (e.epoch < params.epochs && (await reportRung(a, e))) {
    a.log.info({ epoch: e.epoch, reason: a.stopped?.reason }, 'early-terminated');
    a.stops.stopEarly();
  }
}

/** Step 4: report an epoch's metric to the rung store (decided atomically in Redis); true when the trial must stop. */
async function reportRung(a: TrialAttempt, e: EpochLog): Promise<boolean> {
  if (!a.rungs) return false;
  const value = metricValue(e, a.payload.metric.name);
  if (value === null) return false;
  const decision = await a.rungs.store.report(a.payload.trialId, e.epoch, value, a.rungs.rules);
  if (decision.continue) return false;
  a.stopped = { epoch: e.epoch, reason: decision.reason ?? `stopped at rung ${decision.rung}` };
  return true;
}

/** Step 5a: training was interrupted: hand the trial back (shutdown, lost lock) or commit why it ended. */
async function commitInterrupted(a: TrialAttempt): Promise<TrialResult> {
  const cause = a.stops.cause();
  if (cause === 'lock-lost') throw new LockLostError(a.payload.trialId);
  if (cause === 'shutdown') throw new ShutdownInterrupt();
  const timedOut = cause === 'timeout';
  const result = failedResult(
    a.base,
    a.payload,
    a.started,
    a.history,
    timedOut ? TrialState.Failed : TrialState.Cancelled,
    timedOut ? 'timeout' : 'cancelled',
    timedOut ? `trial exceeded its timeout of ${a.stops.timeoutSec} s` : 'sweep was cancelled',
  );
  a.log.warn({ reason: result.reason }, 'trial stopped');
  return commitResult({ ...result, epochsTrained: a.epochsTrained, resumes: a.resumes, attempts: attemptsUntilNow(a) }, a.lease, a.deps);
}

/** Step 5b: evaluate on the held-out split, claim, upload the model, commit the result. */
async function commitTrained(a: TrialAttempt, data: TrialData, trainedNow: EpochLog[]): Promise<TrialResult> {
  const { store, metrics } = a.deps;
  const { sweepId, trialId, params } = a.payload;
  const { test, validation, prepared } = data;
  const hasTest = prepared.rows('test') > 0;
  const testMetrics = hasTest ? await evaluate(a.model, test, params.batch_size) : null;
  const evaluation = await evaluateHeldOut(a.model, hasTest ? test : validation, hasTest ? 'test' : 'validation', prepared.manifest.classes);
  // The files as they will be uploaded, and what the model costs (its bytes, parameters, latency of one text).
  const { files, costs } = await savedModelAndCosts(a.model, prepared, params);
  // Claim before uploading the model, so an attempt that lost its lock overwrites no one's weights.
  const already = await a.deps.trials.claim(sweepId, trialId, a.lease);
  if (already) return already;
  const uploadTimer = metrics?.uploadSeconds.startTimer();
  // Under this attempt's own folder: only the result that names it (written once, below) makes it the trial's model.
  const modelDir = layout.resultModelPrefix(a.base);
  for (const f of files) await store.put(`${modelDir}${f.name}`, f.body, f.contentType);
  const final = a.history.at(-1) ?? null;
  const metricName = a.payload.metric.name;
  const sps = trainedNow.length > 0 ? trainedNow.reduce((acc, h) => acc + h.samplesPerSec, 0) / trainedNow.length : null;
  const { stopped } = a;
  const result: TrialResult = {
    ...a.base,
    state: stopped ? TrialState.Stopped : TrialState.Completed,
    ...(stopped ? { reason: 'early_terminated', stoppedAtEpoch: stopped.epoch, error: stopped.reason } : {}),
    // A cost metric (model_bytes, …) is measured on the model, not per epoch.
    metric: { ...a.payload.metric, value: isCostMetric(metricName) ? costs[metricName] : final ? metricValue(final, metricName) : null },
    final,
    costs,
    test: testMetrics,
    evaluation,
    epochs: a.history.length,
    epochsTrained: a.epochsTrained,
    resumes: a.resumes,
    attempts: attemptsUntilNow(a),
    durationSec: (Date.now() - a.started) / 1000,
    samplesPerSec: sps,
    finishedAt: new Date().toISOString(),
  };
  const committed = await commitResult(result, a.lease, a.deps, { claimed: true });
  uploadTimer?.();
  if (committed === result) a.log.info({ metric: result.metric, costs, test: testMetrics, durationSec: result.durationSec, resumes: a.resumes.length }, 'trial completed');
  return committed;
}

export { LockLostError };

/** Commit through the life cycle and count the outcome. */
async function commitResult(
  result: TrialResult,
  lease: JobLease,
  deps: TrialRunnerDeps,
  opts: { claimed?: boolean; dropCheckpoint?: boolean } = {},
): Promise<TrialResult> {
  const committed = await deps.trials.commit(result, lease, opts);
  if (committed === result) deps.metrics?.trials.inc({ state: result.state });
  return committed;
}

/** Confusion matrix, per-class metrics and a few stored predictions on a held-out split. */
async function evaluateHeldOut(model: tf.LayersModel, data: BlockSource, split: Evaluation['split'], classes: string[]): Promise<Evaluation> {
  const k = classes.length;
  const { probabilities: probs, labels, n } = await predictSource(model, data);
  const predicted = argmaxRows(probs, n, k);
  const confusion = confusionMatrix(labels, predicted, k);
  const { accuracy, perClass } = classificationReport(confusion, classes);
  const samples = [];
  for (let i = 0; i < Math.min(SAMPLE_PREDICTIONS, n); i++) {
    samples.push({ index: i, label: labels[i]!, probabilities: Array.from(probs.subarray(i * k, (i + 1) * k)) });
  }
  return { split, classes, confusion, accuracy, perClass, samples };
}

/** Predictions stored in result.json so a reloaded model can be checked against the worker's own. */
const SAMPLE_PREDICTIONS = 8;

function metricValue(e: EpochLog, name: string): number | null {
  const v = (e as unknown as Record<string, unknown>)[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function failedResult(
  base: Omit<TrialResult, 'state' | 'metric' | 'final' | 'test' | 'epochs' | 'durationSec' | 'samplesPerSec' | 'finishedAt'>,
  payload: TrialJob,
  started: number,
  history: EpochLog[],
  state: TrialState,
  reason: string,
  error: string,
): TrialResult {
  const final = history.at(-1) ?? null;
  return {
    ...base,
    state,
    reason,
    error,
    metric: { ...payload.metric, value: final ? metricValue(final, payload.metric.name) : null },
    final,
    test: null,
    epochs: history.length,
    durationSec: (Date.now() - started) / 1000,
    samplesPerSec: null,
    finishedAt: new Date().toISOString(),
  };
}
