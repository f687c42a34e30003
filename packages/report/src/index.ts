export { writeSweepReport, ReportRefresher, type WriteReportOptions, type ReportRefresherOptions, type ReportSnapshot } from './write-report.js';
export { collectReportData, clearReportCache, type CollectOptions, type KnownTrials } from './collect.js';
export { renderReport, escapeHtml, jsonForScript } from './render.js';
export {
  buildReportData,
  describeParameters,
  isLogScaled,
  parseLearningCurve,
  roundSig,
  LOG_AXIS_MIN_RATIO,
  MAX_CATEGORY_VALUES,
  type ReportData,
  type ReportInputs,
  type ReportTrial,
  type ReportTrialState,
  type ReportParameter,
  type LearningCurve,
  type OptimizationHistory,
  type ReportAnalysis,
  optimizationHistory,
} from './report-data.js';
export { writeBestModel, writeFrontModels, frontTrial, architecture, USAGE_SNIPPET, type BestModelInfo, type BestModelOptions, type FrontModelsInfo, type FrontTrial, type Preprocessing } from './best-model.js';
export { chartLibrary } from './chart-library.js';
export { mapLimit } from './map-limit.js';
export { ReportError, ReportErrorCode } from './errors.js';
export {
  collectSweepIndex,
  renderSweepIndex,
  writeSweepIndex,
  formatMetric,
  formatTime,
  formatTrialCounts,
  type SweepIndex,
  type SweepIndexEntry,
  type SweepIndexOptions,
} from './sweep-index.js';
export { paretoData, OBJECTIVE_LOG_MIN_RATIO, type ReportPareto, type ReportObjective, type ParetoPair, type TrialObjectives } from './pareto-data.js';
export { pedAnovaImportance, type ImportanceResult, type ImportanceTrial, type ImportanceOptions } from './param-importance.js';
export { buildTimeline, UNKNOWN_WORKER, type Timeline, type TimelineSegment, type AttemptKind } from './trial-timeline.js';
