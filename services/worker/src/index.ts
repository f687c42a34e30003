export { runTrial, ShutdownInterrupt, type TrialRunnerDeps } from './trial-runner.js';
export { DatasetCache } from './dataset-cache.js';
export { loadWorkerEnv, type WorkerEnv } from './env.js';
