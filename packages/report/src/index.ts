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
} from './report-data.js';
export { writeBestModel, USAGE_SNIPPET, type BestModelInfo, type Preprocessing } from './best-model.js';
export { chartLibrary } from './chart-library.js';
export { ReportError, ReportErrorCode } from './errors.js';
