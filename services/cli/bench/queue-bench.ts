// npm run bench:queue -- [--trials 10000] [--storage-trials 2000] [--slots 1,8,64,256] [--overhead-trials 6400]
//                         [--overhead-ms 1000] [--overhead-slots 64] [--overhead-modes queue,storage] [--json]
//                         [--keep-logs]   (keep each run's service logs and print where)
//
// Queue and coordination overhead with a fake trainer (a sleep instead of training; the queue, Redis,
// coordinator, result claims, bucket writes and worker processes are all real). Prints trials/s,
// dispatches/s, enqueue-to-start latency, S3 requests per trial and the wall time over the ideal.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Queue, Worker, type Job } from 'bullmq';
import { QueueName, connectProducer, createWorkerConnection } from '@sweepq/queue';
import type { SweepRecord } from '@sweepq/results';
import { ArtifactStore, createS3Client, layout, startLocalS3 } from '@sweepq/storage';
import { parseSpec } from '@sweepq/sweep-config';
import { loadCliEnv } from '../src/env.js';
import { openContext } from '../src/context.js';
import { submitSweep } from '../src/submit-sweep.js';
import { localServiceEnv, startService, stopAll, type ManagedProcess } from '../src/demo/local-stack.js';

const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '10000' },
    'storage-trials': { type: 'string', default: '2000' },
    slots: { type: 'string', default: '1,8,64,256' },
    'overhead-trials': { type: 'string', default: '6400' },
    'overhead-ms': { type: 'string', default: '1000' },
    'overhead-slots': { type: 'string', default: '64' },
    'overhead-modes': { type: 'string', default: 'queue,storage' },
    json: { type: 'boolean', default: false },
    'keep-logs': { type: 'boolean', default: false },
  },
});
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const say = (s: string) => {
  if (!args.json) console.log(s);
};

