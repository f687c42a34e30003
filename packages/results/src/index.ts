export { TrialState, committedResult, isReopenedTrial, metricValue, objectiveValues, type ReopenedTrial, type TrialResult, type TrialCosts, type AttemptRecord } from './trial-result.js';
export { SweepState, isFinalSweepState, sweepObjectives, type SweepRecord, type PreparationProgress } from './sweep-status.js';
export { buildLeaderboard, formatSignificant, frontSummary, leaderboardCsv, leaderboardTable, type Leaderboard, type LeaderboardOptions, type LeaderboardRow } from './leaderboard.js';
export { goalOf, pickByRule, type Objective } from './best-rule.js';
export { confusionMatrix, classificationReport, argmaxRows, type ClassMetrics, type Evaluation } from './classification.js';
