import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { QueueName, connectProducer, redisKeys } from '@sweepq/queue';
import type { Leaderboard, SweepRecord, TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { stopAll } from '@sweepq/cli';
import { REDIS_URL, createWorld, waitFor, type TestWorld } from './helpers/env.js';
import { runCli } from './helpers/cli.js';
import { privateRedis, type PrivateRedis } from './helpers/private-redis.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

// Dependencies cut off mid-sweep: the S3 server stopped for a minute, Redis restarted empty, a coordinator and a
// busy worker killed together, a stranded sweep cancelled and retried. Each ends with every trial exactly once, one
// metrics line per epoch, no checkpoint left behind and the sweep in a terminal state.

const EPOCHS = 5;
const TRIALS = 8;
const spec = (name: string, uri: string) => [
  `name: ${name}`,
  'method: grid',
  'parameters:',
  '  learning_rate: {values: [0.003, 0.006, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06]}',
  '  embedding_dim: {value: 8}',
  '  lstm_units: {value: 8}',
  '  max_words: {value: 60}',
  '  max_len: {value: 30}',
  '  batch_size: {value: 16}',
  `  epochs: {value: ${EPOCHS}}`,
  'dataset:',
  `  uri: ${uri}`,
];

const fast = { COORDINATOR_LOCK_MS: '4000', COORDINATOR_POLL_MS: '300', COORDINATOR_RECOVERY_MS: '3000' };
const workerEnv = (id: string) => ({ WORKER_ID: id, WORKER_LOCK_MS: '5000' });

/** Every trial exactly once with a full metrics file, no checkpoint left, one leaderboard row each. */
async function expectExactlyOnce(world: TestWorld, sweepId: string, trials: Queue): Promise<TrialResult[]> {
  const keys = await world.store.list(layout.trialsPrefix(sweepId));
  const results: TrialResult[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const t = `t${String(i).padStart(4, '0')}`;
    const r = (await world.store.getJson<TrialResult>(layout.result(sweepId, t)))!;
    expect(r, `${t} has a result`).toBeDefined();
    expect(r.state, `${t}: ${r.error ?? ''}`).toBe('completed');
    const lines = (await world.store.getText(layout.metrics(sweepId, t)))!.trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual([1, 2, 3, 4, 5]);
    const checkpointFiles = keys.filter((k) => k.startsWith(layout.checkpointPrefix(sweepId, t)) || (k.startsWith(layout.trialOutputsPrefix(sweepId, t)) && k.includes('/checkpoint/')));
    expect(checkpointFiles, `${t} checkpoint removed`).toEqual([]);
    results.push(r);
  }
  const lb = (await world.store.getJson<Leaderboard>(layout.leaderboardJson(sweepId)))!;
  expect(lb.rows.map((r) => r.trialId).sort()).toEqual(results.map((r) => r.trialId));
  const jobs = (await trials.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized'])).filter(
    (j) => (j.data as { sweepId: string }).sweepId === sweepId,
  );
  expect(new Set(jobs.map((j) => j.id)).size).toBe(jobs.length);
  return results;
}

/** Wait until `n` trials have committed and another has a checkpoint (so a fault hits work in flight); the result keys. */
const midSweep = (world: TestWorld, sweepId: string, n: number): Promise<string[]> =>
  waitFor(
    `${n} committed trial(s) and a checkpoint of a running one`,
    async () => {
      const keys = await world.store.list(layout.trialsPrefix(sweepId));
      const done = keys.filter((k) => k.endsWith('result.json'));
      // An epoch's checkpoint files under an attempt's folder (the pointer exists from the attempt's start).
      return done.length >= n && keys.some((k) => /\/outputs\/[^/]+\/checkpoint\/e\d+\/weights\.bin$/.test(k)) ? done : undefined;
    },
    180_000,
    100,
  );

/** The first JSON line of a service's log that `match` accepts, if it has been written. */
async function logLine(world: TestWorld, name: string, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined> {
  const text = await readFile(join(world.dir, `${name}.log`), 'utf8').catch(() => '');
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      const line = JSON.parse(raw) as Record<string, unknown>;
      if (match(line)) return line;
    } catch {
      // a line still being written
    }
  }
  return undefined;
}

