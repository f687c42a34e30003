import { isCostMetric } from '@sweepq/sweep-config';
import type { CostMetricName, EpochLog, TrialParams } from '@sweepq/sweep-config';
import type { Evaluation } from './classification.js';

/** Final state of a trial. */
export const TrialState = {
  Completed: 'completed',
  /** Ended early by the sweep's early_terminate rule; keeps its metrics and weights. */
  Stopped: 'stopped',
  Failed: 'failed',
  Cancelled: 'cancelled',
} as const;
export type TrialState = (typeof TrialState)[keyof typeof TrialState];

/** One attempt at a trial: which worker ran it and when (see {@link TrialResult.attempts}). */
export interface AttemptRecord {
  /** BullMQ attempt number (1-based), as in {@link TrialResult.attempt}. */
  attempt: number;
  /** Worker id (`WORKER_ID`) that ran the attempt. */
  worker: string;
  /** ISO time the attempt started (the job was picked up). */
  startedAt: string;
  /** ISO time the attempt was last seen working: its last checkpoint, or its result; absent if never known. */
  endedAt?: string;
  /** Epochs already done when the attempt started: 0 for a fresh start, the checkpoint's epoch for a resume. */
  fromEpoch: number;
}

/** See {@link TrialResult.costs}. Keys: COST_METRIC_NAMES. */
export interface TrialCosts extends Record<CostMetricName, number> {
  /** Bytes of the saved model as `best/` would hold it: model.json + weights.bin + vocab.json. */
  model_bytes: number;
  /** Trainable parameters. */
  param_count: number;
  /** Median milliseconds to classify one text (tokenize + predict) on the worker that trained the model. */
  latency_ms: number;
}

/**
 * Content of `trials/<trialId>/result.json`, written last: the trial is finished once it holds one (not a
 * {@link ReopenedTrial}).
 */
export interface TrialResult {
  /**
   * The attempt that wrote this result: its outputs (the model) are under `trials/<trialId>/outputs/<attemptKey>/`.
   * Absent in results written before attempts had folders of their own (their model is in `model/`).
   */
  attemptKey?: string;
  sweepId: string;
  trialId: string;
  index: number;
  state: TrialState;
  /** Why a trial failed or stopped: `diverged`, `timeout`, `error`, `early_terminated`, … */
  reason?: string;
  /** For a stopped trial: the rung decision that stopped it. */
  stoppedAtEpoch?: number;
  error?: string;
  params: TrialParams;
  metric: { name: string; goal: 'maximize' | 'minimize'; value: number | null };
  /** The last epoch's metrics. */
  final: EpochLog | null;
  /**
   * What the trained model costs to ship and run (metric names in METRIC_NAMES): written by workers since several
   * objectives exist, for every trial that saved a model; absent in older results and for trials without one.
   */
  costs?: TrialCosts;
  /** Metrics on the held-out test split, when the dataset has one. */
  test: { loss: number; accuracy: number } | null;
  /** Confusion matrix and per-class metrics on the test split (validation when there is none). */
  evaluation?: Evaluation;
  epochs: number;
  /** Epochs actually trained across attempts (more than `epochs` only if partial epochs were lost and re-run). */
  epochsTrained?: number;
  /** Each time the trial resumed from a checkpoint after its worker died or shut down. */
  resumes?: { attempt: number; worker: string; fromEpoch: number; at: string }[];
  /**
   * Every attempt at this trial, oldest first, including the one that wrote this result (optional: workers before
   * this field existed do not write it, and the report then estimates earlier attempts from `resumes`). Carried
   * from attempt to attempt in the checkpoint, like `resumes`.
   */
  attempts?: AttemptRecord[];
  durationSec: number;
  samplesPerSec: number | null;
  backend: string;
  tfjsVersion: string;
  worker: string;
  attempt: number;
  finishedAt: string;
}

/**
 * What `result.json` holds after `sweepq retry` reopened a finished trial, until an attempt of the retry commits: the
 * trial is not finished. Retry replaces the result it retries by this record (compare-and-set), never deletes it, so
 * an attempt from before the retry, paused past its lock and woken later, finds the object changed and cannot commit
 * (see `TrialLifecycle`). No `state`: a reader that asks for one finds none. `index` and `params` as in the result.
 */
export interface ReopenedTrial {
  sweepId: string;
  trialId: string;
  index: number;
  params: TrialParams;
  reopened: {
    /** ISO time of the retry. */
    at: string;
    /** The result it replaced, kept under `trials/<trialId>/attempts/`. */
    previous: string;
    /** The sweep's owner epoch the retry took: only a newer owner writes a final result over this record. */
    epoch: number;
    /** Makes every reopened record's bytes (so its ETag) differ from any earlier one's. */
    nonce: string;
  };
}

/** Whether a `result.json`'s content is a {@link ReopenedTrial} (a trial `sweepq retry` reopened) rather than a result. */
export function isReopenedTrial(raw: unknown): raw is ReopenedTrial {
  return typeof raw === 'object' && raw !== null && typeof (raw as { reopened?: unknown }).reopened === 'object' && (raw as { reopened?: unknown }).reopened !== null;
}

/** A `result.json`'s content as a result: undefined when there is none or the trial was reopened ({@link ReopenedTrial}). */
export function committedResult<T extends object = TrialResult>(raw: T | ReopenedTrial | undefined): T | undefined {
  return raw === undefined || isReopenedTrial(raw) ? undefined : raw;
}


/**
 * A trial's value of one metric (a name in METRIC_NAMES): the sweep metric's recorded value when `name` is it, a
 * training metric from the last epoch, a cost from {@link TrialResult.costs}; null when the trial has none (failed,
 * no model saved, an older result) or it is not finite. The one place a result is read as objective values.
 */
export function metricValue(result: TrialResult, name: string): number | null {
  let v: number | null | undefined;
  if (name === result.metric.name) v = result.metric.value;
  else if (isCostMetric(name)) v = result.costs?.[name];
  else v = (result.final as unknown as Record<string, number> | null)?.[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** {@link metricValue} for each objective, in order (what Pareto fronts and the multi-objective sampler take). */
export function objectiveValues(result: TrialResult, objectives: readonly { name: string }[]): (number | null)[] {
  return objectives.map((o) => metricValue(result, o.name));
}
