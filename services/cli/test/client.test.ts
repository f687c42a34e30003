// The script client against real Redis and the in-process S3 server, with no coordinator or worker: what it does
// on its own, and the error codes a script switches on. The packed client training a sweep is in
// test/package-install.test.ts.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectProducer } from '@sweepq/queue';
import { startLocalS3, type LocalS3 } from '@sweepq/storage';
import { SweepqClient, SweepqClientError, SweepqClientErrorCode, type SweepqClientOptions } from '../src/client/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{sweepq-client-test-${randomBytes(4).toString('hex')}}`;
let dir: string;
let s3: LocalS3;
let client: SweepqClient;
let options: SweepqClientOptions;

const spec = (name: string) => ({
  name,
  method: 'random',
  run_cap: 2,
  metric: { name: 'val_accuracy', goal: 'maximize' },
  parameters: { lstm_units: { values: [4, 8] }, epochs: { value: 1 } },
});

/** The client error a promise rejects with. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SweepqClientError);
  return (err as SweepqClientError).code;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-client-'));
  s3 = await startLocalS3({ directory: dir, buckets: ['client-test'] });
  // Options only, nothing from the environment: what a script that configures itself passes.
  options = {
    redisUrl: REDIS_URL,
    queuePrefix: prefix,
    s3: { endpoint: s3.endpoint, bucket: 'client-test', region: 'us-east-1', credentials: s3.credentials, forcePathStyle: true },
    env: {},
  };
  client = await SweepqClient.connect(options);
});

afterAll(async () => {
  await client?.close();
  const redis = await connectProducer(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SweepqClient without services', () => {
  it('submits a spec object: the sweep is queued, its spec stored as YAML, and the id is taken', async () => {
    const sweep = await client.submit(spec('object spec'), { id: 'client-object' });
    expect(sweep.id).toBe('client-object');
    expect(sweep.location).toBe('s3://client-test/sweeps/client-object/');
    const status = await sweep.status();
    expect(status.sweep.state).toBe('queued');
    expect(status.alive).toEqual({ coordinators: 0, workers: 0 });
    expect(status.warnings.join('\n')).toMatch(/no coordinator is running/);
    expect(await codeOf(client.submit(spec('again'), { id: 'client-object' }))).toBe(SweepqClientErrorCode.Exists);
  });

  it('submits YAML text and names the sweep from the spec', async () => {
    const sweep = await client.submit('name: Yaml Text\nmethod: grid\nparameters:\n  lstm_units: {values: [4]}\n');
    expect(sweep.id).toMatch(/^yaml-text-\d{14}-[0-9a-f]{6}$/);
    expect((await client.read(sweep.id))?.name).toBe('Yaml Text');
  });

  it('refuses an invalid spec with SPEC_INVALID and submits nothing', async () => {
    const err = await client.submit({ method: 'grid', parameters: { lstm_unit: { values: [4] } } }, { id: 'client-bad' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SweepqClientError);
    expect((err as SweepqClientError).code).toBe('SPEC_INVALID');
    expect((err as Error).message).toMatch(/lstm_unit/);
    expect(await client.read('client-bad')).toBeUndefined();
  });

  it('names a bad id INVALID_ARGUMENT and an unknown sweep SWEEP_NOT_FOUND', async () => {
    expect(() => client.sweep('Not An Id')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as unknown as Error);
    expect(await codeOf(client.sweep('no-such-sweep').status())).toBe(SweepqClientErrorCode.NotFound);
    expect(await codeOf(client.sweep('no-such-sweep').leaderboard())).toBe(SweepqClientErrorCode.NotFound);
    expect(await client.sweep('no-such-sweep').bestModel()).toBeUndefined();
  });

  it('cancels a sweep no coordinator has started; extend then refuses a sweep that is not finished yet, and wait stops on abort', async () => {
    const queued = await client.submit(spec('to extend'), { id: 'client-unfinished' });
    expect(await codeOf(queued.extend(5))).toBe(SweepqClientErrorCode.Refused);
    const aborted = new AbortController();
    aborted.abort();
    expect(await codeOf(queued.wait({ signal: aborted.signal }))).toBe(SweepqClientErrorCode.Aborted);

    const sweep = await client.submit(spec('to cancel'), { id: 'client-cancel' });
    expect(await sweep.cancel()).toEqual({ removed: 0, state: 'cancelled' });
    const done = await sweep.wait({ pollMs: 50 });
    expect(done.sweep.state).toBe('cancelled');
    expect(await sweep.results()).toEqual([]);
  });

  it('says CLIENT_CLOSED after close', async () => {
    const other = await SweepqClient.connect(options);
    await other.close();
    await other.close();
    expect(await codeOf(other.submit(spec('late')))).toBe(SweepqClientErrorCode.Closed);
  });

  it('says REDIS_UNAVAILABLE when nothing answers at the Redis URL, and CONFIG_INVALID for a URL that is not one', async () => {
    const err = await SweepqClient.connect({ ...options, redisUrl: 'redis://127.0.0.1:1' }).catch((e: unknown) => e);
    expect((err as SweepqClientError).code).toBe('REDIS_UNAVAILABLE');
    expect((err as Error).message).toMatch(/127\.0\.0\.1:1/);
    expect(await codeOf(SweepqClient.connect({ ...options, redisUrl: 'http://127.0.0.1:6379' }))).toBe(SweepqClientErrorCode.Config);
  });

  it('says STORAGE_FAILED naming the bucket when it does not exist', async () => {
    const err = await SweepqClient.connect({ ...options, s3: { ...options.s3, bucket: 'no-such-bucket' } }).catch((e: unknown) => e);
    expect((err as SweepqClientError).code).toBe('STORAGE_FAILED');
    expect((err as Error).message).toMatch(/no-such-bucket/);
  });
});
