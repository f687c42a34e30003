export { SpecError } from './errors.js';
export type { SpecIssue } from './errors.js';
export { DEFAULT_PARAMS, OPTIMIZERS, PARAMETER_NAMES, PARAMETER_RULES } from './parameters.js';
export type { OptimizerName, ParameterName, ParameterRule, TrialParams } from './parameters.js';
export {
  DATASET_FORMATS,
  IGNORED_WANDB_KEYS,
  METHODS,
  METRIC_GOALS,
  METRIC_NAMES,
  PARAMETER_KINDS,
  getParameter,
} from './types.js';
export type {
  DatasetFormat,
  DatasetSpec,
  EarlyTerminateSpec,
  IgnoredWandbKey,
  MetricGoal,
  MetricName,
  MetricSpec,
  ParamValue,
  ParameterKind,
  ParameterSpec,
  SearchMethod,
  SweepSpec,
} from './types.js';
export { DEFAULT_DATASET_URI } from './dataset.js';
export { DEFAULT_MAX_SPEC_BYTES, MAX_YAML_ALIASES, parseSpec } from './parse.js';
export type { ParseSpecOptions } from './parse.js';
export { MAX_TRIALS, defaultGoal, validateSpec } from './validate.js';
export { planTrials, trialId } from './plan.js';
export type { PlannedTrial } from './plan.js';
export { canonicalJson, specHash } from './spec-hash.js';
export { specToConfig } from './to-config.js';
