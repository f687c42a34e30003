#!/usr/bin/env node
// Wiring only: env -> dependencies -> start -> shutdown.
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { QueueName, createWorkerConnection, redactRedisUrl } from '@sweepq/queue';
import { ConfigError, ShutdownManager, createLogger, startOpsServer, storeSettings } from '@sweepq/runtime';
import { createArtifactStore } from '@sweepq/storage';
import { loadCoordinatorEnv } from './env.js';
import { CoordinatorInterrupt, recordSweepFailure, runSweep } from './sweep-runner.js';
import { coordinatorMetrics, readBacklog } from './metrics.js';

async function main(): Promise<void> {
  let env;
  try {
    env = loadCoordinatorEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`sweepq coordinator: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger({ name: 'sweepq-coordinator', level: env.LOG_LEVEL, pretty: env.LOG_PRETTY });
  const shutdown = new ShutdownManager({ logger: log, deadlineMs: env.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
  shutdown.install();

  const store = createArtifactStore(storeSettings(env));
  await store.ensureBucket(env.S3_CREATE_BUCKET);

  const connection = createWorkerConnection(env.REDIS_URL);
  connection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const trials = new Queue(QueueName.Trials, { connection, prefix: env.SWEEPQ_QUEUE_PREFIX });
  trials.on('error', (err) => log.warn({ err: err.message }, 'trials queue error'));

  const worker = new Worker(
    QueueName.Sweeps,
    async (job: Job, token?: string, lockLost?: AbortSignal) => {
      try {
        return await runSweep(
          job,
          {
            store,
            trials,
            redis: connection,
            queuePrefix: env.SWEEPQ_QUEUE_PREFIX,
            logger: log,
            pollMs: env.COORDINATOR_POLL_MS,
            ...(env.SWEEPQ_FAKE_SKIP_STORAGE ? { resultsInBucket: false } : {}),
          },
          lockLost ? AbortSignal.any([shutdown.signal, lockLost]) : shutdown.signal,
        );
      } catch (err) {
        if (err instanceof CoordinatorInterrupt) {
          // Another coordinator takes the sweep over at once; every step it repeats is idempotent.
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
        throw err;
      }
    },
    {
      connection,
      prefix: env.SWEEPQ_QUEUE_PREFIX,
      concurrency: env.COORDINATOR_CONCURRENCY,
      lockDuration: env.COORDINATOR_LOCK_MS,
      stalledInterval: env.COORDINATOR_LOCK_MS,
      maxStalledCount: 5,
      autorun: false,
    },
  );
  worker.on('error', (err) => log.error({ err: err.message }, 'coordinator worker error'));
  // Another coordinator takes over a sweep whose lock this one could not renew: stop following it.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const id of jobIds) worker.cancelJob(id, 'lock lost');
  });
  worker.on('failed', (job, err) => {
    log.warn({ sweepId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'sweep attempt failed');
    const final = job && (err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1));
    const sweepId = (job?.data as { sweepId?: unknown } | undefined)?.sweepId;
    if (final && typeof sweepId === 'string' && /^[a-z0-9][a-z0-9-]{0,63}$/.test(sweepId)) {
      recordSweepFailure(store, sweepId, `coordinator gave up after ${job.attemptsMade} attempt(s): ${err.message}`).catch((e: unknown) =>
        log.error({ sweepId, err: (e as Error).message }, 'could not record the sweep failure'),
      );
    }
  });

  const sweepsQueue = new Queue(QueueName.Sweeps, { connection, prefix: env.SWEEPQ_QUEUE_PREFIX });
  sweepsQueue.on('error', (err) => log.warn({ err: err.message }, 'sweeps queue error'));
  const ops =
    env.METRICS_PORT >= 0
      ? await startOpsServer({
          port: env.METRICS_PORT,
          registry: coordinatorMetrics({ trials, sweeps: sweepsQueue }),
          ready: () => connection.status === 'ready' && !shutdown.signal.aborted,
          routes: {
            // KEDA's metrics-api scaler reads `backlog` from here (see infra/k8s).
            '/backlog': async () => ({ status: 200, body: await readBacklog(trials) }),
          },
        })
      : undefined;

  shutdown.register('close sweep worker', async () => {
    await worker.close();
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

  log.info({ opsPort: ops?.port, redis: redactRedisUrl(env.REDIS_URL), bucket: env.S3_BUCKET, endpoint: env.S3_ENDPOINT }, 'coordinator started');
  await worker.run();
}

main().catch((err: unknown) => {
  console.error('sweepq coordinator failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
