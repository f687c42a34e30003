import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, connectProducer } from '@sweepq/queue';
import type { TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { REDIS_URL, createWorld, waitFor, type TestWorld } from './helpers/env.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

/** The ops port a service logged at start-up (METRICS_PORT=0 picks a free one). */
async function opsPort(name: string, message: string): Promise<number> {
  return waitFor(
    `${name} to log its ops port`,
    async () => {
      const text = await readFile(join(world.dir, `${name}.log`), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line.includes(`"msg":"${message}"`)) continue;
        const port = (JSON.parse(line) as { opsPort?: number }).opsPort;
        if (port) return port;
      }
      return undefined;
    },
    60_000,
    200,
  );
}

const get = async (port: number, path: string) => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, text: await r.text() };
};

describe('ops endpoints and one-shot workers', () => {
  it('serves /backlog, /metrics, /healthz and /readyz; a one-shot worker trains exactly one trial and exits 0', async () => {
    const uri = await uploadToyDataset(world, 200);
    world.start('coordinator', 'coordinator');
    const cport = await opsPort('coordinator', 'coordinator started');
    expect(JSON.parse((await get(cport, '/backlog')).text)).toEqual({ backlog: 0, waiting: 0, prioritized: 0, active: 0, delayed: 0 });
    await waitFor('the coordinator to report ready', async () => ((await get(cport, '/readyz')).status === 200 ? true : undefined), 30_000, 100);
    expect((await get(cport, '/healthz')).status).toBe(200);
    expect((await get(cport, '/nope')).status).toBe(404);

    const sweepId = await submitYaml(world, [
      'name: one-shot',
      'method: grid',
      'parameters:',
      '  learning_rate: {values: [0.01, 0.02, 0.03]}',
      '  embedding_dim: {value: 4}',
      '  lstm_units: {value: 4}',
      '  max_words: {value: 30}',
      '  max_len: {value: 8}',
      '  epochs: {value: 1}',
      'dataset:',
      `  uri: ${uri}`,
    ]);
    // Three trials queued and no worker: the backlog an autoscaler sees is 3.
    const backlog = await waitFor(
      'the trials to be enqueued',
      async () => {
        const b = JSON.parse((await get(cport, '/backlog')).text) as { backlog: number };
        return b.backlog === 3 ? b : undefined;
      },
      60_000,
      200,
    );
    expect(backlog).toMatchObject({ backlog: 3, waiting: 3, active: 0 });
    const metrics = (await get(cport, '/metrics')).text;
    expect(metrics).toMatch(/^sweepq_trials_backlog 3$/m);
    expect(metrics).toMatch(/^sweepq_trials\{state="waiting"\} 3$/m);

    // Three one-shot workers, one after another: each takes one trial and exits 0. The first one's ops endpoint is
    // probed while the queue is paused, so it is alive for certain: a one-shot worker that found a trial at once may
    // have trained it and exited before a probe reaches it (seen as ECONNREFUSED).
    const redis = await connectProducer(REDIS_URL);
    const trialsQueue = new Queue(QueueName.Trials, { connection: redis, prefix: world.prefix });
    await trialsQueue.pause();
    const first = world.start('worker', 'oneshot-1', { WORKER_ID: 'o1', WORKER_ONE_SHOT: 'true' });
    try {
      const port = await opsPort('oneshot-1', 'worker started');
      expect((await get(port, '/healthz')).status).toBe(200);
      expect(first.child.exitCode, 'the one-shot worker waits while the queue is paused').toBeNull();
      await trialsQueue.resume();
    } finally {
      await trialsQueue.close();
      redis.disconnect();
    }
    for (let i = 1; i <= 3; i++) {
      const w = i === 1 ? first : world.start('worker', `oneshot-${i}`, { WORKER_ID: `o${i}`, WORKER_ONE_SHOT: 'true' });
      expect(await w.exited).toBe(0);
      const log = await readFile(join(world.dir, `oneshot-${i}.log`), 'utf8');
      expect(log.split('\n').filter((l) => l.includes('"msg":"trial completed"'))).toHaveLength(1);
    }
    const record = await waitForSweep(world, sweepId, 60_000);
    expect(record.trials).toMatchObject({ total: 3, completed: 3 });
    const workers = [];
    for (const t of ['t0000', 't0001', 't0002']) workers.push((await world.store.getJson<TrialResult>(layout.result(sweepId, t)))!.worker);
    expect(workers.sort()).toEqual(['o1', 'o2', 'o3']);

    // A long-running worker's metrics after a trial.
    const w = world.start('worker', 'steady', { WORKER_ID: 's1' });
    const wport = await opsPort('steady', 'worker started');
    // Readiness follows the Redis connection, which may still be connecting when the start line is logged;
    // a probe polls it, and so does this test.
    await waitFor('the worker to report ready', async () => ((await get(wport, '/readyz')).status === 200 ? true : undefined), 30_000, 100);
    const sweep2 = await submitYaml(world, [
      'name: metrics',
      'method: grid',
      'parameters:',
      '  embedding_dim: {value: 4}',
      '  lstm_units: {value: 4}',
      '  max_words: {value: 30}',
      '  max_len: {value: 8}',
      '  epochs: {value: 2}',
      'dataset:',
      `  uri: ${uri}`,
    ]);
    await waitForSweep(world, sweep2, 60_000);
    const wm = (await get(wport, '/metrics')).text;
    expect(wm).toMatch(/^sweepq_worker_trials_total\{state="completed",worker="s1",backend="\w+"\} 1$/m);
    expect(wm).toMatch(/^sweepq_worker_epoch_duration_seconds_count\{worker="s1",backend="\w+"\} 2$/m);
    expect(wm).toMatch(/^sweepq_worker_checkpoint_seconds_count\{[^}]*\} 2$/m);
    expect(wm).toMatch(/^sweepq_worker_enqueue_to_start_seconds_count\{[^}]*\} 1$/m);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(143);
  });
});
