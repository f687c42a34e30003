import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { WaitingError, Queue, Worker, type Job } from 'bullmq';
import { LifecycleError, LifecycleErrorCode, SweepLifecycle, TrialLifecycle } from '@sweepq/lifecycle';
import { QueueName, createWorkerConnection, redactRedisUrl } from '@sweepq/queue';
import { ShutdownManager, createLogger, readinessReasons, startOpsServer, storeSettings, type Logger } from '@sweepq/runtime';
import { SAFE_ID, createArtifactStore } from '@sweepq/storage';
import type { CoordinatorEnv } from './env.js';
import { CoordinatorInterrupt } from './errors.js';
import { runSweep, type SweepRunnerDeps } from './sweep-runner.js';
import { startRecovery } from './recovery.js';
import { IndexRefresher } from './index-refresher.js';
import { coordinatorMetrics, readBacklog } from './metrics.js';

/** What a benchmark injects into a coordinator process (production passes nothing). */
export interface CoordinatorHooks {
  /** False when the benchmark's fake workers keep results in Redis only: results are not looked for in the bucket. */
  resultsInBucket?: boolean;
}

/**
 * A coordinator process: dependencies from a parsed environment, the sweep worker, recovery, readiness, shutdown.
 * Resolves when it stops. `main.ts` calls it with the environment; the queue benchmark with its hooks.
 */
export async function runCoordinatorProcess(env: CoordinatorEnv, hooks: CoordinatorHooks = {}): Promise<void> {
  const log = createLogger({ name: 'sweepq-coordinator', level: env.LOG_LEVEL, pretty: env.LOG_PRETTY });
  const shutdown = new ShutdownManager({ logger: log, deadlineMs: env.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
  shutdown.install();

  const coordinatorId = env.COORDINATOR_ID ?? `${hostname()}-${process.pid}`;
  const store = createArtifactStore({
    ...storeSettings(env),
    onHealthChange: (h) => (h.ok ? log.info('bucket answers again') : log.warn({ err: h.error }, 'bucket unreachable; retrying')),
  });
  // Waits (retrying) while the bucket is unreachable at start; a missing bucket or bad credentials fail at once.
  await store.ensureBucket(env.S3_CREATE_BUCKET);

  const connection = createWorkerConnection(env.REDIS_URL);
  connection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const trials = new Queue(QueueName.Trials, { connection, prefix: env.SWEEPQ_QUEUE_PREFIX });
  trials.on('error', (err) => log.warn({ err: err.message }, 'trials queue error'));
  const sweepsQueue = new Queue(QueueName.Sweeps, { connection, prefix: env.SWEEPQ_QUEUE_PREFIX });
  sweepsQueue.on('error', (err) => log.warn({ err: err.message }, 'sweeps queue error'));
  const lifecycle = new SweepLifecycle({ store, redis: connection, prefix: env.SWEEPQ_QUEUE_PREFIX, sweeps: sweepsQueue, trials, logger: log });
  const trialLifecycle = new TrialLifecycle({ store, redis: connection, prefix: env.SWEEPQ_QUEUE_PREFIX, logger: log });
  const index = new IndexRefresher(store, log);

  const deps: SweepRunnerDeps = {
    store,
    trials,
    redis: connection,
    queuePrefix: env.SWEEPQ_QUEUE_PREFIX,
    logger: log,
    pollMs: env.COORDINATOR_POLL_MS,
    lifecycle,
    trialLifecycle,
    coordinatorId,
    // A few polls (and at least one lock period): status shows a sweep as owned while its coordinator beats.
    heartbeatTtlMs: Math.max(3 * env.COORDINATOR_POLL_MS, env.COORDINATOR_LOCK_MS),
    indexChanged: () => index.request(),
    dataset: {
      ...(env.DATASET_MAX_BYTES !== undefined ? { maxBytes: env.DATASET_MAX_BYTES } : {}),
      ...(env.DATASET_TMP_DIR !== undefined ? { tmpDir: env.DATASET_TMP_DIR } : {}),
    },
    ...(hooks.resultsInBucket === false ? { resultsInBucket: false } : {}),
  };
  const worker = new Worker(QueueName.Sweeps, sweepProcessor(deps, shutdown.signal), {
    connection,
    prefix: env.SWEEPQ_QUEUE_PREFIX,
    concurrency: env.COORDINATOR_CONCURRENCY,
    lockDuration: env.COORDINATOR_LOCK_MS,
    // Half the lock: a dead coordinator's sweep is found stalled within about 1.5 lock periods.
    stalledInterval: Math.ceil(env.COORDINATOR_LOCK_MS / 2),
    maxStalledCount: env.COORDINATOR_MAX_STALLS,
    autorun: false,
  });
  worker.on('error', (err) => log.error({ err: err.message }, 'coordinator worker error'));
  // Another coordinator takes over a sweep whose lock this one could not renew: stop following it.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const id of jobIds) worker.cancelJob(id, 'lock lost');
  });
  recordFinalFailures(worker, lifecycle, shutdown.signal, log);
  const recovery = startRecovery({ lifecycle, redis: connection, prefix: env.SWEEPQ_QUEUE_PREFIX, everyMs: env.COORDINATOR_RECOVERY_MS, logger: log, signal: shutdown.signal });
  const ops =
    env.METRICS_PORT >= 0
      ? await startOpsServer({
          port: env.METRICS_PORT,
          registry: coordinatorMetrics({ trials, sweeps: sweepsQueue }),
          ready: () => readinessReasons({ redisStatus: connection.status, bucket: store.health, shuttingDown: shutdown.signal.aborted }),
          routes: {
            // KEDA's metrics-api scaler reads `backlog` from here (see infra/k8s).
            '/backlog': async () => ({ status: 200, body: await readBacklog(trials) }),
          },
        })
      : undefined;

  shutdown.register('close sweep worker', async () => {
    await recovery.stop();
    await worker.close();
    await index.idle();
  });
  shutdown.register('close queues', async () => {
    await trials.close();
    await sweepsQueue.close();
  });
  shutdown.register('close ops server', async () => {
    await ops?.close();
  });
  shutdown.register('quit redis', async () => {
    await connection.quit().catch(() => connection.disconnect());
  });

  log.info({ coordinatorId, lockMs: env.COORDINATOR_LOCK_MS, opsPort: ops?.port, redis: redactRedisUrl(env.REDIS_URL), bucket: env.S3_BUCKET, endpoint: env.S3_ENDPOINT }, 'coordinator started');
  await worker.run();
}

