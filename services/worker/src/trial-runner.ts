import { UnrecoverableError, type Job } from 'bullmq';
import { encodeForTrial, trialVocabulary } from '@sweepq/data';
import {
  DivergedError,
  buildModel,
  evaluate,
  predictProbabilities,
  serializeModel,
  trainModel,
  type tf,
  type EpochLog,
  type TrainData,
} from '@sweepq/model';
import { QueueName, parsePayload, trialJobSchema, type TrialJob, type TrialProgress } from '@sweepq/queue';
import type { Logger } from '@sweepq/runtime';
import { layout, type ArtifactStore } from '@sweepq/storage';
import type { DatasetCache } from './dataset-cache.js';
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
}

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
export async function runTrial(job: Job, deps: TrialRunnerDeps, shutdown: AbortSignal): Promise<TrialResult> {
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

  const existing = await store.getJson<TrialResult>(layout.result(sweepId, trialId));
  if (existing) {
    log.info({ state: existing.state }, 'trial already has a result; not training it again');
    return existing;
  }
  const started = Date.now();
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
  const timer = timeoutSec ? setTimeout(() => timeout.abort(new Error('timeout')), timeoutSec * 1000) : undefined;
  const cancelled = new AbortController();
  const signal = AbortSignal.any([shutdown, timeout.signal, cancelled.signal]);

  const model = buildModel({
    maxWords: params.max_words,
    maxLen: params.max_len,
    embeddingDim: params.embedding_dim,
    lstmUnits: params.lstm_units,
    dropout: params.dropout,
    recurrentDropout: params.recurrent_dropout,
    learningRate: params.learning_rate,
    optimizer: params.optimizer,
    numClasses: prepared.classes.length,
    seed: payload.seed,
  });
  const metricsLines: string[] = [];
  let lastCancelCheck = 0;
  let lastProgress = 0;
  try {
    await store.putJson(layout.params(sweepId, trialId), { trialId, index: payload.index, seed: payload.seed, params });
    log.info({ params, train: train.n, validation: validation.n }, 'training');
    const { history, aborted } = await trainModel({
      model,
      train,
      validation,
      epochs: params.epochs,
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
        metricsLines.push(JSON.stringify(e));
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
      },
    });

    if (aborted) {
      if (shutdown.aborted) throw new ShutdownInterrupt();
      const reason = timeout.signal.aborted ? 'timeout' : 'cancelled';
      const result = failedResult(base, payload, started, history, reason === 'timeout' ? TrialState.Failed : TrialState.Cancelled, reason,
        reason === 'timeout' ? `trial exceeded its timeout of ${timeoutSec} s` : 'sweep was cancelled');
      await store.putJson(layout.result(sweepId, trialId), result);
      log.warn({ reason }, 'trial stopped');
      return result;
    }

    const testMetrics = test.n > 0 ? await evaluate(model, test, params.batch_size) : null;
    const evaluation = await evaluateHeldOut(model, test.n > 0 ? test : validation, test.n > 0 ? 'test' : 'validation', prepared.classes);
    const files = await serializeModel(model);
    await store.putJson(layout.modelJson(sweepId, trialId), files.modelJson);
    await store.put(layout.modelWeights(sweepId, trialId), files.weights);
    await store.putJson(
      layout.modelVocab(sweepId, trialId),
      trialVocabulary(prepared, { maxWords: params.max_words, maxLen: params.max_len }),
    );
    const final = history.at(-1) ?? null;
    const sps = history.length > 0 ? history.reduce((a, h) => a + h.samplesPerSec, 0) / history.length : null;
    const result: TrialResult = {
      ...base,
      state: TrialState.Completed,
      metric: { ...payload.metric, value: final ? metricValue(final, payload.metric.name) : null },
      final,
      test: testMetrics,
      evaluation,
      epochs: history.length,
      durationSec: (Date.now() - started) / 1000,
      samplesPerSec: sps,
      finishedAt: new Date().toISOString(),
    };
    await store.putJson(layout.result(sweepId, trialId), result);
    log.info({ metric: result.metric, test: testMetrics, durationSec: result.durationSec }, 'trial completed');
    return result;
  } catch (err) {
    if (err instanceof DivergedError) {
      const result = failedResult(base, payload, started, [], TrialState.Failed, 'diverged', err.message);
      await store.putJson(layout.result(sweepId, trialId), result);
      throw new UnrecoverableError(`diverged: ${err.message}`);
    }
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
    // Optimizer slots (Adam moments) are variables of their own; the model does not own them.
    (model.optimizer as tf.Optimizer | undefined)?.dispose();
    model.dispose();
  }
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
