export { SpecError } from './errors.js';
export type { SpecIssue } from './errors.js';
export { addedLater, CELLS, DEFAULT_PARAMS, MODEL_FIELDS, OPTIMIZERS, PARAMETERS, PARAMETER_NAMES, PARAMETER_RULES, parameterTable, withDefaultParams } from './parameters.js';
export type {
  CellName,
  ModelFieldOf,
  ModelParameterName,
  OptimizerName,
  ParameterDefinition,
  ParameterName,
  ParameterRule,
  RuleValue,
  TrialParams,
} from './parameters.js';
export {
  BAYES_DEFAULTS,
  COST_METRIC_NAMES,
  defaultGoal,
  isCostMetric,
  DATASET_FORMATS,
  DEFAULT_MAX_IN_FLIGHT,
  EARLY_TERMINATE_DEFAULTS,
  EARLY_TERMINATE_TYPES,
  IGNORED_METRIC_KEYS,
  IGNORED_WANDB_KEYS,
  METHODS,
  METRIC_GOALS,
  METRIC_NAMES,
  PARAMETER_KINDS,
  STARTUP_DESIGNS,
  getParameter,
} from './types.js';
export type {
  BayesSpec,
  BestRule,
  CostMetricName,
  ConditionClause,
  DatasetFormat,
  DatasetSpec,
  EarlyTerminateSpec,
  EarlyTerminateType,
  IgnoredMetricKey,
  IgnoredWandbKey,
  IgnoredWandbKeys,
  MetricGoal,
  MetricName,
  MetricSpec,
  ParamValue,
  ParameterCondition,
  ParameterKind,
  ParameterSpec,
  SearchMethod,
  StartupDesign,
  SweepSpec,
} from './types.js';
export { BUILTIN_DATASETS, DEFAULT_DATASET_URI, formatFromExtension } from './dataset.js';
export { DEFAULT_MAX_SPEC_BYTES, MAX_YAML_ALIASES, parseSpec } from './parse.js';
export type { ParseSpecOptions } from './parse.js';
export { MAX_TRIALS, validateSpec } from './validate.js';
export { MAX_OBJECTIVES, MIN_OBJECTIVES, describeBestRule, paretoObjectives } from './objectives.js';
export { canonicalJson, specHash } from './spec-hash.js';
export { specToConfig } from './to-config.js';
export { activeParameters, applyConditions, clauseHolds, parameterApplies } from './conditions.js';
export { maxEpochs, rungEpochs } from './adaptive.js';
export { dominates, paretoFront, paretoRanks } from './pareto.js';
export type { ObjectiveValues } from './pareto.js';
export { gridSize } from './grid-size.js';
export { enumerateParameter, countParameter } from './enumerate.js';
export { LOG_UNIFORM_KINDS, QUANTIZED_KINDS, isLogUniform, isQuantized, logUniformBounds, nearestMultiple, quantizedRange } from './distributions.js';
export type { LogUniformKind, QuantizedKind } from './distributions.js';
export { metricTargetReached } from './metric-target.js';
export type { EpochLog } from './epoch-log.js';
export { specNotices } from './notices.js';
export { createRng } from './prng.js';
export type { Rng } from './prng.js';
export { firstMultiple, lastMultiple, multiple } from './quantize.js';
export { outsideSpace, parameterContains } from './space.js';
export { paramsKey } from './params-key.js';
