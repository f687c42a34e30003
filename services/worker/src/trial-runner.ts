import { UnrecoverableError, type Job } from 'bullmq';
import { encodeForTrial, trialVocabulary } from '@sweepq/data';
import {
  DivergedError,
  buildModel,
  modelParamsFromTrial,
  evaluate,
  predictProbabilities,
  serializeModel,
  trainModel,
  tf,
  type EpochLog,
  type TrainData,
} from '@sweepq/model';
import { QueueName, parsePayload, trialJobSchema, type TrialJob, type TrialProgress } from '@sweepq/queue';
import { LockLostError, type JobLease, type TrialLifecycle } from '@sweepq/lifecycle';
import type { Redis } from 'ioredis';
import { RungStore } from '@sweepq/search';
import type { SweepSpec } from '@sweepq/spec';
import { loadCheckpoint, restoreCheckpoint, saveCheckpoint, type ResumeRecord } from './checkpoint.js';
import type { Logger } from '@sweepq/runtime';
import { layout, type ArtifactStore } from '@sweepq/storage';
import type { DatasetCache } from './dataset-cache.js';
import type { WorkerMetrics } from './metrics.js';
import {
  TrialState,
  argmaxRows,
  classificationReport,
  confusionMatrix,
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
export type TrialBase = Pick<TrialResult, 'sweepId' | 'trialId' | 'index' | 'params' | 'backend' | 'tfjsVersion' | 'worker' | 'attempt'>;

/** An injected trainer (see {@link TrialRunnerDeps.trainer}). */
export type TrialTrainer = (ctx: {
  lease: JobLease;
  payload: TrialJob;
  base: TrialBase;
  started: number;
  deps: TrialRunnerDeps;
  shutdown: AbortSignal;
}) => Promise<TrialResult>;

/** Thrown when training stopped because the process is shutting down; the job goes back to the queue. */
export class ShutdownInterrupt extends Error {
  constructor() {
    super('worker shutting down; trial released for another worker');
  }
}

/**
 * Train one trial and write its artifacts. `result.json` is written last: it is the commit point, and a
 * trial that already has one is not trained again (a duplicate delivery is a no-op).
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
  const store = deps.store;
  const lease: JobLease = { jobId: job.id, token, attempt: job.attemptsMade + 1 };

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
  const metrics = deps.metrics;
  if (job.attemptsMade === 0 && job.timestamp) metrics?.enqueueToStartSeconds.observe((started - job.timestamp) / 1000);
  const base = {
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
    const result = failedResult(base, payload, started, [], TrialState.Cancelled, 'cancelled', 'sweep was cancelled before the trial started');
    return commitResult(result, lease, deps);
  }

  const prepared = await deps.cache.get(payload.dataset.key, payload.dataset.hash);
  const enc = (split: 'train' | 'validation' | 'test'): TrainData => {
    const e = encodeForTrial(prepared.splits[split], { maxWords: params.max_words, maxLen: params.max_len });
    return { x: e.x, y: e.y, n: e.n, maxLen: params.max_len };
  };
  const train = enc('train');
  const validation = enc('validation');
  const test = enc('test');

  const timeoutSec = payload.timeoutSec ?? (deps.defaultTimeoutSec > 0 ? deps.defaultTimeoutSec : undefined);
  const timeout = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const cancelled = new AbortController();
  const earlyStop = new AbortController();
  const signal = AbortSignal.any([shutdown, timeout.signal, cancelled.signal, earlyStop.signal, ...(lockLost ? [lockLost] : [])]);
  const rules = payload.earlyTerminate && deps.specFor ? await deps.specFor(sweepId) : undefined;
  const rungs = rules?.early_terminate ? new RungStore(deps.redis, deps.queuePrefix, sweepId) : undefined;
  let stopped: { epoch: number; reason: string } | undefined;

  const model = buildModel(modelParamsFromTrial(params, prepared.classes.length, payload.seed));
  let lastCancelCheck = 0;
  let lastProgress = 0;
  metrics?.running.inc();
  let history: EpochLog[] = [];
  let epochsTrained = 0;
  const resumes: ResumeRecord[] = [];
  try {
    if (timeoutSec) timer = setTimeout(() => timeout.abort(new Error('timeout')), timeoutSec * 1000);
    // Resume from the last completed epoch when an earlier attempt left a checkpoint.
    const ckpt = await loadCheckpoint(store, sweepId, trialId);
    let checkpointEpoch: number | undefined;
    if (ckpt && ckpt.state.seed === payload.seed && ckpt.state.epoch <= params.epochs) {
      await restoreCheckpoint(tf, model, ckpt);
      history = ckpt.state.history.slice(0, ckpt.state.epoch);
      epochsTrained = ckpt.state.epochsTrained;
      resumes.push(...ckpt.state.resumes, {
        attempt: base.attempt,
        worker: deps.workerId,
        fromEpoch: ckpt.state.epoch,
        at: new Date().toISOString(),
      });
      checkpointEpoch = ckpt.state.epoch;
      log.info({ fromEpoch: ckpt.state.epoch, savedBy: ckpt.state.worker }, 'resuming from checkpoint');
    } else {
      await store.putJson(layout.params(sweepId, trialId), { trialId, index: payload.index, seed: payload.seed, params });
    }
    const metricsLines = history.map((h) => JSON.stringify(h));
    const startEpoch = history.length;
    // A resumed trial re-reports its last epoch (idempotent in the rung store): a stop decided before the
    // previous worker died, or a rung it never got to report, is honoured now.
    const lastLog = history.at(-1);
    if (rungs && rules && lastLog && startEpoch < params.epochs) {
      const value = (lastLog as unknown as Record<string, number>)[payload.metric.name];
      if (typeof value === 'number' && Number.isFinite(value)) {
        const decision = await rungs.report(trialId, lastLog.epoch, value, rules);
        if (!decision.continue) stopped = { epoch: lastLog.epoch, reason: decision.reason ?? `stopped at rung ${decision.rung}` };
      }
    }
    log.info({ params, train: train.n, validation: validation.n, startEpoch, stopped }, 'training');
    const run = stopped ? { history: [] as EpochLog[], aborted: false } : await trainModel({
      model,
      train,
      validation,
      epochs: params.epochs,
      startEpoch,
      batchSize: params.batch_size,
      seed: payload.seed,
      signal,
      logger: log,
      onBatchEnd: async ({ epoch, batch, batches, loss }) => {
        const now = Date.now();
        if (now - lastCancelCheck > 1000) {
          lastCancelCheck = now;
          if (await deps.isCancelled(sweepId)) cancelled.abort(new Error('cancelled'));
        }
        if (now - lastProgress > 2000) {
          lastProgress = now;
          const progress: TrialProgress = { sweepId, trialId, epoch: epoch - 1, epochs: params.epochs, batch, batches, loss };
          await job.updateProgress(progress);
        }
      },
      onEpochEnd: async (e: EpochLog) => {
        // Write nothing once another worker owns the trial (this one stalled and lost its lock).
        if (!(await deps.trials.ownsLock(lease))) throw new LockLostError(trialId);
        metricsLines.push(JSON.stringify(e));
        history.push(e);
        epochsTrained += 1;
        metrics?.epochSeconds.observe(e.seconds);
        metrics?.samplesPerSec.set(e.samplesPerSec);
        const ckptTimer = metrics?.checkpointSeconds.startTimer();
        await saveCheckpoint(
          store,
          sweepId,
          trialId,
          model,
          { epoch: e.epoch, history, seed: payload.seed, epochsTrained, resumes, worker: deps.workerId, attempt: base.attempt },
          checkpointEpoch,
        );
        ckptTimer?.();
        checkpointEpoch = e.epoch;
        // After the checkpoint, so metrics.jsonl never has an epoch the checkpoint lacks.
        await store.put(layout.metrics(sweepId, trialId), `${metricsLines.join('\n')}\n`, 'application/x-ndjson');
        const progress: TrialProgress = {
          sweepId,
          trialId,
          epoch: e.epoch,
          epochs: params.epochs,
          loss: e.loss,
          val_loss: e.val_loss,
          val_accuracy: e.val_accuracy,
        };
        await job.updateProgress(progress);
        log.info(e, 'epoch done');
        if (rungs && rules && e.epoch < params.epochs) {
          const value = (e as unknown as Record<string, number>)[payload.metric.name];
          if (typeof value === 'number' && Number.isFinite(value)) {
            // Decided atomically in Redis, so concurrent workers never race on a rung.
            const decision = await rungs.report(trialId, e.epoch, value, rules);
            if (!decision.continue) {
              stopped = { epoch: e.epoch, reason: decision.reason ?? `stopped at rung ${decision.rung}` };
              log.info({ epoch: e.epoch, reason: stopped.reason }, 'early-terminated');
              earlyStop.abort(new Error('early terminated'));
            }
          }
        }
      },
    });

    // A trial told to stop at a rung is finished, even if a shutdown or timeout came right after.
    const aborted = run.aborted && !stopped;
    if (aborted && lockLost?.aborted) throw new LockLostError(trialId);
    if (aborted) {
      if (shutdown.aborted) throw new ShutdownInterrupt();
      const reason = timeout.signal.aborted ? 'timeout' : 'cancelled';
      const result = failedResult(base, payload, started, history, reason === 'timeout' ? TrialState.Failed : TrialState.Cancelled, reason,
        reason === 'timeout' ? `trial exceeded its timeout of ${timeoutSec} s` : 'sweep was cancelled');
      log.warn({ reason }, 'trial stopped');
      return await commitResult({ ...result, epochsTrained, resumes }, lease, deps);
    }

    const testMetrics = test.n > 0 ? await evaluate(model, test, params.batch_size) : null;
    const evaluation = await evaluateHeldOut(model, test.n > 0 ? test : validation, test.n > 0 ? 'test' : 'validation', prepared.classes);
    if (history.length < params.epochs && !stopped) {
      throw new Error(`training ended after ${history.length} of ${params.epochs} epochs without being stopped`);
    }
    // Claim before uploading the model, so an attempt that lost its lock overwrites no one's weights.
    const already = await deps.trials.claim(sweepId, trialId, lease);
    if (already) return already;
    const uploadTimer = metrics?.uploadSeconds.startTimer();
    const files = await serializeModel(model);
    await store.putJson(layout.modelJson(sweepId, trialId), files.modelJson);
    await store.put(layout.modelWeights(sweepId, trialId), files.weights);
    await store.putJson(
      layout.modelVocab(sweepId, trialId),
      trialVocabulary(prepared, { maxWords: params.max_words, maxLen: params.max_len }),
    );
    const final = history.at(-1) ?? null;
    const sps = run.history.length > 0 ? run.history.reduce((a, h) => a + h.samplesPerSec, 0) / run.history.length : null;
    const result: TrialResult = {
      ...base,
      state: stopped ? TrialState.Stopped : TrialState.Completed,
      ...(stopped ? { reason: 'early_terminated', stoppedAtEpoch: stopped.epoch, error: stopped.reason } : {}),
      metric: { ...payload.metric, value: final ? metricValue(final, payload.metric.name) : null },
      final,
      test: testMetrics,
      evaluation,
      epochs: history.length,
      epochsTrained,
      resumes,
      durationSec: (Date.now() - started) / 1000,
      samplesPerSec: sps,
      finishedAt: new Date().toISOString(),
    };
    const committed = await commitResult(result, lease, deps, { claimed: true });
    uploadTimer?.();
    log.info({ metric: result.metric, test: testMetrics, durationSec: result.durationSec, resumes: resumes.length }, 'trial completed');
    return committed;
  } catch (err) {
    if (err instanceof DivergedError) {
      const result = failedResult(base, payload, started, history, TrialState.Failed, 'diverged', err.message);
      await commitResult({ ...result, epochsTrained, resumes }, lease, deps);
      throw new UnrecoverableError(`diverged: ${err.message}`);
    }
    throw err;
  } finally {
    metrics?.running.dec();
    if (timer) clearTimeout(timer);
    // Optimizer slots (Adam moments) are variables of their own; the model does not own them.
    (model.optimizer as tf.Optimizer | undefined)?.dispose();
    model.dispose();
  }
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
async function evaluateHeldOut(
  model: tf.LayersModel,
  data: TrainData,
  split: Evaluation['split'],
  classes: string[],
): Promise<Evaluation> {
  const k = classes.length;
  const probs = await predictProbabilities(model, data.x, data.n, data.maxLen);
  const predicted = argmaxRows(probs, data.n, k);
  const confusion = confusionMatrix(data.y, predicted, k);
  const { accuracy, perClass } = classificationReport(confusion, classes);
  const samples = [];
  for (let i = 0; i < Math.min(SAMPLE_PREDICTIONS, data.n); i++) {
    samples.push({ index: i, label: data.y[i]!, probabilities: Array.from(probs.subarray(i * k, (i + 1) * k)) });
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
