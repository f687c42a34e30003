import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SweepLifecycle, TrialLifecycle } from '@sweepq/lifecycle';
import { QueueName, connectProducer } from '@sweepq/queue';
import type { TrialResult } from '@sweepq/results';
import { trialResult } from '@sweepq/results/testing';
import { createLogger } from '@sweepq/runtime';
import { DEFAULT_PARAMS, parseSpec } from '@sweepq/sweep-config';
import { ArtifactStore, createS3Client, startLocalS3, type LocalS3 } from '@sweepq/storage';
import { priorObservations } from '../src/prior-sweeps.js';

// Warm-start observations of a sweep with several objectives: each prior trial's value of every objective, read
// from its result.json (costs included), against a real Redis and the embedded S3 server.
let dir = '';
let s3: LocalS3;
let store: ArtifactStore;
let redis: Redis;
let sweeps: Queue;
let trials: Queue;
let lifecycle: SweepLifecycle;
let trialLifecycle: TrialLifecycle;
const prefix = `{sweepq-prior-mo-${randomBytes(4).toString('hex')}}`;
const logger = createLogger({ name: 'test', level: 'silent' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-prior-mo-'));
  s3 = await startLocalS3({ directory: dir, buckets: ['prior-mo'] });
  store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket: 'prior-mo', endpoint: s3.endpoint });
  redis = await connectProducer(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  sweeps = new Queue(QueueName.Sweeps, { connection: redis, prefix });
  trials = new Queue(QueueName.Trials, { connection: redis, prefix });
  lifecycle = new SweepLifecycle({ store, redis, prefix, sweeps, trials });
  trialLifecycle = new TrialLifecycle({ store, redis, prefix });
});
afterAll(async () => {
  for (const q of [sweeps, trials]) await q?.obliterate({ force: true }).catch(() => undefined);
  const stray = redis ? await redis.keys(`${prefix}*`) : [];
  if (stray.length > 0) await redis.del(...stray);
  await sweeps?.close();
  await trials?.close();
  redis?.disconnect();
  store?.client.destroy();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

function result(index: number, acc: number, bytes: number | undefined): TrialResult {
  return trialResult(index, acc, bytes === undefined ? undefined : { model_bytes: bytes, param_count: 10, latency_ms: 1 }, {
    sweepId: 'prior-a',
    params: { ...DEFAULT_PARAMS, lstm_units: index === 0 ? 8 : 16 },
    final: { epoch: 1, loss: 1, accuracy: acc, val_loss: 0.5, val_accuracy: acc, seconds: 1, samplesPerSec: 10 },
  }); // bytes undefined: an older worker recorded no costs
}

const specLines = (metric: string[]) =>
  ['method: bayes', 'run_cap: 4', ...metric, 'prior_sweeps: [prior-a]', 'parameters:', '  lstm_units: {values: [8, 16]}', 'dataset: {uri: builtin:spam-assassin}'].join('\n');

describe('prior_sweeps with several objectives', () => {
  it("gives every prior trial its value of each objective (null where an older result lacks a cost); a single metric's priors carry no values", async () => {
    await lifecycle.submit({ sweepId: 'prior-a', specText: specLines(['metric: {name: val_accuracy, goal: maximize}']) });
    const doc = await lifecycle.open('prior-a');
    await doc.save({ metric: { name: 'val_accuracy', goal: 'maximize' } });
    await trialLifecycle.commit(result(0, 0.8, 5000), { jobId: undefined, token: undefined, attempt: 1 });
    await trialLifecycle.commit(result(1, 0.9, undefined), { jobId: undefined, token: undefined, attempt: 1 });
    const deps = { store, lifecycle, trialLifecycle, logger };

    const multi = parseSpec(specLines(['metric:', '  - {name: val_accuracy, goal: maximize}', '  - {name: model_bytes, goal: minimize}']));
    const obs = await priorObservations(multi, 'now', deps);
    expect(obs.map((o) => [o.params.lstm_units, o.value, o.values]).sort()).toEqual([
      [16, 0.9, [0.9, null]],
      [8, 0.8, [0.8, 5000]],
    ]);

    const single = await priorObservations(parseSpec(specLines(['metric: {name: val_accuracy, goal: maximize}'])), 'now', deps);
    expect(single).toHaveLength(2);
    for (const o of single) expect(o).not.toHaveProperty('values');
  });
});
