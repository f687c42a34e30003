import type { ParameterName } from './parameters.js';

/** Search methods sweepq runs today. `bayes` is recognised and rejected as not supported yet. */
export const METHODS = ['grid', 'random'] as const;
export type SearchMethod = (typeof METHODS)[number];

/** Metrics a trial reports and a sweep can optimise. */
export const METRIC_NAMES = ['val_accuracy', 'val_loss', 'accuracy', 'loss'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export const METRIC_GOALS = ['maximize', 'minimize'] as const;
export type MetricGoal = (typeof METRIC_GOALS)[number];

export interface MetricSpec {
  name: MetricName;
  goal: MetricGoal;
}

/** Dataset file formats; `.ndjson` files are read as `jsonl`. */
export const DATASET_FORMATS = ['csv', 'tsv', 'jsonl'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Where the training data comes from and how it is split. */
export interface DatasetSpec {
  /** `builtin:<name>`, `s3://bucket/key`, `file:///abs/path` or a plain local path. Default `builtin:spam-assassin`. */
  uri: string;
  /** File format; inferred from the extension (.csv, .tsv, .jsonl, .ndjson) for files, absent for builtins. */
  format?: DatasetFormat;
  /** Column/field holding the text. Default `text`. */
  text_field: string;
  /** Column/field holding the label. Default `label`. */
  label_field: string;
  /** Fraction held out for validation, in [0, 1). Default 0.2. */
  validation_split: number;
  /** Fraction held out for the final test, in [0, 1). Default 0.1. validation_split + test_split < 1. */
  test_split: number;
  /** Seed of the split shuffle. Default 42. */
  seed: number;
  /** Use at most this many rows (positive integer). */
  max_rows?: number;
}

/** Scalar a parameter can take: numbers for numeric parameters, strings for `optimizer`. */
export type ParamValue = number | string;

/** Parameter kinds after normalisation; the names are W&B's `distribution` names. */
export const PARAMETER_KINDS = [
  'constant',
  'categorical',
  'int_uniform',
  'uniform',
  'q_uniform',
  'log_uniform_values',
  'q_log_uniform_values',
  'normal',
  'log_normal',
] as const;
export type ParameterKind = (typeof PARAMETER_KINDS)[number];

/**
 * One parameter after normalisation. Sampling semantics (random search):
 * - `int_uniform`: integers in [min, max], both ends included.
 * - `uniform`: [min, max).
 * - `q_uniform`: round(uniform(min, max) / q) * q, kept inside [min, max] (unlike W&B, never a multiple outside the range).
 * - `log_uniform_values`: exp(uniform(ln min, ln max)); min and max are the actual values (> 0).
 * - `q_log_uniform_values`: the log-uniform draw rounded to a multiple of q, kept inside [min, max].
 * - `normal`: N(mu, sigma); `log_normal`: exp(N(mu, sigma)).
 * - `categorical`: one of `values`, weighted by `probabilities` when given (ignored by grid search).
 */
export type ParameterSpec =
  | { kind: 'constant'; value: ParamValue }
  | { kind: 'categorical'; values: ParamValue[]; probabilities?: number[] }
  | { kind: 'int_uniform'; min: number; max: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'q_uniform'; min: number; max: number; q: number }
  | { kind: 'log_uniform_values'; min: number; max: number }
  | { kind: 'q_log_uniform_values'; min: number; max: number; q: number }
  | { kind: 'normal'; mu: number; sigma: number }
  | { kind: 'log_normal'; mu: number; sigma: number };

/** W&B early termination block, stored as written for a later scheduler; not acted on yet. */
export interface EarlyTerminateSpec {
  type: string;
  [key: string]: unknown;
}

/** W&B keys sweepq accepts so existing files load, but does not use (the program and where results go are fixed). */
export const IGNORED_WANDB_KEYS = ['program', 'command', 'project', 'entity'] as const;
export type IgnoredWandbKey = (typeof IGNORED_WANDB_KEYS)[number];

/** A validated sweep spec with defaults applied. */
export interface SweepSpec {
  /** Free text, at most 200 characters. */
  name?: string;
  description?: string;
  method: SearchMethod;
  metric: MetricSpec;
  /** Parameters the spec mentions, in the order written (grid order). Keys are always {@link ParameterName}s; unlisted ones use DEFAULT_PARAMS. */
  parameters: Record<string, ParameterSpec>;
  /** Maximum number of trials; required for random search. */
  run_cap?: number;
  /** Seed for random search. Default 0. */
  seed: number;
  dataset: DatasetSpec;
  /** Seconds one trial may run before it is failed. */
  trial_timeout?: number;
  early_terminate?: EarlyTerminateSpec;
  /** Accepted-but-unused W&B keys with their values as written, so tools can warn and round-trip the file. */
  ignored?: Partial<Record<IgnoredWandbKey, unknown>>;
}

/** Helper for code that wants typed access to a spec's parameters. */
export function getParameter(spec: SweepSpec, name: ParameterName): ParameterSpec | undefined {
  return Object.hasOwn(spec.parameters, name) ? spec.parameters[name] : undefined;
}
