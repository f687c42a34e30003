import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { WaitingError, Worker, type Job } from 'bullmq';
import { initBackend } from '@sweepq/model';
import { TrialLifecycle } from '@sweepq/lifecycle';
import { QueueName, createWorkerConnection, redactRedisUrl } from '@sweepq/queue';
import { ShutdownManager, createLogger, readinessReasons, startOpsServer, storeSettings, type Logger } from '@sweepq/runtime';
import { createArtifactStore, layout, type ArtifactStore } from '@sweepq/storage';
import { parseSpec, type SweepSpec } from '@sweepq/sweep-config';
import { DatasetCache } from './dataset-cache.js';
import type { WorkerEnv } from './env.js';
import { ShutdownInterrupt } from './errors.js';
import { runTrial, type TrialRunnerDeps, type TrialTrainer } from './trial-runner.js';
import { WorkerMetrics } from './metrics.js';

/** What a benchmark injects into a worker process (production passes nothing). */
export interface WorkerHooks {
  /** Train with this instead of the model (the queue benchmark's sleep); the backend is then not loaded. */
  trainer?: TrialTrainer;
  /** The backend name recorded in results when `trainer` is set. */
  backendName?: string;
}

/**
 * A worker process: dependencies from a parsed environment, the BullMQ worker, readiness, shutdown. Resolves when
 * the worker stops. `main.ts` calls it with the environment; the queue benchmark calls it with its fake trainer.
 */
export async function runWorkerProcess(env: WorkerEnv, hooks: WorkerHooks = {}): Promise<void> {
  const workerId = env.WORKER_ID ?? `${hostname()}-${process.pid}`;
  const log = createLogger({ name: 'sweepq-worker', level: env.LOG_LEVEL, pretty: env.LOG_PRETTY }).child({ workerId });
  const shutdown = new ShutdownManager({ logger: log, deadlineMs: env.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
  shutdown.install();

  const { backend, tfjsVersion } = hooks.trainer
    ? { backend: hooks.backendName ?? 'injected', tfjsVersion: 'none' }
    : await initBackend({ prefer: env.SWEEPQ_BACKEND, logger: log });
  // Set once the BullMQ worker exists: while the bucket is unreachable the worker takes no new trial (a trial in
  // flight waits for the bucket, keeping its progress), and takes trials again once the bucket answers.
  let onBucketHealth: (ok: boolean) => void = () => undefined;
  const store = createArtifactStore({
    ...storeSettings(env),
    onHealthChange: (h) => {
      if (h.ok) log.info('bucket answers again; taking trials');
      else log.warn({ err: h.error }, 'bucket unreachable; taking no new trials until it answers');
      onBucketHealth(h.ok);
    },
  });
  // Every write a worker makes that could land on another attempt's is conditional; a server that ignores the
  // conditions would let an attempt paused past its lock overwrite its successor's result. Waits out an outage.
  await store.checkConditionalWrites();
  const metrics = new WorkerMetrics({ backend, workerId });
  const connection = createWorkerConnection(env.REDIS_URL);
  connection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const trialLifecycle = new TrialLifecycle({ store, redis: connection, prefix: env.SWEEPQ_QUEUE_PREFIX, logger: log });
  const deps: TrialRunnerDeps = {
    store,
    cache: new DatasetCache({ dir: env.SWEEPQ_CACHE_DIR, store, logger: log }),
    logger: log,
    backend,
    tfjsVersion,
    workerId,
    isCancelled: cachedCancelCheck(trialLifecycle),
    defaultTimeoutSec: env.TRIAL_TIMEOUT_SEC,
    redis: connection,
    queuePrefix: env.SWEEPQ_QUEUE_PREFIX,
    trials: trialLifecycle,
    metrics,
    specFor: specLoader(store),
    ...(hooks.trainer ? { trainer: hooks.trainer } : {}),
  };
  const worker = createTrialWorker(env, workerId, deps, shutdown.signal);
  onBucketHealth = pauseWhileBucketDown(worker, store, shutdown.signal, log);
  if (env.WORKER_ONE_SHOT) stopAfterOneTrial(worker, shutdown, env.WORKER_ONE_SHOT_IDLE_SEC, log);

  const ops =
    env.METRICS_PORT >= 0
      ? await startOpsServer({
          port: env.METRICS_PORT,
          registry: metrics.registry,
          ready: () => {
            const reasons = readinessReasons({ redisStatus: connection.status, bucket: store.health, shuttingDown: shutdown.signal.aborted });
            if (!worker.isRunning()) reasons.push('not taking trials');
            return reasons.length === 0 ? true : reasons;
          },
        })
      : undefined;

  // Order: stop taking work and let the running trial see the abort (it releases its job) -> close -> quit Redis.
  shutdown.register('close worker', async () => {
    await worker.close();
  });
  shutdown.register('quit redis', async () => {
    await connection.quit().catch(() => connection.disconnect());
  });
  shutdown.register('close ops server', async () => {
    await ops?.close();
  });

  log.info({ opsPort: ops?.port, oneShot: env.WORKER_ONE_SHOT, backend, tfjsVersion, redis: redactRedisUrl(env.REDIS_URL), bucket: env.S3_BUCKET, endpoint: env.S3_ENDPOINT }, 'worker started');
  await worker.run();
}

/** Whether a sweep was cancelled, asked of Redis at most once a second per sweep (every running trial polls it). */
function cachedCancelCheck(trialLifecycle: TrialLifecycle): (sweepId: string) => Promise<boolean> {
  const cancelCache = new Map<string, { at: number; value: boolean }>();
  return async (sweepId) => {
    const hit = cancelCache.get(sweepId);
    if (hit && Date.now() - hit.at < 1000) return hit.value;
    const value = await trialLifecycle.sweepCancelled(sweepId);
    cancelCache.set(sweepId, { at: Date.now(), value });
    return value;
  };
}

/** A sweep's spec, read from the bucket once per sweep (a failed read is tried again by the next trial). */
function specLoader(store: ArtifactStore): (sweepId: string) => Promise<SweepSpec> {
  const specs = new Map<string, Promise<SweepSpec>>();
  return (sweepId) => {
    let p = specs.get(sweepId);
    if (!p) {
      p = store.getRequired(layout.specYaml(sweepId)).then((b) => parseSpec(new TextDecoder().decode(b)));
      p.catch(() => specs.delete(sweepId));
      specs.set(sweepId, p);
    }
    return p;
  };
}

/** The BullMQ worker that runs trials (not started: `autorun: false`), with its error and lock-loss handlers. */
function createTrialWorker(env: WorkerEnv, workerId: string, deps: TrialRunnerDeps, shutdown: AbortSignal): Worker {
  const log = deps.logger;
  const worker = new Worker(
    QueueName.Trials,
    async (job: Job, token?: string, lockLost?: AbortSignal) => {
      try {
        return await runTrial(job, token, deps, shutdown, lockLost);
      } catch (err) {
        if (err instanceof ShutdownInterrupt) {
          // Hand the trial back without spending an attempt, at the front of the queue: the next free worker resumes
          // it from its checkpoint before any trial that never started.
          await job.moveToWait(token);
          throw new WaitingError();
        }
        throw err;
      }
    },
    {
      connection: deps.redis,
      prefix: env.SWEEPQ_QUEUE_PREFIX,
      concurrency: env.WORKER_CONCURRENCY,
      lockDuration: env.WORKER_LOCK_MS,
      stalledInterval: env.WORKER_LOCK_MS,
      maxStalledCount: env.WORKER_MAX_STALLS,
      name: workerId,
      autorun: false,
    },
  );
  worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));
  // A lock this worker could not renew belongs to another worker soon: stop training that trial now
  // (it writes nothing more; the new owner resumes from the last checkpoint).
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const id of jobIds) {
      log.warn({ jobId: id }, 'lost the lock of a running trial; stopping it');
      worker.cancelJob(id, 'lock lost');
    }
  });
  worker.on('failed', (job, err) => log.warn({ jobId: job?.id, err: err.message }, 'trial attempt failed'));
  return worker;
}