const opsPort = async (world: TestWorld, name: string): Promise<number> =>
  waitFor(
    `${name}'s ops port`,
    async () => {
      const m = /"opsPort":(\d+)/.exec(await readFile(join(world.dir, `${name}.log`), 'utf8').catch(() => ''));
      return m ? Number(m[1]) : undefined;
    },
    60_000,
    200,
  );

describe('the S3 server down for 60 s mid-sweep', () => {
  let world: TestWorld;
  let trials: Queue;
  let closeRedis = () => undefined as void;
  afterAll(async () => {
    await trials?.close();
    closeRedis();
    await world?.cleanup();
  });

  it('loses nothing and spends no attempt: workers stop taking trials, say why in /readyz, and finish once it is back', async () => {
    world = await createWorld();
    const redis = await connectProducer(REDIS_URL);
    closeRedis = () => redis.disconnect();
    trials = new Queue(QueueName.Trials, { connection: redis, prefix: world.prefix });
    const uri = await uploadToyDataset(world, 900);
    world.start('coordinator', 'coordinator', fast);
    for (const id of ['a', 'b', 'c']) world.start('worker', `worker-${id}`, workerEnv(id));
    const sweepId = await submitYaml(world, spec('s3-outage', uri));
    await midSweep(world, sweepId, 1);
    const before = (await world.store.list(layout.trialsPrefix(sweepId))).filter((k) => k.endsWith('result.json')).length;
    const port = await opsPort(world, 'worker-a');
    const t0 = Date.now();
    await world.stopS3();
    const readyz = await waitFor(
      'worker-a to report the bucket unreachable',
      async () => {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        if (!r || r.status !== 503) return undefined;
        return (await r.json()) as { reasons: string[] };
      },
      40_000,
      500,
    );
    expect(readyz.reasons.join(' ')).toMatch(/bucket unreachable since .*cannot reach the S3 endpoint/);
    await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - t0))));
    await world.startS3();
    const back = Date.now();
    const record = await waitForSweep(world, sweepId, 300_000);
    expect(record.state).toBe('completed');
    expect(record.trials).toMatchObject({ total: TRIALS, completed: TRIALS, failed: 0 });
    const results = await expectExactlyOnce(world, sweepId, trials);
    const jobs = (await trials.getJobs(['completed', 'failed'])).filter((j) => (j.data as { sweepId: string }).sweepId === sweepId);
    expect(jobs).toHaveLength(TRIALS);
    // No attempt was spent on the outage: every trial ended on its first attempt.
    expect(jobs.map((j) => j.attemptsMade)).toEqual(Array(TRIALS).fill(1));
    expect(results.map((r) => r.attempt)).toEqual(Array(TRIALS).fill(1));
    const logs = await readFile(join(world.dir, 'worker-a.log'), 'utf8');
    expect(logs).toMatch(/bucket unreachable; taking no new trials/);
    console.log(
      `s3 outage: ${before}/${TRIALS} results before, S3 down ${((back - t0) / 1000).toFixed(0)} s, ${TRIALS}/${TRIALS} results, ` +
        `attempts ${jobs.map((j) => j.attemptsMade).join(',')}, sweep completed ${((Date.parse(record.finishedAt!) - back) / 1000).toFixed(0)} s after S3 came back`,
    );
  });
});

