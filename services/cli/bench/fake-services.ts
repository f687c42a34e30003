#!/usr/bin/env node
// The queue benchmark's processes: a real coordinator or worker process with a fake trainer injected (a sleep and a
// made-up metric instead of training). Everything else is the production code path. Bench-only: the services have no
// switch that selects it.
//   node --conditions=source --import tsx services/cli/bench/fake-services.ts coordinator|worker
// BENCH_TRAIN_MS: the sleep per trial; BENCH_SKIP_STORAGE=true: results stay in Redis (the queue alone).
import { loadCoordinatorEnv, runCoordinatorProcess } from '@sweepq/coordinator';
import { TrialState, type TrialResult } from '@sweepq/results';
import { loadWorkerEnv, runWorkerProcess, ShutdownInterrupt, type TrialTrainer } from '@sweepq/worker';

const trainMs = Number(process.env.BENCH_TRAIN_MS ?? '0');
const skipStorage = process.env.BENCH_SKIP_STORAGE === 'true';

/** Wait, then commit a result through the real claim and bucket path (or only Redis with BENCH_SKIP_STORAGE). */
const fakeTrainer: TrialTrainer = async ({ lease, payload, base, started, deps, shutdown }) => {
  if (trainMs > 0) {
    await new Promise<void>((resolve) => {
      const onAbort = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        shutdown.removeEventListener('abort', onAbort);
        resolve();
      }, trainMs);
      shutdown.addEventListener('abort', onAbort, { once: true });
    });
  }
  if (shutdown.aborted) throw new ShutdownInterrupt();
  const result: TrialResult = {
    ...base,
    state: TrialState.Completed,
    metric: { ...payload.metric, value: ((payload.index * 7919) % 1000) / 1000 },
    final: null,
    test: null,
    epochs: 0,
    durationSec: (Date.now() - started) / 1000,
    samplesPerSec: null,
    finishedAt: new Date().toISOString(),
  };
  if (skipStorage) {
    await deps.trials.markDone(payload.sweepId, payload.trialId, result.state);
    return result;
  }
  // A fake trial never writes a checkpoint: no listing to delete one.
  return deps.trials.commit(result, lease, { dropCheckpoint: false });
};

const role = process.argv[2];
if (role === 'coordinator') {
  await runCoordinatorProcess(loadCoordinatorEnv(), skipStorage ? { resultsInBucket: false } : {});
} else if (role === 'worker') {
  await runWorkerProcess(loadWorkerEnv(), { trainer: fakeTrainer, backendName: 'fake' });
} else {
  console.error('usage: fake-services.ts coordinator|worker');
  process.exit(2);
}
