import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArtifactStore,
  StorageError,
  StorageErrorCode,
  createS3Client,
  startLocalS3,
  toStorageError,
  type LocalS3,
  type ObjectDeleted,
  type ObjectWritten,
} from '../src/index.js';

const md5 = (b: Uint8Array | string) => createHash('md5').update(b).digest('hex');

let s3: LocalS3;
let dir: string;
let store: ArtifactStore;
const written: ObjectWritten[] = [];
const deleted: ObjectDeleted[] = [];

function storeOn(server: { endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } }, bucket: string, prefix = '') {
  return new ArtifactStore({
    client: createS3Client({ endpoint: server.endpoint, credentials: server.credentials }),
    bucket,
    prefix,
    endpoint: server.endpoint,
  });
}

/** The SDK's error for a request, with the status and S3 error code it carried. */
async function s3Error(p: Promise<unknown>): Promise<{ status: number | undefined; code: string | undefined }> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return { status: err?.$metadata?.httpStatusCode, code: err?.Code ?? err?.name };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-s3cond-'));
  s3 = await startLocalS3({
    directory: dir,
    buckets: ['cond'],
    onObjectWritten: (e) => written.push(e),
    onObjectDeleted: (e) => deleted.push(e),
  });
  store = storeOn(s3, 'cond', 'pfx');
});

afterAll(async () => {
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});