describe('Redis restarted empty mid-sweep', () => {
  let world: TestWorld;
  let redisServer: PrivateRedis;
  afterAll(async () => {
    await world?.cleanup();
    await redisServer?.kill();
  });

  it('the sweep is rebuilt from the bucket: committed results kept, checkpoints resumed, the rest re-run once', async () => {
    redisServer = await privateRedis(await mkdtemp(join(tmpdir(), 'sweepq-redis-')));
    await redisServer.start();
    world = await createWorld('sweepq-test', { redisUrl: redisServer.url });
    const uri = await uploadToyDataset(world, 900);
    world.start('coordinator', 'coordinator', fast);
    for (const id of ['a', 'b']) world.start('worker', `worker-${id}`, workerEnv(id));
    const sweepId = await submitYaml(world, spec('redis-loss', uri));
    const committed = await midSweep(world, sweepId, 2);
    const kept = new Map<string, string>();
    for (const k of committed) kept.set(k, (await world.store.getText(k))!);
    const t0 = Date.now();
    await redisServer.kill();
    await redisServer.start();
    // The rebuild is an event in the coordinator's log. (Polling sweep.json for `recoveries` raced its other writer:
    // the sweep's previous attempt could PUT its older copy over it in between — issue 22's fencing.)
    const rebuilt = await waitFor(
      'the coordinator to log that it rebuilt the sweep from the bucket',
      async () => logLine(world, 'coordinator', (l) => l.msg === 'sweep rebuilt from the bucket and queued again' && l.sweepId === sweepId),
      60_000,
      100,
    );
    const recoverySec = (Date.now() - t0) / 1000;
    expect(rebuilt.reason).toMatch(/Redis lost the sweep job/);
    const record = await waitForSweep(world, sweepId, 300_000);
    expect(record.state).toBe('completed');
    expect(record.trials).toMatchObject({ total: TRIALS, completed: TRIALS });
    const redis = await connectProducer(redisServer.url);
    const trials = new Queue(QueueName.Trials, { connection: redis, prefix: world.prefix });
    try {
      const results = await expectExactlyOnce(world, sweepId, trials);
      // Results committed before the restart are the same objects, untouched.
      for (const [k, text] of kept) expect(await world.store.getText(k)).toBe(text);
      const resumed = results.filter((r) => (r.resumes ?? []).length > 0);
      console.log(
        `redis loss: ${committed.length}/${TRIALS} committed before, rebuilt ${recoverySec.toFixed(1)} s after the restart, ` +
          `${TRIALS}/${TRIALS} results, ${resumed.length} trial(s) resumed from a checkpoint (${resumed.map((r) => `${r.trialId} from epoch ${r.resumes![0]!.fromEpoch}`).join(', ')})`,
      );
    } finally {
      await trials.close();
      redis.disconnect();
    }
  });
});