/**
 * The bucket-health handler. Bucket outage: pause fetching (the running trial goes on, its writes waiting under the
 * store's retry policy) and probe the bucket until it answers, then fetch again. Attempts are never spent on the
 * outage itself.
 */
function pauseWhileBucketDown(worker: Worker, store: ArtifactStore, shutdown: AbortSignal, log: Logger): (ok: boolean) => void {
  let probing = false;
  let pausedForBucket = false;
  return (ok) => {
    if (ok) {
      if (pausedForBucket && !shutdown.aborted) worker.resume().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not resume the worker'));
      pausedForBucket = false;
      return;
    }
    if (!worker.isPaused()) {
      pausedForBucket = true;
      worker.pause(true).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not pause the worker'));
    }
    if (probing) return;
    probing = true;
    void (async () => {
      while (!shutdown.aborted && !store.health.ok) {
        await sleep(2000, undefined, { signal: shutdown }).catch(() => undefined);
        await store.ping();
      }
      probing = false;
    })();
  };
}

/** One trial per process: stop fetching as soon as one starts, exit when it ends (or when none comes in `idleSec`). */
function stopAfterOneTrial(worker: Worker, shutdown: ShutdownManager, idleSec: number, log: Logger): void {
  const idle = setTimeout(() => {
    log.info({ idleSec }, 'one-shot worker found no trial; exiting');
    void shutdown.shutdown('one-shot idle').then((code) => process.exit(code));
  }, idleSec * 1000);
  // A signal or a fatal error ends the process by itself: the idle timer must not fire in the middle of that
  // shutdown (exiting 0 before the trial released its job) nor keep the event loop alive after it.
  shutdown.signal.addEventListener('abort', () => clearTimeout(idle), { once: true });
  worker.on('active', () => {
    clearTimeout(idle);
    worker.pause(true).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not stop fetching after the one trial'));
  });
  const done = () => void shutdown.shutdown('one-shot done').then((code) => process.exit(code));
  worker.on('completed', done);
  worker.on('failed', done);
}