describe('conditional writes on the embedded server', () => {
  it('If-None-Match: * writes only a new key; If-Match only over the ETag it names', async () => {
    const created = await store.putJsonIfAbsent('c/state.json', { v: 1 });
    expect(created?.etag).toBe(JSON.stringify(md5(`${JSON.stringify({ v: 1 }, null, 2)}\n`)));
    expect(await store.putJsonIfAbsent('c/state.json', { v: 99 })).toBeUndefined();
    expect(await store.putJsonIfMatch('c/state.json', { v: 99 }, '"0123456789abcdef0123456789abcdef"')).toBeUndefined();
    expect(await store.getJsonWithEtag('c/state.json')).toEqual({ value: { v: 1 }, etag: created!.etag });

    const updated = await store.putJsonIfMatch('c/state.json', { v: 2 }, created!.etag);
    expect(updated).toBeDefined();
    expect(updated!.etag).not.toBe(created!.etag);
    // The ETag a write returns is the one a read and a HEAD see, and the old one no longer matches.
    expect(await store.getJsonWithEtag('c/state.json')).toEqual({ value: { v: 2 }, etag: updated!.etag });
    expect(await store.head('c/state.json')).toEqual({ etag: updated!.etag, size: `${JSON.stringify({ v: 2 }, null, 2)}\n`.length });
    expect(await store.putJsonIfMatch('c/state.json', { v: 3 }, created!.etag)).toBeUndefined();
    // Unquoted ETags match too, as on AWS.
    expect(await store.putJsonIfMatch('c/state.json', { v: 3 }, updated!.etag.replace(/"/g, ''))).toBeDefined();

    // A key that is gone fails If-Match, and is free again for If-None-Match.
    await store.delete('c/state.json');
    expect(await store.putJsonIfMatch('c/state.json', { v: 4 }, updated!.etag)).toBeUndefined();
    expect(await store.head('c/state.json')).toBeUndefined();
    expect(await store.getWithEtag('c/state.json')).toBeUndefined();
    expect(await store.getJsonWithEtag('c/state.json')).toBeUndefined();
    expect(await store.putIfAbsent('c/state.json', 'again')).toBeDefined();
    await store.delete('c/state.json');
    await store.delete('c/state.json');
  });

  it('answers as AWS S3 does: 412 PreconditionFailed, 404 NoSuchKey for If-Match on a missing key; copy and multipart complete honour them too', async () => {
    const client = store.client;
    const Bucket = 'cond';
    const Key = 'raw/obj';
    await client.send(new PutObjectCommand({ Bucket, Key, Body: 'one', IfNoneMatch: '*' }));
    expect(await s3Error(client.send(new PutObjectCommand({ Bucket, Key, Body: 'two', IfNoneMatch: '*' })))).toEqual({
      status: 412,
      code: 'PreconditionFailed',
    });
    expect(await s3Error(client.send(new PutObjectCommand({ Bucket, Key, Body: 'two', IfMatch: '"nope"' })))).toEqual({
      status: 412,
      code: 'PreconditionFailed',
    });
    expect(await s3Error(client.send(new PutObjectCommand({ Bucket, Key: 'raw/none', Body: 'two', IfMatch: '"nope"' })))).toEqual({
      status: 404,
      code: 'NoSuchKey',
    });
    await client.send(new PutObjectCommand({ Bucket, Key: 'raw/src', Body: 'source' }));
    expect(
      await s3Error(client.send(new CopyObjectCommand({ Bucket, Key, CopySource: `${Bucket}/raw/src`, IfNoneMatch: '*' }))),
    ).toEqual({ status: 412, code: 'PreconditionFailed' });
    const out = await client.send(new CopyObjectCommand({ Bucket, Key: 'raw/copy', CopySource: `${Bucket}/raw/src`, IfNoneMatch: '*' }));
    expect(out.CopyObjectResult?.ETag).toBe(JSON.stringify(md5('source')));
    // CompleteMultipartUpload too.
    const upload = async (Key: string) => {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      const part = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'multi' }));
      const MultipartUpload = { Parts: [{ PartNumber: 1, ETag: part.ETag! }] };
      return client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload, IfNoneMatch: '*' }));
    };
    expect(await s3Error(upload(Key))).toEqual({ status: 412, code: 'PreconditionFailed' });
    await upload('raw/multi');
    const raw = storeOn(s3, 'cond');
    expect(new TextDecoder().decode((await raw.getWithEtag('raw/multi'))!.body)).toBe('multi');
    expect(new TextDecoder().decode((await raw.getWithEtag('raw/copy'))!.body)).toBe('source');
    // Ranges still read from the object's one version.
    const ranged = await client.send(new GetObjectCommand({ Bucket, Key, Range: 'bytes=1-2' }));
    expect([ranged.ContentRange, await ranged.Body!.transformToString()]).toEqual(['bytes 1-2/3', 'ne']);
    expect(new TextDecoder().decode((await raw.getWithEtag(Key))!.body)).toBe('one');
    await raw.deletePrefix('raw/');
  });

  it('lets exactly one of 20 racing writes win, for If-Match on one ETag and for If-None-Match: *', async () => {
    const base = await store.put('race/m', 'base');
    const matched = await Promise.all(Array.from({ length: 20 }, (_, i) => store.putIfMatch('race/m', `writer ${i}`, base.etag)));
    const winners = matched.flatMap((r, i) => (r ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(new TextDecoder().decode((await store.getWithEtag('race/m'))!.body)).toBe(`writer ${winners[0]}`);

    const absent = await Promise.all(Array.from({ length: 20 }, (_, i) => store.putIfAbsent('race/a', `creator ${i}`)));
    const creators = absent.flatMap((r, i) => (r ? [i] : []));
    expect(creators).toHaveLength(1);
    expect(new TextDecoder().decode((await store.getWithEtag('race/a'))!.body)).toBe(`creator ${creators[0]}`);
    // The server committed exactly the writes it acknowledged.
    expect(written.filter((e) => e.key.startsWith('pfx/race/')).map((e) => [e.key, e.body.toString()])).toEqual([
      ['pfx/race/m', 'base'],
      ['pfx/race/m', `writer ${winners[0]}`],
      ['pfx/race/a', `creator ${creators[0]}`],
    ]);
    await store.deletePrefix('race/');
  });

  it('never serves a torn object: every read of a 2 MB object being rewritten is one whole version, with its own ETag', async () => {
    const version = (n: number) => {
      const b = new Uint8Array(2 * 1024 * 1024 + n);
      for (let i = 0; i < b.length; i++) b[i] = (i * 31 + n * 17) % 256;
      return b;
    };
    const versions = new Map<string, number>();
    const first = version(0);
    versions.set(md5(first), 0);
    await store.put('torn/big.bin', first);
    for (let n = 1; n <= 12; n++) versions.set(md5(version(n)), n);

    let writing = true;
    const writer = (async () => {
      for (let n = 1; n <= 12; n++) await store.put('torn/big.bin', version(n));
      writing = false;
    })();
    const seen: number[] = [];
    const readers = Array.from({ length: 3 }, async () => {
      while (writing || seen.length < 30) {
        const got = (await store.getWithEtag('torn/big.bin'))!;
        const sum = md5(got.body);
        expect(versions.has(sum), `a read of ${got.body.length} bytes matches no written version`).toBe(true);
        expect(got.etag).toBe(JSON.stringify(sum));
        seen.push(versions.get(sum)!);
      }
    });
    await Promise.all([writer, ...readers]);
    expect(seen.length).toBeGreaterThanOrEqual(30);
    expect(seen.at(-1)).toBe(12);
    await store.deletePrefix('torn/');
  }, 120_000);

  it('reports each committed write and delete once, in order, with the ETag and bytes the client saw', async () => {
    const from = written.length;
    const delFrom = deleted.length;
    const a = await store.put('hooks/a', 'first');
    const b = await store.putIfMatch('hooks/a', 'second', a.etag);
    expect(await store.putIfMatch('hooks/a', 'refused', a.etag)).toBeUndefined();
    expect(await store.putIfAbsent('hooks/a', 'refused')).toBeUndefined();
    const c = await store.putJson('hooks/b.json', { n: 1 });
    await store.delete('hooks/a');
    await store.delete('hooks/a');
    await store.deletePrefix('hooks/');
    expect(written.slice(from).map((e) => [e.bucket, e.key, e.etag, e.body.toString()])).toEqual([
      ['cond', 'pfx/hooks/a', a.etag, 'first'],
      ['cond', 'pfx/hooks/a', b!.etag, 'second'],
      ['cond', 'pfx/hooks/b.json', c.etag, `${JSON.stringify({ n: 1 }, null, 2)}\n`],
    ]);
    expect(deleted.slice(delFrom).map((e) => [e.bucket, e.key])).toEqual([
      ['cond', 'pfx/hooks/a'],
      ['cond', 'pfx/hooks/b.json'],
    ]);
    const times = written.slice(from).map((e) => e.at);
    expect([...times].sort((x, y) => x - y)).toEqual(times);
  });
});

