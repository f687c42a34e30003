import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAnswers } from '@sweepq/queue';
import type { TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { createWorld, waitFor, type TestWorld } from './helpers/env.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

// A private Redis with a password and AOF persistence (as in production), which the test restarts.
const PASSWORD = 'sw33p-redis-pa55word';
const S3_SECRET = 'S3RVER';
let port: number;
let redisDir: string;
let redis: ChildProcess | undefined;
let world: TestWorld;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const p = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return p;
}

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', PASSWORD, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', redisDir], { stdio: 'ignore' });
  await waitFor('redis to answer', async () => ((await redisAnswers(`redis://:${PASSWORD}@127.0.0.1:${port}`, 300)) ? true : undefined), 10_000, 100);
}

async function stopRedis(): Promise<void> {
  if (!redis || redis.exitCode !== null) return;
  const exited = new Promise((r) => redis!.once('exit', r));
  redis.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  const tmp = await mkdtemp(join(tmpdir(), 'sweepq-redis-'));
  redisDir = join(tmp, 'redis');
  await mkdir(redisDir, { recursive: true });
  await startRedis();
  const secrets = join(redisDir, '..', 'secrets');
  await mkdir(secrets, { recursive: true });
  await writeFile(join(secrets, 'redis-password'), `${PASSWORD}\n`);
  await writeFile(join(secrets, 'aws-secret'), `${S3_SECRET}\n`);
  world = await createWorld('sweepq-test', {
    redisUrl: `redis://127.0.0.1:${port}`,
    adminRedisUrl: `redis://:${PASSWORD}@127.0.0.1:${port}`,
    env: { REDIS_PASSWORD_FILE: join(secrets, 'redis-password'), AWS_SECRET_ACCESS_KEY_FILE: join(secrets, 'aws-secret'), AWS_SECRET_ACCESS_KEY: '' },
  });
});

afterAll(async () => {
  await world?.cleanup();
  await stopRedis();
  await rm(join(redisDir, '..'), { recursive: true, force: true });
});

describe('Redis restarts, passwords and secrets', () => {
  it('workers and the coordinator reconnect after Redis restarts mid-sweep; no secret reaches logs or the bucket', async () => {
    expect(await redisAnswers(`redis://127.0.0.1:${port}`, 500)).toBe(false); // a password is required
    const uri = await uploadToyDataset(world, 1500);
    world.start('coordinator', 'coordinator');
    world.start('worker', 'worker-1', { WORKER_ID: 'r1' });
    world.start('worker', 'worker-2', { WORKER_ID: 'r2' });
    const sweepId = await submitYaml(world, [
      'name: redis-restart',
      'method: grid',
      'parameters:',
      '  learning_rate: {values: [0.003, 0.01, 0.03]}',
      '  embedding_dim: {value: 8}',
      '  lstm_units: {value: 8}',
      '  max_words: {value: 60}',
      '  max_len: {value: 30}',
      '  batch_size: {value: 16}',
      '  epochs: {value: 4}',
      'dataset:',
      `  uri: ${uri}`,
    ]);
    await waitFor(
      'a first checkpoint',
      async () => ((await world.store.list(layout.trialsPrefix(sweepId))).some((k) => /\/checkpoint\/e\d+\/weights\.bin$/.test(k)) ? true : undefined),
      120_000,
      100,
    );
    await stopRedis();
    await sleep(3000);
    await startRedis();

    const record = await waitForSweep(world, sweepId, 240_000);
    expect(record.state, record.error).toBe('completed');
    expect(record.trials).toMatchObject({ total: 3, completed: 3 });
    for (const t of ['t0000', 't0001', 't0002']) {
      const r = (await world.store.getJson<TrialResult>(layout.result(sweepId, t)))!;
      expect(r.state).toBe('completed');
      const lines = (await world.store.getText(layout.metrics(sweepId, t)))!.trim().split('\n');
      expect(lines).toHaveLength(4);
    }
    for (const p of world.processes) expect(p.child.exitCode, p.name).toBeNull();

    // Secrets never appear in logs or in anything written to the bucket.
    const logs = (await readdir(world.dir)).filter((f) => f.endsWith('.log'));
    expect(logs.length).toBeGreaterThanOrEqual(3);
    for (const f of logs) {
      const text = await readFile(join(world.dir, f), 'utf8');
      expect(text, f).not.toContain(PASSWORD);
      expect(text, f).not.toMatch(/secretAccessKey"?\s*[:=]\s*"?S3RVER/);
    }
    for (const key of await world.store.list(layout.sweepPrefix(sweepId))) {
      if (!/\.(json|jsonl|csv|yaml|html|md)$/.test(key)) continue;
      const text = (await world.store.getText(key))!;
      expect(text, key).not.toContain(PASSWORD);
    }
  });
});