/** Worker processes x concurrency for a slot count: training-free workers, so few processes suffice. */
function layoutFor(slots: number): { procs: number; conc: number } {
  const procs = slots >= 64 ? (slots >= 256 ? 4 : 2) : slots >= 8 ? 2 : 1;
  return { procs, conc: Math.ceil(slots / procs) };
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface RunResult {
  /** `queue`: results kept in Redis only; `storage`: results written to the bucket as in production. */
  mode: 'queue' | 'storage';
  slots: number;
  trials: number;
  trainMs: number;
  wallSec: number;
  trialsPerSec: number;
  dispatchesPerSec: number;
  enqueueToStartP50Ms: number;
  enqueueToStartP99Ms: number;
  s3RequestsPerTrial: number;
  idealSec: number;
  /** Wall time from submit to final sweep.json over the ideal. */
  overheadPct: number | null;
  /** The same for the training phase alone (first trial start to last trial end): per-trial queue overhead. */
  busyOverheadPct: number | null;
  /** Submit to first trial start (spec, dataset preparation, enqueueing). */
  startupSec: number;
  /** Last trial end to the final sweep.json (leaderboard, report, best model). */
  finalizeSec: number;
}

async function runSweep(mode: RunResult['mode'], slots: number, trials: number, trainMs: number): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'sweepq-bench-'));
  const bucket = 'bench';
  const s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: [bucket] });
  const prefix = `{sweepq-bench-${randomBytes(3).toString('hex')}}`;
  const env = localServiceEnv({
    redisUrl: REDIS_URL,
    s3,
    bucket,
    queuePrefix: prefix,
    extra: {
      METRICS_PORT: '-1',
      LOG_LEVEL: args['keep-logs'] ? 'info' : 'warn',
      COORDINATOR_POLL_MS: '200',
      BENCH_TRAIN_MS: String(trainMs),
      BENCH_SKIP_STORAGE: mode === 'queue' ? 'true' : 'false',
    },
  });
  const { procs, processes } = startFakeServices(env, dir, slots);
  const store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket });
  await store.put('inputs/d.csv', 'text,label\na b c,x\nd e f,y\na c e,x\nd f b,y\nb c a,x\nf e d,y\n');
  const text = [
    'name: bench',
    'method: random',
    `run_cap: ${trials}`,
    'parameters:',
    '  learning_rate: {distribution: log_uniform_values, min: 0.0001, max: 0.1}',
    'dataset:',
    `  uri: s3://${bucket}/inputs/d.csv`,
    '  validation_split: 0.34',
    '  test_split: 0',
  ].join('\n');
  const ctx = await openContext(loadCliEnv(env));
  const redis = await connectProducer(REDIS_URL);
  const trialsQ = new Queue(QueueName.Trials, { connection: redis, prefix });
  try {
    // Time from the submit on, with every process up: wait until BullMQ sees the workers and the coordinator.
    const sweepsQ = new Queue(QueueName.Sweeps, { connection: redis, prefix });
    for (const t = Date.now(); ; await sleep(200)) {
      const [w, c] = await Promise.all([trialsQ.getWorkersCount(), sweepsQ.getWorkersCount()]);
      if (w >= procs && c >= 1) break;
      if (Date.now() - t > 120_000) throw new Error(`services did not start within 120 s (logs in ${dir})`);
    }
    await sweepsQ.close();
    const before = s3.requests();
    const t0 = Date.now();
    const sweepId = await submitSweep(ctx, text, parseSpec(text));
    const tSubmitted = Date.now();
    let record: SweepRecord | undefined;
    for (;;) {
      record = await store.getJson<SweepRecord>(layout.sweepJson(sweepId));
      if (record && ['completed', 'failed', 'cancelled'].includes(record.state)) break;
      await sleep(250);
    }
    // The sweep ended when the coordinator saved its final sweep.json (updatedAt, same machine's clock), not when
    // this loop, sharing its process with s3rver, got round to reading it.
    const tEnd = Math.min(Date.now(), Date.parse(record.updatedAt));
    const wallSec = (tEnd - t0) / 1000;
    const requests = s3.requests() - before;
    // Queue-only runs leave no results in the bucket, so the coordinator ends them "failed" (no trial result).
    if (record.state !== 'completed' && !(mode === 'queue' && record.state === 'failed')) {
      throw new Error(`bench sweep ended ${record.state}: ${record.error ?? ''}`);
    }
    const { starts, ends, waits } = await jobTimings(trialsQ, trials);
    // With --keep-logs: the run's moments in ms since the epoch, to lay beside the services' log times.
    if (args['keep-logs']) say(`timeline: submit ${t0} submitted ${tSubmitted} first-start ${Math.min(...starts)} last-end ${Math.max(...ends)} final ${tEnd}`);
    const startSpan = (Math.max(...starts) - Math.min(...starts)) / 1000;
    const idealSec = (trials * trainMs) / 1000 / slots;
    return {
      mode,
      slots,
      trials,
      trainMs,
      wallSec,
      trialsPerSec: trials / wallSec,
      dispatchesPerSec: startSpan > 0 ? trials / startSpan : NaN,
      enqueueToStartP50Ms: pct(waits, 50),
      enqueueToStartP99Ms: pct(waits, 99),
      s3RequestsPerTrial: requests / trials,
      idealSec,
      overheadPct: trainMs > 0 ? ((wallSec - idealSec) / idealSec) * 100 : null,
      startupSec: (Math.min(...starts) - t0) / 1000,
      finalizeSec: (tEnd - Math.max(...ends)) / 1000,
      busyOverheadPct: trainMs > 0 ? (((Math.max(...ends) - Math.min(...starts)) / 1000 - idealSec) / idealSec) * 100 : null,
    };
  } finally {
    await trialsQ.obliterate({ force: true }).catch(() => undefined);
    await new Queue(QueueName.Sweeps, { connection: redis, prefix }).obliterate({ force: true }).catch(() => undefined);
    const stray = await redis.keys(`${prefix}*`);
    if (stray.length > 0) await redis.del(...stray);
    await trialsQ.close();
    redis.disconnect();
    await ctx.close();
    await stopAll(processes, 20_000);
    store.client.destroy();
    await s3.close();
    if (args['keep-logs']) say(`logs kept in ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

/** A coordinator and the worker processes for `slots` trial slots, the production services with the fake trainer. */
function startFakeServices(env: Record<string, string>, dir: string, slots: number): { procs: number; processes: ManagedProcess[] } {
  const { procs, conc } = layoutFor(slots);
  // The production processes with the fake trainer injected (fake-services.ts), not a switch in the services.
  const fake = (role: string) => ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, 'fake-services.ts'), role];
  const processes = [startService('coordinator', 'coordinator', env, join(dir, 'coordinator.log'), fake('coordinator'))];
  for (let i = 0; i < procs; i++) {
    processes.push(
      startService('worker', `w${i}`, { ...env, WORKER_ID: `w${i}`, WORKER_CONCURRENCY: String(conc) }, join(dir, `w${i}.log`), fake('worker')),
    );
  }
  return { procs, processes };
}

/** When each completed trial job started and finished, and how long it waited in the queue (ms since the epoch / ms). */
async function jobTimings(trialsQ: Queue, trials: number): Promise<{ starts: number[]; ends: number[]; waits: number[] }> {
  const starts: number[] = [];
  const ends: number[] = [];
  const waits: number[] = [];
  for (let i = 0; i < trials; i += 1000) {
    const jobs = await trialsQ.getJobs(['completed'], i, i + 999, true);
    for (const j of jobs) {
      starts.push(j.processedOn ?? NaN);
      ends.push(j.finishedOn ?? NaN);
      waits.push((j.processedOn ?? NaN) - j.timestamp);
    }
  }
  return { starts, ends, waits };
}

/** Ceilings measured in the same run: BullMQ alone (no-op jobs) and the embedded S3 server's small PUTs. */
async function ceilings(): Promise<{ bullmqJobsPerSec: number; s3PutsPerSec: number }> {
  const prefix = `{sweepq-bench-${randomBytes(3).toString('hex')}}`;
  const redis = await connectProducer(REDIS_URL);
  const q = new Queue('noop', { connection: redis, prefix });
  const n = 10_000;
  const jobs = Array.from({ length: n }, (_, i) => ({ name: 'n', data: { i } }));
  for (let i = 0; i < n; i += 1000) await q.addBulk(jobs.slice(i, i + 1000));
  let done = 0;
  const conn = createWorkerConnection(REDIS_URL);
  const t0 = Date.now();
  const finished = new Promise<void>((resolve) => {
    const w = new Worker('noop', async (_job: Job) => undefined, { connection: conn, prefix, concurrency: 64 });
    w.on('completed', () => {
      if (++done === n) void w.close().then(resolve);
    });
  });
  await finished;
  const bullmqJobsPerSec = n / ((Date.now() - t0) / 1000);
  await q.obliterate({ force: true });
  await q.close();
  conn.disconnect();
  redis.disconnect();

  const dir = await mkdtemp(join(tmpdir(), 'sweepq-bench-'));
  const s3 = await startLocalS3({ directory: dir, buckets: ['b'] });
  const store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket: 'b' });
  const puts = 500;
  const t1 = Date.now();
  for (let i = 0; i < puts; i += 16) {
    await Promise.all(Array.from({ length: Math.min(16, puts - i) }, (_, k) => store.putJson(`k/${i + k}.json`, { i: i + k })));
  }
  const s3PutsPerSec = puts / ((Date.now() - t1) / 1000);
  store.client.destroy();
  await s3.close();
  await rm(dir, { recursive: true, force: true });
  return { bullmqJobsPerSec, s3PutsPerSec };
}

async function main(): Promise<void> {
  const trials = Number(args.trials);
  const storageTrials = Number(args['storage-trials']);
  const slotList = args.slots.split(',').map(Number).filter((n) => n > 0);
  const c = await ceilings();
  say(`ceilings in this run: BullMQ alone ${c.bullmqJobsPerSec.toFixed(0)} no-op jobs/s (1 process, concurrency 64); embedded s3rver ${c.s3PutsPerSec.toFixed(0)} small PUTs/s`);
  const results: RunResult[] = [];
  for (const slots of slotList) {
    say(`queue-bound: ${trials} no-op trials on ${slots} slots, results in Redis only …`);
    results.push(await runSweep('queue', slots, trials, 0));
  }
  for (const slots of slotList) {
    if (storageTrials <= 0) break;
    say(`storage-bound: ${storageTrials} no-op trials on ${slots} slots, results in the bucket …`);
    results.push(await runSweep('storage', slots, storageTrials, 0));
  }
  const overheadTrials = Number(args['overhead-trials']);
  if (overheadTrials > 0) {
    const ms = Number(args['overhead-ms']);
    const slots = Number(args['overhead-slots']);
    const modes = (['queue', 'storage'] as const).filter((m) => args['overhead-modes'].split(',').includes(m));
    for (const mode of modes) {
      say(`overhead (${mode}): ${overheadTrials} trials of ${ms} ms on ${slots} slots …`);
      results.push(await runSweep(mode, slots, overheadTrials, ms));
    }
  }
  if (args.json) {
    console.log(JSON.stringify({ ceilings: c, runs: results }, null, 2));
    return;
  }
  const header = ['mode', 'slots', 'trials', 'train ms', 'wall s', 'trials/s', 'dispatch/s', 'start p50 ms', 'start p99 ms', 'S3 req/trial', 'startup s', 'finalize s', 'ideal s', 'overhead', 'busy overhead'];
  const rows = results.map((r) => [
    r.mode,
    r.slots,
    r.trials,
    r.trainMs,
    r.wallSec.toFixed(1),
    r.trialsPerSec.toFixed(0),
    r.dispatchesPerSec.toFixed(0),
    r.enqueueToStartP50Ms.toFixed(0),
    r.enqueueToStartP99Ms.toFixed(0),
    r.s3RequestsPerTrial.toFixed(2),
    r.startupSec.toFixed(1),
    r.finalizeSec.toFixed(1),
    r.idealSec.toFixed(1),
    r.overheadPct === null ? '-' : `${r.overheadPct.toFixed(1)}%`,
    r.busyOverheadPct === null ? '-' : `${r.busyOverheadPct.toFixed(1)}%`,
  ].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((x, i) => x.padStart(widths[i]!)).join('  ');
  console.log(`\n${line(header)}\n${rows.map(line).join('\n')}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