describe('checkConditionalWrites', () => {
  it('passes on the embedded server, probes once per store, and leaves nothing behind', async () => {
    const fresh = storeOn(s3, 'cond', 'probe-pfx');
    await fresh.ensureBucket();
    const before = s3.requests();
    await fresh.checkConditionalWrites();
    await fresh.ensureBucket(false);
    // Only ensureBucket's HEAD bucket: the probe's outcome is kept.
    expect(s3.requests() - before).toBe(1);
    expect(await fresh.list('')).toEqual([]);
  });

  it('fails, naming what was ignored, against s3rver as published (which ignores If-None-Match and If-Match)', async () => {
    const plainDir = await mkdtemp(join(tmpdir(), 'sweepq-s3plain-'));
    const plain = new S3rver({ address: '127.0.0.1', port: 0, directory: plainDir, silent: true, configureBuckets: [{ name: 'plain', configs: [] }] });
    const addr = (await plain.run()) as AddressInfo;
    const endpoint = `http://127.0.0.1:${addr.port}`;
    try {
      const s = storeOn({ endpoint, credentials: s3.credentials }, 'plain');
      const err = await s.ensureBucket().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toBe(StorageErrorCode.NoConditionalWrites);
      const msg = (err as Error).message;
      expect(msg).toContain(`the S3 server at ${endpoint} (bucket "plain") ignores conditional writes`);
      expect(msg).toContain('PUT with If-None-Match: * over an existing object succeeded (expected 412 PreconditionFailed)');
      expect(msg).toContain('sweepq needs conditional writes to fence zombie writers');
      expect(msg).toContain('Use AWS S3, or an S3-compatible server that honours If-None-Match: * and If-Match on PutObject');
      // The same answer again, without a second probe; and a caller that opts out still gets its bucket check.
      await expect(s.checkConditionalWrites()).rejects.toBe(err);
      await s.ensureBucket(false, { checkConditionalWrites: false });
      s.client.destroy();
    } finally {
      await plain.close();
      await rm(plainDir, { recursive: true, force: true });
    }
  });
});

describe('toStorageError for conditional writes', () => {
  it('calls 412 a failed precondition (not retried) and 409 ConditionalRequestConflict transient (retried, as AWS asks)', () => {
    const sdk = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    const failed = toStorageError(sdk('PreconditionFailed', 412), { op: 'put', bucket: 'b', key: 'k' });
    expect([failed.code, failed.transient]).toEqual([StorageErrorCode.PreconditionFailed, false]);
    const conflict = toStorageError(sdk('ConditionalRequestConflict', 409), { op: 'put', bucket: 'b', key: 'k' });
    expect([conflict.code, conflict.transient]).toEqual([StorageErrorCode.Failed, true]);
    const otherConflict = toStorageError(sdk('BucketAlreadyExists', 409), { op: 'create bucket', bucket: 'b' });
    expect(otherConflict.transient).toBe(false);
  });
});
