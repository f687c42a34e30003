export { TrialState, metricValue, objectiveValues, type TrialResult, type TrialCosts, type AttemptRecord } from './trial-result.js';
export { SweepState, isFinalSweepState, type SweepRecord, type PreparationProgress } from './sweep-status.js';
export { buildLeaderboard, formatSignificant, leaderboardCsv, leaderboardTable, type Leaderboard, type LeaderboardRow } from './leaderboard.js';
export { confusionMatrix, classificationReport, argmaxRows, type ClassMetrics, type Evaluation } from './classification.js';
