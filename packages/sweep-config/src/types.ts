import type { ParameterName } from './parameters.js';

/** Search methods: `grid` and `random` are planned up front; `bayes` proposes trials one at a time (TPE, `@sweepq/search`). */
export const METHODS = ['grid', 'random', 'bayes'] as const;
export type SearchMethod = (typeof METHODS)[number];

/**
 * Metrics a trial reports and a sweep can optimise: the last epoch's training and validation figures, and what the
 * trained model costs to ship and run (`model_bytes`: model.json + weights + vocab.json as saved; `param_count`:
 * trainable parameters; `latency_ms`: median time to classify one text on the worker that trained it).
 */
export const METRIC_NAMES = ['val_accuracy', 'val_loss', 'accuracy', 'loss', 'model_bytes', 'param_count', 'latency_ms'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/**
 * The metrics of {@link METRIC_NAMES} measured on the trained model once training ends (a result's `costs`), not per
 * epoch: nothing ranks a trial by them while it trains.
 */
export const COST_METRIC_NAMES = ['model_bytes', 'param_count', 'latency_ms'] as const satisfies readonly MetricName[];
export type CostMetricName = (typeof COST_METRIC_NAMES)[number];

/**
 * Goal for a metric when the spec gives none. W&B defaults to `minimize` for every metric, which is wrong for
 * accuracy; sweepq infers it from the name instead: `*accuracy` maximizes, every other metric (losses, costs) minimizes.
 */
export function defaultGoal(name: MetricName): MetricGoal {
  return name.endsWith('accuracy') ? 'maximize' : 'minimize';
}

/** Whether a metric is a cost (measured once training ends, from the saved model) rather than a training metric. */
export function isCostMetric(name: string): name is CostMetricName {
  return (COST_METRIC_NAMES as readonly string[]).includes(name);
}

export const METRIC_GOALS = ['maximize', 'minimize'] as const;
export type MetricGoal = (typeof METRIC_GOALS)[number];

export interface MetricSpec {
  name: MetricName;
  goal: MetricGoal;
  /**
   * W&B `metric.target`: once a trial reaches it (maximize: value >= target, minimize: value <= target, see
   * `metricTargetReached`), no new trials start, running ones finish, and the sweep completes.
   */
  target?: number;
}

/**
 * `best:` with several objectives: among the Pareto front's trials within `within[m]` (absolute) of the front's best
 * value of each metric m named there, the one best by `pick`'s goal (ties: lower trial index). For example
 * `{pick: model_bytes, within: {val_accuracy: 0.005}}`: the smallest model within half a point of the best accuracy.
 */
export interface BestRule {
  pick: MetricName;
  within?: Partial<Record<MetricName, number>>;
}

/** Dataset file formats; `.ndjson` files are read as `jsonl`. */
export const DATASET_FORMATS = ['csv', 'tsv', 'jsonl'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Where the training data comes from, how it is read and how it is split. docs/datasets.md. */
export interface DatasetSpec {
  /** `builtin:<name>`, `s3://bucket/key`, `file:///abs/path` or a plain local path. Default `builtin:spam-assassin`. */
  uri: string;
  /**
   * File format; from the extension (.csv, .tsv/.tab, .jsonl/.ndjson, each optionally .gz) when it names one,
   * else absent and the reader tells it from the content. Never set for builtins.
   */
  format?: DatasetFormat;
  /** CSV/TSV: whether the first row is a header. Absent: detected (see docs/datasets.md). */
  header?: boolean;
  /**
   * Column holding the text: a header name or a 0-based column index (CSV/TSV), a field name (JSONL).
   * Default `text`; when no column has that name, the text column of a two-column table is inferred.
   */
  text_field: string | number;
  /** Column holding the label, like {@link DatasetSpec.text_field}. Default `label`, inferred likewise. */
  label_field: string | number;
  /** Fraction held out for validation, in [0, 1). Default 0.2. */
  validation_split: number;
  /** Fraction held out for the final test, in [0, 1). Default 0.1. validation_split + test_split < 1. */
  test_split: number;
  /** Seed of the split shuffle. Default 42. */
  seed: number;
  /** Use at most this many rows (positive integer). */
  max_rows?: number;
}

/** Scalar a parameter can take: numbers for numeric parameters, strings for enums (`optimizer`, `cell`), booleans for flags. */
export type ParamValue = number | string | boolean;

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
  'log_uniform',
  'q_log_uniform',
  'inv_log_uniform',
  'inv_log_uniform_values',
  'q_normal',
  'q_log_normal',
  'beta',
  'q_beta',
] as const;
export type ParameterKind = (typeof PARAMETER_KINDS)[number];

/**
 * One parameter after normalisation. Sampling semantics (random search; W&B's, except where marked):
 * - `int_uniform`: integers in [min, max], both ends included.
 * - `uniform`: [min, max).
 * - `q_uniform`: round(uniform(min, max) / q) * q, kept inside [min, max] (unlike W&B, never a multiple outside the range).
 * - `log_uniform_values`: exp(uniform(ln min, ln max)); min and max are the actual values (> 0).
 * - `log_uniform`: exp(uniform(min, max)); min and max are natural-log exponents, so values lie in [e^min, e^max).
 * - `inv_log_uniform`: 1 / exp(uniform(min, max)) (min, max exponents), values in [e^-max, e^-min]. The reciprocal of
 *   a log-uniform value is log-uniform, so this is log-uniform on those bounds.
 * - `inv_log_uniform_values`: 1 / X for X log-uniform on [1/max, 1/min]: again log-uniform on [min, max] (W&B's own
 *   sampler reduces it to the same formula).
 * - `q_log_uniform_values` / `q_log_uniform`: the log-uniform draw rounded to a multiple of q, kept inside its bounds.
 * - `normal`: N(mu, sigma); `log_normal`: exp(N(mu, sigma)); mu defaults to 0, sigma to 1.
 * - `q_normal`: round(N(mu, sigma) / q) * q. `q_log_normal`: round(exp(N(mu, sigma)) / q) * q, at least q (W&B can
 *   round to 0, outside the log-normal's support).
 * - `beta`: Beta(a, b) on (0, 1); a and b default to 1. `q_beta`: the beta draw rounded to a multiple of q strictly
 *   inside (0, 1) (W&B can return 0 or 1). q defaults to 1 for every q_ kind (q_beta needs q < 1).
 * - `categorical`: one of `values`, weighted by `probabilities` when given (ignored by grid search).
 */
export type ParameterSpec = (
  | { kind: 'constant'; value: ParamValue }
  | { kind: 'categorical'; values: ParamValue[]; probabilities?: number[] }
  | { kind: 'int_uniform'; min: number; max: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'q_uniform'; min: number; max: number; q: number }
  | { kind: 'log_uniform_values'; min: number; max: number }
  | { kind: 'q_log_uniform_values'; min: number; max: number; q: number }
  | { kind: 'normal'; mu: number; sigma: number }
  | { kind: 'log_normal'; mu: number; sigma: number }
  | { kind: 'log_uniform'; min: number; max: number }
  | { kind: 'q_log_uniform'; min: number; max: number; q: number }
  | { kind: 'inv_log_uniform'; min: number; max: number }
  | { kind: 'inv_log_uniform_values'; min: number; max: number }
  | { kind: 'q_normal'; mu: number; sigma: number; q: number }
  | { kind: 'q_log_normal'; mu: number; sigma: number; q: number }
  | { kind: 'beta'; a: number; b: number }
  | { kind: 'q_beta'; a: number; b: number; q: number }
) & {
  /** sweepq extension: the parameter applies only when this holds; otherwise it takes its DEFAULT_PARAMS value. */
  condition?: ParameterCondition;
};

/**
 * One clause of a {@link ParameterCondition}: the referenced parameter's value is one of `values`
 * (`value: x` in YAML is normalised to `values: [x]`), or a number in `[min, max]` (either bound may be left out;
 * both are inclusive).
 */
export type ConditionClause = { values: ParamValue[] } | { min?: number; max?: number };

/**
 * When a conditional parameter applies (sweepq extension; W&B has none): every clause holds and every parameter it
 * names is itself active. Keys are {@link ParameterName}s written *above* the conditional parameter under
 * `parameters:` (so conditions read like nested ifs, and cycles cannot be written).
 *
 * ```yaml
 * recurrent_dropout:
 *   distribution: uniform
 *   min: 0.0
 *   max: 0.5
 *   condition: {lstm_units: {min: 64}}          # or {optimizer: {values: [sgd]}}, {optimizer: {value: sgd}}
 * ```
 */
export type ParameterCondition = Record<string, ConditionClause>;

/** Early-termination rules: W&B's `hyperband` (run as asynchronous successive halving) and sweepq's `median`. */
export const EARLY_TERMINATE_TYPES = ['hyperband', 'median'] as const;
export type EarlyTerminateType = (typeof EARLY_TERMINATE_TYPES)[number];

/**
 * W&B `early_terminate`, validated and kept as written (defaults are not filled in; see {@link EARLY_TERMINATE_DEFAULTS}).
 * - `hyperband`: rungs at `min_iter * eta^k` epochs (k = 0, 1, …), or — W&B's other form — at `floor(max_iter / eta^k)`
 *   for k = s … 1 (fractional rungs rounded down, as W&B does; eta is a number > 1). At each rung a trial continues
 *   only if it ranks in the top 1/eta of the values seen at that rung. `strict` (W&B's default true) ranks the metric
 *   at the rung epoch; `strict: false` ranks each trial's best value up to the rung instead (W&B's conservative
 *   condition, which stops fewer trials).
 * - `median`: from epoch `min_iter` on, a trial stops when its best metric so far is worse than the median of the
 *   other trials' best-so-far at the same epoch, once `warmup_trials` others have reported that epoch.
 * Rungs at or after a trial's last epoch never stop anything.
 */
export type EarlyTerminateSpec =
  | { type: 'hyperband'; min_iter?: number; max_iter?: number; s?: number; eta?: number; strict?: boolean }
  | { type: 'median'; min_iter?: number; warmup_trials?: number };

/** Defaults of {@link EarlyTerminateSpec} fields. */
export const EARLY_TERMINATE_DEFAULTS = Object.freeze({ eta: 3, strict: true, median_min_iter: 1, warmup_trials: 5 });

/** Options of `method: bayes` (Tree-structured Parzen Estimator); every field optional, see {@link BAYES_DEFAULTS}. */
export interface BayesSpec {
  /** Trials drawn at random before the model takes over. Default 10. */
  n_startup_trials?: number;
  /** Candidates drawn from the good-trial density per proposal; the one with the best l(x)/g(x) wins. Default 24. */
  n_ei_candidates?: number;
  /** Fraction of finished trials that form the "good" density l(x). Default 0.25. */
  gamma?: number;
  /**
   * Model the parameters jointly (one product kernel per trial, as BOHB and Optuna's `multivariate=True` do) rather
   * than each on its own, so interactions such as "sgd wants a large learning rate" are learnt. Default false (the classic
   * per-parameter TPE, so sweeps started before this option propose the same trials).
   */
  multivariate?: boolean;
  /**
   * How the start-up trials are drawn: `random` (each an independent draw, exactly random search's trial of the same
   * index) or `latin_hypercube` (each parameter's n_startup_trials draws spread over as many equal-probability strata,
   * in a seeded random order, so the first trials cover every parameter's range instead of clustering by chance).
   * Default `random`, so sweeps started before this option propose the same trials.
   */
  startup_design?: StartupDesign;
}

/** Values of `bayes.startup_design`. */
export const STARTUP_DESIGNS = ['random', 'latin_hypercube'] as const;
export type StartupDesign = (typeof STARTUP_DESIGNS)[number];

/** Defaults of {@link BayesSpec}. */
export const BAYES_DEFAULTS = Object.freeze({ n_startup_trials: 10, n_ei_candidates: 24, gamma: 0.25, multivariate: false, startup_design: 'random' as StartupDesign });

/** Trials in flight for adaptive methods when `max_in_flight` is not given: 8, or run_cap when smaller. */
export const DEFAULT_MAX_IN_FLIGHT = 8;

/**
 * W&B top-level keys sweepq accepts so existing files load, but does not use: sweepq trains its own model (no
 * `program`, `command`, `job` or `image_uri` to run), keeps results in its own bucket (no `project`/`entity`), and runs
 * its own coordinator (no `controller`, `scheduler`); `apiVersion` and `kind` only label the file.
 */
export const IGNORED_WANDB_KEYS = ['program', 'command', 'project', 'entity', 'controller', 'job', 'image_uri', 'scheduler', 'apiVersion', 'kind'] as const;
export type IgnoredWandbKey = (typeof IGNORED_WANDB_KEYS)[number];

/**
 * W&B `metric` keys sweepq accepts but does not act on: `impute` (the value bayes search gives failed runs; sweepq
 * always ranks failed trials below every other, W&B's `worst`) and `impute_while_running` (sweepq's TPE treats running
 * trials as pending configurations with the worst value instead).
 */
export const IGNORED_METRIC_KEYS = ['impute', 'impute_while_running'] as const;
export type IgnoredMetricKey = (typeof IGNORED_METRIC_KEYS)[number];

/** Accepted-but-unused W&B keys of a spec, as written: top-level ones, and `metric` ones under `metric`. */
export type IgnoredWandbKeys = Partial<Record<IgnoredWandbKey, unknown>> & { metric?: Partial<Record<IgnoredMetricKey, string | boolean>> };

/** A validated sweep spec with defaults applied. */
export interface SweepSpec {
  /** Free text, at most 200 characters. */
  name?: string;
  description?: string;
  method: SearchMethod;
  /** The metric, or with several objectives the first of {@link SweepSpec.objectives} (what rungs and `target` use). */
  metric: MetricSpec;
  /**
   * Several objectives (`metric:` written as a list of 2-4 mappings): every objective in the order written, the first
   * equal to `metric`. Absent for a single metric, so a single-metric spec resolves exactly as before.
   */
  objectives?: MetricSpec[];
  /** sweepq key (several objectives only): which trial of the Pareto front `best/` holds; absent, every front trial. */
  best?: BestRule;
  /** Parameters the spec mentions, in the order written (grid order). Keys are always {@link ParameterName}s; unlisted ones use DEFAULT_PARAMS. */
  parameters: Record<string, ParameterSpec>;
  /** Maximum number of trials; required for random and bayes search. */
  run_cap?: number;
  /** sweepq key (bayes): earlier sweeps whose results warm-start the TPE (their trials inside this sweep's space). */
  prior_sweeps?: string[];
  /**
   * Set by `sweepq extend` on the resolved spec, never written by users: the run_cap before the extension. Random
   * trials from this index on never repeat a configuration planned before them.
   */
  no_repeats_from?: number;
  /** Options of `method: bayes` (only allowed with it), as written. */
  bayes?: BayesSpec;
  /** sweepq key: trials running at once for adaptive search (bayes), which proposes a new trial as one finishes. Default {@link DEFAULT_MAX_IN_FLIGHT} capped at run_cap. Grid and random enqueue every trial up front. */
  max_in_flight?: number;
  /** Seed for random search. Default 0. */
  seed: number;
  dataset: DatasetSpec;
  /** Seconds one trial may run before it is failed. */
  trial_timeout?: number;
  early_terminate?: EarlyTerminateSpec;
  /** Accepted-but-unused W&B keys with their values as written, so tools can warn and round-trip the file. */
  ignored?: IgnoredWandbKeys;
}

/** Helper for code that wants typed access to a spec's parameters. */
export function getParameter(spec: SweepSpec, name: ParameterName): ParameterSpec | undefined {
  return Object.hasOwn(spec.parameters, name) ? spec.parameters[name] : undefined;
}
