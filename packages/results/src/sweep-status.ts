import { paretoObjectives, type BestRule, type SweepSpec } from '@sweepq/sweep-config';
import type { Objective } from './best-rule.js';

/** Lifecycle of a sweep as recorded in `sweeps/<id>/sweep.json`. */
export const SweepState = {
  Queued: 'queued',
  Preparing: 'preparing',
  Running: 'running',
  Completed: 'completed',
  Failed: 'failed',
  Cancelled: 'cancelled',
} as const;
export type SweepState = (typeof SweepState)[keyof typeof SweepState];

/** True for states a sweep never leaves. */
export const isFinalSweepState = (s: SweepState): boolean =>
  s === SweepState.Completed || s === SweepState.Failed || s === SweepState.Cancelled;

/** See {@link SweepRecord.preparation}. */
export interface PreparationProgress {
  phase: 'read' | 'encode' | 'shard' | 'done';
  /** Rows read from the source so far. */
  rows: number;
  /** Bytes of the source read so far, as stored (compressed for a gzip file). */
  bytes: number;
  /** Average over the preparation so far: source megabytes (10^6 bytes) per second. */
  mbPerSec: number;
  /** Seconds since the preparation started. */
  seconds: number;
  at: string;
}

/** Content of `sweeps/<id>/sweep.json`. */
export interface SweepRecord {
  sweepId: string;
  name?: string;
  state: SweepState;
  method?: string;
  metric?: { name: string; goal: 'maximize' | 'minimize' };
  specHash?: string;
  /** The resolved spec (defaults filled in). */
  spec?: unknown;
  dataset?: {
    uri: string;
    key: string;
    hash: string;
    classes: string[];
    rows: number;
    classCounts: Record<string, number>;
    sizes: { train: number; validation: number; test: number };
    vocabulary: number;
    majorityRate: number;
  };
  /**
   * Progress of the dataset's preparation, written by the coordinator every few seconds while it prepares (`phase`
   * `read` then `encode`, then `shard`), and `done` with the totals once prepared.
   */
  preparation?: PreparationProgress;
  trials?: { total: number; completed: number; stopped: number; failed: number; cancelled: number; running: number; queued: number };
  /**
   * The sweep's best trial and its metric's value; with several objectives, the `best:` rule's pick, or without a rule
   * the front trial best by the first objective (the leaderboard's first row, what `predict` uses by default), with
   * `values`: its value of each objective.
   */
  best?: { trialId: string; value: number | null; values?: (number | null)[] };
  /** With several objectives, once finished: the Pareto front's trials in leaderboard order, and the `best:` rule's pick. */
  front?: { trialIds: string[]; pick?: string | null };
  /** Each `sweepq retry`: when, and which trials. */
  retries?: { at: string; trials: string[] }[];
  /** Each rebuild from the bucket after Redis lost the sweep's queue state (`sweepq resume`, or automatic). */
  recoveries?: { at: string; reason: string }[];
  /** `run_cap` as raised by `sweepq extend` (spec.yaml stays as submitted); each extension, when and from what. */
  runCap?: number;
  extensions?: { at: string; from: number; runCap: number }[];
  /** Set by `sweepq cancel`: kept in the bucket so a sweep rebuilt after a Redis loss stays cancelled. */
  cancelRequestedAt?: string;
  /** Why a finished sweep ended, in words (e.g. the metric target was reached). */
  endReason?: string;
  error?: string;
  /**
   * Fencing: bumped by whoever takes the sweep (a coordinator running it, recovery, retry, extend, a CLI finishing a
   * sweep nobody follows); every write of an owner is a compare-and-set that requires its own epoch here.
   */
  epoch?: number;
  /** Who took the sweep at `epoch`. */
  owner?: string;
  /** Id of the write that produced this version of the record (tells a writer whose response was lost that it landed). */
  writeId?: string;
  submittedAt: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
}

/**
 * The objectives and `best:` rule of a sweep with several objectives, from the resolved spec its coordinator wrote
 * into sweep.json; empty for a single metric (or a sweep no coordinator has read yet).
 */
export function sweepObjectives(record: Pick<SweepRecord, 'spec'>): { objectives?: Objective[]; best?: BestRule } {
  const spec = record.spec as Partial<Pick<SweepSpec, 'objectives' | 'best'>> | undefined;
  const objectives = paretoObjectives(Array.isArray(spec?.objectives) ? spec.objectives : undefined);
  return objectives ? { objectives, ...(spec?.best ? { best: spec.best } : {}) } : {};
}