describe('the owning coordinator and a busy worker killed together; a stranded sweep cancelled, then retried', () => {
  let world: TestWorld;
  let redis: Redis;
  let trials: Queue;
  let closeRedis = () => undefined as void;
  afterEach(async () => {
    await stopAll(world.processes.splice(0), 20_000);
  });
  afterAll(async () => {
    await trials?.close();
    closeRedis();
    await world?.cleanup();
  });

  it("a standby coordinator takes the sweep over after its owner's death; every trial exactly once", async () => {
    world = await createWorld();
    redis = await connectProducer(REDIS_URL);
    closeRedis = () => redis.disconnect();
    trials = new Queue(QueueName.Trials, { connection: redis, prefix: world.prefix });
    const uri = await uploadToyDataset(world, 900);
    const coordinators = { c1: world.start('coordinator', 'coordinator-c1', { ...fast, COORDINATOR_ID: 'c1' }), c2: world.start('coordinator', 'coordinator-c2', { ...fast, COORDINATOR_ID: 'c2' }) };
    // One worker, killed with the owner: the sweep cannot move on until a new worker starts, so what status shows in
    // between does not depend on how fast this machine trains.
    const w1 = world.start('worker', 'worker-1', workerEnv('w1'));
    const sweepId = await submitYaml(world, spec('kill-both', uri));
    await midSweep(world, sweepId, 1);
    const st = await runCli(['status', sweepId, '--json'], world.env);
    expect(st.status, st.stderr).toBe(0);
    const owner = (JSON.parse(st.stdout) as { owner: { coordinator: 'c1' | 'c2' } }).owner.coordinator;
    const standby = owner === 'c1' ? 'c2' : 'c1';
    coordinators[owner].child.kill('SIGKILL');
    w1.child.kill('SIGKILL');
    await Promise.all([coordinators[owner].exited, w1.exited]);
    const killedAt = Date.now();
    const takenOver = await waitFor(
      `coordinator ${standby} to take the sweep over`,
      async () => ((await readFile(join(world.dir, `coordinator-${standby}.log`), 'utf8')).includes('taking over sweep') ? Date.now() : undefined),
      60_000,
      100,
    );
    // How long the takeover took is a figure for the log, not an assertion: on loaded cores it is anyone's guess.
    const takeoverSec = (takenOver - killedAt) / 1000;
    const st2 = await runCli(['status', sweepId], world.env);
    expect(st2.stdout).toMatch(new RegExp(`owner {4}coordinator ${standby}, heartbeat \\d+ s ago`));
    expect(st2.stdout).toMatch(/alive {4}1 coordinator, 0 workers/);
    expect(st2.stdout).toMatch(/warning {2}no worker is running/);
    world.start('worker', 'worker-3', workerEnv('w3'));
    const record = await waitForSweep(world, sweepId, 300_000);
    expect(record.state).toBe('completed');
    await expectExactlyOnce(world, sweepId, trials);
    console.log(`kill both: owner ${owner} and a busy worker SIGKILLed; ${standby} took the sweep over ${takeoverSec.toFixed(1)} s later; ${TRIALS}/${TRIALS} results, each once`);
  });

  it('a sweep whose coordinator is gone is cancelled by the CLI itself, then retried and finished by a new coordinator', async () => {
    const uri = await uploadToyDataset(world, 900, 'toy2.csv');
    const c1 = world.start('coordinator', 'coordinator-s1', fast);
    const w1 = world.start('worker', 'worker-s1', workerEnv('s1'));
    const sweepId = await submitYaml(world, spec('stranded', uri));
    await waitFor(
      'a committed trial',
      async () => ((await world.store.list(layout.trialsPrefix(sweepId))).some((k) => k.endsWith('result.json')) ? true : undefined),
      180_000,
      100,
    );
    // Coordinator and worker die: the sweep stays `running` with nobody to finish it, a trial stuck `active`.
    c1.child.kill('SIGKILL');
    w1.child.kill('SIGKILL');
    await Promise.all([c1.exited, w1.exited]);
    // Its heartbeat (the owner key) expires and Redis drops the dead processes' connections; with no coordinator,
    // status still counts from Redis and says so. Waited for, not slept on: a fixed sleep raced the key's TTL.
    const sweeps = new Queue(QueueName.Sweeps, { connection: redis, prefix: world.prefix });
    try {
      await waitFor(
        "the dead coordinator's heartbeat to expire and both processes' connections to close",
        async () =>
          (await redis.exists(redisKeys(world.prefix).owner(sweepId))) === 0 && (await sweeps.getWorkers()).length === 0 && (await trials.getWorkers()).length === 0
            ? true
            : undefined,
        60_000,
        100,
      );
    } finally {
      await sweeps.close();
    }
    const committed = (await world.store.list(layout.trialsPrefix(sweepId))).filter((k) => k.endsWith('result.json')).length;
    const st = await runCli(['status', sweepId, '--json'], world.env);
    expect(st.status, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout) as { trials: { completed: number }; alive: { coordinators: number; workers: number }; owner: unknown; warnings: string[] };
    expect(status.alive).toEqual({ coordinators: 0, workers: 0 });
    expect(status.owner).toBeNull();
    expect(status.trials.completed).toBeGreaterThanOrEqual(committed);
    expect(status.warnings.join(' ')).toMatch(/no coordinator is running/);
    // Nobody will finish the sweep: cancel does it.
    const cancel = await runCli(['cancel', sweepId, '--json'], world.env);
    expect(cancel.status, cancel.stderr).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ state: 'cancelled' });
    const cancelled = (await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId)))!;
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.trials!.cancelled).toBeGreaterThan(0);
    expect(await world.store.exists(layout.leaderboardJson(sweepId))).toBe(true);
    // The dead worker's trial is still `active` in BullMQ, but nobody holds its lock: retry takes it too.
    const retry = await runCli(['retry', sweepId, '--cancelled', '--json'], world.env);
    expect(retry.status, retry.stderr).toBe(0);
    expect((JSON.parse(retry.stdout) as { retried: string[] }).retried.length).toBe(cancelled.trials!.cancelled);
    world.start('coordinator', 'coordinator-s2', fast);
    world.start('worker', 'worker-s2', workerEnv('s2'));
    const record = await waitForSweep(world, sweepId, 300_000);
    expect(record.state).toBe('completed');
    expect(record.retries).toHaveLength(1);
    await expectExactlyOnce(world, sweepId, trials);
    console.log(`stranded: cancelled by the CLI (${cancelled.trials!.cancelled} trials cancelled), retried, ${TRIALS}/${TRIALS} completed`);
  });
});
