export { runSweep, type SweepRunnerDeps, type SweepSummary } from './sweep-runner.js';
export { prepareSweepDataset } from './dataset-preparer.js';
export { loadCoordinatorEnv, type CoordinatorEnv } from './env.js';
export { runCoordinatorProcess, type CoordinatorHooks } from './coordinator-process.js';
export { CoordinatorInterrupt, PriorSweepError, PriorSweepErrorCode } from './errors.js';
