export { runTrial, type TrialRunnerDeps, type TrialTrainer, type TrialBase } from './trial-runner.js';
export { runWorkerProcess, type WorkerHooks } from './worker-process.js';
export { DatasetCache } from './dataset-cache.js';
export { loadWorkerEnv, type WorkerEnv } from './env.js';
export { ShutdownInterrupt } from './errors.js';
