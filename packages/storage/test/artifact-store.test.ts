import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore, StorageError, StorageErrorCode, createS3Client, layout, parseS3Uri, startLocalS3, toStorageError, type LocalS3 } from '../src/index.js';

let s3: LocalS3;
let dir: string;
let store: ArtifactStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-s3-'));
  s3 = await startLocalS3({ directory: dir, buckets: ['unit'] });
  store = new ArtifactStore({
    client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }),
    bucket: 'unit',
    prefix: 'pfx',
    endpoint: s3.endpoint,
  });
});

afterAll(async () => {
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ArtifactStore on a real S3-protocol server', () => {
  it('puts, gets, lists and deletes under its prefix', async () => {
    await store.putJson('a/x.json', { n: 1 });
    await store.put('a/y.bin', new Uint8Array([1, 2, 3]));
    expect(await store.getJson('a/x.json')).toEqual({ n: 1 });
    expect(Array.from((await store.get('a/y.bin'))!)).toEqual([1, 2, 3]);
    expect(await store.get('a/missing')).toBeUndefined();
    expect(await store.exists('a/x.json')).toBe(true);
    expect(await store.exists('a/nope')).toBe(false);
    expect(await store.list('a/')).toEqual(['a/x.json', 'a/y.bin']);
    expect(store.uri('a/x.json')).toBe('s3://unit/pfx/a/x.json');
    expect(await store.deletePrefix('a/')).toBe(2);
    expect(await store.list('a/')).toEqual([]);
  });

  it('lists past the first 1,000-key page (a sweep of a few hundred trials has more files than that)', async () => {
    const keys = Array.from({ length: 1203 }, (_, i) => `many/t${String(i).padStart(4, '0')}/result.json`);
    for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((k) => store.put(k, '{}')));
    await store.put('many-other/x.json', '{}');
    expect(await store.list('many/')).toEqual(keys);
    expect(await store.deletePrefix('many/')).toBe(keys.length);
  }, 60_000);

  it('round-trips a 5 MB object', async () => {
    const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => i % 251);
    await store.put('big.bin', big);
    const back = await store.getRequired('big.bin');
    expect(back.length).toBe(big.length);
    expect(back[123_456]).toBe(big[123_456]);
  });

  it('names a missing bucket and an unreachable endpoint', async () => {
    const missing = new ArtifactStore({
      client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }),
      bucket: 'does-not-exist',
      endpoint: s3.endpoint,
    });
    await expect(missing.ensureBucket()).rejects.toThrow(/bucket "does-not-exist" does not exist/);
    await missing.ensureBucket(true);
    await missing.ensureBucket();

    const dead = new ArtifactStore({
      client: createS3Client({ endpoint: 'http://127.0.0.1:1', credentials: s3.credentials, maxAttempts: 1 }),
      bucket: 'unit',
      endpoint: 'http://127.0.0.1:1',
      retry: { forMs: 0 },
    });
    const err = await dead.put('k', 'v').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).transient).toBe(true);
    expect((err as Error).message).toMatch(/cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:1/);
  });

  it('rides out an outage of the server: the write waits, then lands; health goes down and up once each', async () => {
    const odir = await mkdtemp(join(tmpdir(), 'sweepq-s3-outage-'));
    let server = await startLocalS3({ directory: odir, buckets: ['outage'] });
    const port = server.port;
    const changes: boolean[] = [];
    const s = new ArtifactStore({
      client: createS3Client({ endpoint: server.endpoint, credentials: server.credentials, maxAttempts: 1 }),
      bucket: 'outage',
      endpoint: server.endpoint,
      retry: { forMs: 30_000, baseMs: 100, capMs: 500 },
      onHealthChange: (h) => changes.push(h.ok),
    });
    await s.putJson('before.json', { n: 1 });
    await server.close();
    const t0 = Date.now();
    const write = s.putJson('during.json', { n: 2 });
    await new Promise((r) => setTimeout(r, 2500));
    expect(s.health.ok).toBe(false);
    expect(s.health.error).toMatch(/cannot reach the S3 endpoint/);
    expect(await s.ping()).toBe(false);
    server = await startLocalS3({ directory: odir, buckets: ['outage'], port });
    await write;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2500);
    expect(await s.getJson('during.json')).toEqual({ n: 2 });
    expect(await s.getJson('before.json')).toEqual({ n: 1 });
    expect(s.health.ok).toBe(true);
    expect(changes).toEqual([false, true]);
    // A missing object is an answer, not an outage: no retries, health stays up.
    expect(await s.get('nope')).toBeUndefined();
    expect(changes).toEqual([false, true]);
    // Past the retry budget the last error is thrown.
    await server.close();
    const quick = new ArtifactStore({
      client: createS3Client({ endpoint: server.endpoint, credentials: server.credentials, maxAttempts: 1 }),
      bucket: 'outage',
      retry: { forMs: 600, baseMs: 100, capMs: 200 },
    });
    const t1 = Date.now();
    await expect(quick.put('k', 'v')).rejects.toThrow(/cannot reach/);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(500);
    await rm(odir, { recursive: true, force: true });
  });

  it('refuses keys and ids that could escape their prefix', () => {
    expect(() => store.fullKey('../x')).toThrow(StorageError);
    expect(() => layout.result('../../etc', 't0001')).toThrow(/sweep id/);
    expect(() => layout.result('s1', 'T/1')).toThrow(/trial id/);
    expect(layout.result('s1', 't0001')).toBe('sweeps/s1/trials/t0001/result.json');
    expect(parseS3Uri('s3://my-bucket/data/x.csv')).toEqual({ bucket: 'my-bucket', key: 'data/x.csv' });
    expect(() => parseS3Uri('http://x/y')).toThrow(/expected s3:\/\/<bucket>\/<key>/);
  });
});

describe('toStorageError', () => {
  it('says that credentials are missing, and does not call it transient (a retry cannot find them)', () => {
    // What @aws-sdk/credential-provider-node throws when its chain finds nothing.
    const sdkError = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError', tryNextLink: false });
    const e = toStorageError(sdkError, { op: 'head bucket', bucket: 'b' });
    expect(e.code).toBe(StorageErrorCode.AccessDenied);
    expect(e.transient).toBe(false);
    expect(e.message).toBe(
      'head bucket s3://b/: no S3 credentials (Could not load credentials from any providers); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an IAM role applies',
    );
  });
});