/**
 * The sweep worker's processor: {@link runSweep} under an abort signal joined from shutdown, the job's lost lock and
 * a newer attempt of the same sweep; an interrupted or fenced attempt hands its job back without spending an attempt.
 */
function sweepProcessor(deps: SweepRunnerDeps, shutdown: AbortSignal): (job: Job, token?: string, lockLost?: AbortSignal) => Promise<unknown> {
  const log = deps.logger;
  // One running attempt per sweep in this process: after Redis comes back empty, the re-added sweep job can reach
  // this coordinator while its earlier attempt still runs (BullMQ tracks locks by job id, so that one never hears its
  // lock is gone). The new attempt stops the old one at once; fencing in the bucket would stop it at its next write.
  const running = new Map<string, AbortController>();
  return async (job, token, lockLost) => {
    const sweepId = typeof (job.data as { sweepId?: unknown } | undefined)?.sweepId === 'string' ? (job.data as { sweepId: string }).sweepId : String(job.id);
    running.get(sweepId)?.abort(new LifecycleError(LifecycleErrorCode.Fenced, `a newer attempt of sweep ${sweepId} started in this coordinator`, { sweepId }));
    const superseded = new AbortController();
    running.set(sweepId, superseded);
    try {
      return await runSweep(job, deps, AbortSignal.any([shutdown, superseded.signal, ...(lockLost ? [lockLost] : [])]));
    } catch (err) {
      if (err instanceof CoordinatorInterrupt) {
        // Another coordinator takes the sweep over at once (front of the queue); every step it repeats is idempotent.
        // When the lock is already someone else's (it was lost), BullMQ refuses the move, which is what we want.
        await job.moveToWait(token).catch((e: unknown) => log.info({ sweepId, err: (e as Error).message }, 'sweep job not handed back (its lock is gone)'));
        throw new WaitingError();
      }
      if (err instanceof LifecycleError && err.code === LifecycleErrorCode.Fenced) {
        // Taken over (by another coordinator, recovery, retry, or a newer attempt here): stop without writing. If this
        // attempt still holds the job (a retry or extend queued the sweep while it ran), hand the job back so a
        // coordinator takes the sweep at the new epoch; otherwise its lock is someone else's and this is a no-op.
        log.warn({ sweepId, err: err.message }, 'sweep taken over; stopped following it');
        await job.moveToWait(token).catch(() => undefined);
        throw new WaitingError();
      }
      throw err;
    } finally {
      if (running.get(sweepId) === superseded) running.delete(sweepId);
    }
  };
}

/**
 * Record a sweep `failed` once its job has failed for good (an unrecoverable error, or its last attempt). The outcome
 * must reach the bucket, or the sweep would say "running" for ever: keep trying until shutdown (the recovery pass
 * also finds a failed sweep job whose sweep.json is not final).
 */
function recordFinalFailures(worker: Worker, lifecycle: SweepLifecycle, shutdown: AbortSignal, log: Logger): void {
  const recordFailure = async (sweepId: string, reason: string) => {
    for (let attempt = 1; !shutdown.aborted; attempt++) {
      try {
        await lifecycle.fail(sweepId, reason);
        return;
      } catch (e) {
        log.error({ sweepId, attempt, err: (e as Error).message }, 'could not record the sweep failure yet; retrying');
        await sleep(Math.min(30_000, 1000 * 2 ** attempt), undefined, { signal: shutdown }).catch(() => undefined);
      }
    }
  };
  worker.on('failed', (job, err) => {
    log.warn({ sweepId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'sweep attempt failed');
    const final = job && (err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1));
    const sweepId = (job?.data as { sweepId?: unknown } | undefined)?.sweepId;
    if (final && typeof sweepId === 'string' && SAFE_ID.test(sweepId)) {
      void recordFailure(sweepId, `coordinator gave up after ${job.attemptsMade} attempt(s): ${err.message}`);
    }
  });
}
