import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { StorageError, StorageErrorCode, toStorageError } from './errors.js';
import { parseS3Uri } from './uri.js';
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { Readable } from 'node:stream';

/** Options for {@link createS3Client}. */
export interface S3ConnectionOptions {
  /** Custom endpoint (MinIO, s3rver); default: AWS. */
  endpoint?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Path-style addressing, needed by MinIO and s3rver; default true when `endpoint` is set. */
  forcePathStyle?: boolean;
  /** Explicit credentials; default: the AWS SDK's standard chain (AWS_ACCESS_KEY_ID, profiles, IRSA…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts for the SDK's own retry of throttling/5xx/network errors; default 4. */
  maxAttempts?: number;
}

/**
 * How long the store keeps retrying an operation that failed for a reason a healthy system would not repeat
 * (5xx, throttling, timeouts, connection refused/reset). Non-transient errors (404, 403, bad key) are never retried.
 */
export interface RetryPolicy {
  /** Give up (throw the last error) once this many ms have passed since the first try. Default 600,000 (10 min). */
  forMs: number;
  /** First pause between tries; doubles each time. Default 200. */
  baseMs: number;
  /** Longest pause between tries. Default 5,000. */
  capMs: number;
}

/** The default {@link RetryPolicy}: services ride out a 10-minute outage without failing a trial. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { forMs: 600_000, baseMs: 200, capMs: 5_000 };

/** Whether the bucket answered the last request, and since when; `error` is the last transient failure. */
export interface StoreHealth {
  ok: boolean;
  since: string;
  error?: string;
}

/** Build an S3 client for AWS or any S3-compatible server. */
export function createS3Client(opts: S3ConnectionOptions): S3Client {
  const cfg: S3ClientConfig = {
    region: opts.region ?? 'us-east-1',
    forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
    maxAttempts: opts.maxAttempts ?? 4,
    // Without timeouts a server that accepts the connection and then hangs would stall a worker for ever;
    // a timeout is a transient error, retried under the store's policy.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
  };
  if (opts.endpoint) cfg.endpoint = opts.endpoint;
  if (opts.credentials) cfg.credentials = opts.credentials;
  return new S3Client(cfg);
}

/** Options for {@link ArtifactStore}. */
export interface ArtifactStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix for everything this store writes, e.g. `team-a/`; default empty. */
  prefix?: string;
  /** Shown in error messages; default: read from the client when possible. */
  endpoint?: string;
  /** Retry of transient failures; default {@link DEFAULT_RETRY_POLICY}. */
  retry?: Partial<RetryPolicy>;
  /** Called when the bucket stops or starts answering (see {@link ArtifactStore.health}). */
  onHealthChange?: (health: StoreHealth) => void;
}

/** Object body accepted by {@link ArtifactStore.put}. */
export type Body = string | Uint8Array;

/**
 * The only way sweepq touches the bucket. Keys are relative to `prefix`; every failure becomes a
 * {@link StorageError} that names the object and says what to check.
 */
export class ArtifactStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly #endpoint: string | undefined;
  readonly #retry: RetryPolicy;
  readonly #onHealthChange: ((health: StoreHealth) => void) | undefined;
  #health: StoreHealth = { ok: true, since: new Date().toISOString() };
  #conditionalWrites: Promise<void> | undefined;

  constructor(opts: ArtifactStoreOptions) {
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.prefix = normalisePrefix(opts.prefix ?? '');
    this.#endpoint = opts.endpoint;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.#onHealthChange = opts.onHealthChange;
  }

  /** Whether the last request reached the bucket (a 404 counts as reaching it), and since when. */
  get health(): StoreHealth {
    return this.#health;
  }

  /** One request to the bucket, no retries: true when it answers (even with an error that is not transient). */
  async ping(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      this.#setHealth(true);
      return true;
    } catch (err) {
      const e = toStorageError(err, { op: 'head bucket', bucket: this.bucket, endpoint: this.#endpoint });
      this.#setHealth(!e.transient, e.message);
      return !e.transient;
    }
  }

  #setHealth(ok: boolean, error?: string): void {
    if (ok === this.#health.ok && (ok || error === this.#health.error)) return;
    const changed = ok !== this.#health.ok;
    this.#health = { ok, since: changed ? new Date().toISOString() : this.#health.since, ...(ok || error === undefined ? {} : { error }) };
    if (changed) this.#onHealthChange?.(this.#health);
  }

  /** The full key in the bucket for a store-relative key. */
  fullKey(key: string): string {
    if (key.includes('..') || key.startsWith('/')) {
      throw new StorageError(StorageErrorCode.BadKey, `key "${key}" is not allowed: no "..", no leading "/"`, { key });
    }
    return this.prefix + key;
  }

  /** `s3://bucket/prefix/key`. */
  uri(key: string): string {
    return `s3://${this.bucket}/${this.fullKey(key)}`;
  }

  /**
   * Check the bucket answers; create it when `create` is true and it is missing. Then, unless
   * `opts.checkConditionalWrites` is false, check that the server honours conditional writes
   * ({@link checkConditionalWrites}, once per store): coordinators, workers and the CLI call this at start.
   */
  async ensureBucket(create = false, opts: { checkConditionalWrites?: boolean } = {}): Promise<void> {
    try {
      await this.#run('head bucket', '', () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
    } catch (err) {
      const e = toStorageError(err, { op: 'head bucket', bucket: this.bucket, endpoint: this.#endpoint });
      if (create && (e.code === StorageErrorCode.NotFound || e.code === StorageErrorCode.NoSuchBucket)) {
        await this.#run('create bucket', '', () => this.client.send(new CreateBucketCommand({ Bucket: this.bucket })));
      } else if (e.code === StorageErrorCode.NotFound) {
        throw new StorageError(
          StorageErrorCode.NoSuchBucket,
          `bucket "${this.bucket}" does not exist at ${this.#endpoint ?? 'AWS'}; create it or set S3_BUCKET`,
          { cause: err },
        );
      } else {
        throw e;
      }
    }
    if (opts.checkConditionalWrites ?? true) await this.checkConditionalWrites();
  }

  /**
   * Check, once per store, that the server honours conditional writes: sweepq fences writers that lost ownership
   * (a paused coordinator, a worker cut off) with `If-Match` / `If-None-Match`, and a server that ignores them would
   * let such a writer overwrite its successor's state without anyone noticing. Probes a scratch object under
   * `_sweepq/` (create-if-absent twice, a stale `If-Match`, a current `If-Match`), then deletes it.
   *
   * Throws {@link StorageError} `STORAGE_NO_CONDITIONAL_WRITES` naming the condition the server ignored. A definite
   * answer (honoured or not) is kept for the store's life; a failure to reach the bucket is not, so a later call
   * probes again.
   */
  checkConditionalWrites(): Promise<void> {
    this.#conditionalWrites ??= this.#probeConditionalWrites().catch((err: unknown) => {
      if (!(err instanceof StorageError && err.code === StorageErrorCode.NoConditionalWrites)) this.#conditionalWrites = undefined;
      throw err;
    });
    return this.#conditionalWrites;
  }

  async #probeConditionalWrites(): Promise<void> {
    const key = `_sweepq/probe-${randomUUID()}`;
    const body = (step: number) => `sweepq conditional-write probe ${key} step ${step}\n`;
    const fail = (what: string) =>
      new StorageError(
        StorageErrorCode.NoConditionalWrites,
        `the S3 server at ${this.#endpoint ?? 'the AWS default endpoint'} (bucket "${this.bucket}") ignores conditional writes: ${what}. ` +
          'sweepq needs conditional writes to fence zombie writers (a paused or cut-off coordinator or worker must not overwrite what its successor wrote). ' +
          'Use AWS S3, or an S3-compatible server that honours If-None-Match: * and If-Match on PutObject; ' +
          "sweepq's embedded server (startLocalS3, the CLI's local mode) does, s3rver as published does not",
        { key },
      );
    try {
      let first = await this.putIfAbsent(key, body(1), 'text/plain');
      // A retried request whose first try landed answers 412: the object then holds our own bytes.
      if (first === undefined) {
        const now = await this.head(key);
        if (now?.etag === JSON.stringify(md5Hex(body(1)))) first = { etag: now.etag };
      }
      if (first === undefined) throw fail(`PUT with If-None-Match: * of the new key ${this.uri(key)} was refused`);
      if ((await this.putIfAbsent(key, body(2), 'text/plain')) !== undefined) {
        throw fail(`PUT with If-None-Match: * over an existing object succeeded (expected 412 PreconditionFailed)`);
      }
      if ((await this.putIfMatch(key, body(3), '"00000000000000000000000000000000"', 'text/plain')) !== undefined) {
        throw fail(`PUT with If-Match: <an ETag the object does not have> succeeded (expected 412 PreconditionFailed)`);
      }
      if ((await this.putIfMatch(key, body(4), first.etag, 'text/plain')) === undefined) {
        throw fail(`PUT with If-Match: <the object's current ETag ${first.etag}> was refused`);
      }
    } finally {
      // Best effort: a probe object left behind (no delete permission, the bucket gone meanwhile) harms nothing.
      await this.delete(key).catch(() => undefined);
    }
  }

  /** Write an object, replacing any; resolves to the ETag the server gave it (with its quotes). */
  async put(key: string, body: Body, contentType = 'application/octet-stream'): Promise<{ etag: string }> {
    return this.#put('put', key, body, contentType, {});
  }

  /** {@link put} of pretty-printed JSON. */
  async putJson(key: string, value: unknown): Promise<{ etag: string }> {
    return this.put(key, jsonBody(value), 'application/json');
  }

  /**
   * Upload a local file as one object, streamed from disk (never whole in memory); a retry reopens the file. One
   * PUT, so at most 5 GB on AWS S3.
   */
  async putFile(key: string, path: string, contentType = 'application/octet-stream'): Promise<void> {
    const Key = this.fullKey(key);
    const { size } = await stat(path);
    // With a stream body and no checksum given, the SDK sends the body aws-chunked with a trailing CRC32, which
    // s3rver stores as it arrives (chunk headers included); a checksum computed here goes in a header instead.
    let crc = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) crc = crc32(chunk as Buffer, crc);
    const checksum = Buffer.alloc(4);
    checksum.writeUInt32BE(crc >>> 0);
    await this.#run('put', key, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: createReadStream(path),
          ContentLength: size,
          ContentType: contentType,
          ChecksumCRC32: checksum.toString('base64'),
        }),
      ),
    );
  }

  /**
   * Upload a large local file in parts (S3 multipart upload): parts of `partSize` bytes (default 16 MiB; S3 allows at
   * most 10,000 parts, so the size grows for files over 156 GiB), 4 in flight, each part retried by the SDK, each with
   * its CRC32 as S3 checks it; a failed upload is aborted (its parts removed) and the store's retry policy starts it
   * over. A file no bigger than one part goes as one PUT. `onProgress` gets the bytes sent so far after each part.
   * Memory: about 4 parts.
   *
   * Hand-written rather than `@aws-sdk/lib-storage`'s `Upload`: that one adds browser stream and buffer polyfills,
   * which took the client-only install over its 40 MB budget, for what are four S3 calls here.
   */
  async uploadFile(
    key: string,
    path: string,
    opts: { partSize?: number; onProgress?: (sent: number, total: number) => void; contentType?: string } = {},
  ): Promise<void> {
    const Key = this.fullKey(key);
    const { size } = await stat(path);
    const partSize = Math.max(opts.partSize ?? 16 << 20, 5 << 20, Math.ceil(size / 10_000));
    const ContentType = opts.contentType ?? 'application/octet-stream';
    if (size <= partSize) {
      await this.putFile(key, path, ContentType);
      opts.onProgress?.(size, size);
      return;
    }
    await this.#run('upload', key, async () => {
      const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType, ChecksumAlgorithm: 'CRC32' }));
      const handle = await open(path, 'r');
      try {
        const parts = await this.#uploadParts(handle, path, size, partSize, { Key, UploadId: UploadId ?? '' }, opts.onProgress);
        await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
      } catch (err) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => undefined);
        throw err;
      } finally {
        await handle.close();
      }
    });
  }

  /** The parts of {@link uploadFile}, 4 in flight; on a failure the others stop after their current part. */
  async #uploadParts(
    handle: FileHandle,
    path: string,
    size: number,
    partSize: number,
    upload: { Key: string; UploadId: string },
    onProgress: ((sent: number, total: number) => void) | undefined,
  ): Promise<CompletedPart[]> {
    const count = Math.ceil(size / partSize);
    const parts: CompletedPart[] = [];
    let next = 0;
    let sent = 0;
    let failed = false;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < count && !failed; i = next++) {
        const start = i * partSize;
        const body = Buffer.allocUnsafe(Math.min(partSize, size - start));
        const { bytesRead } = await handle.read(body, 0, body.length, start);
        if (bytesRead !== body.length) throw new Error(`${path} changed while it was uploaded: read ${bytesRead} of ${body.length} bytes at ${start}`);
        const r = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, ...upload, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'CRC32' }));
        parts[i] = { PartNumber: i + 1, ETag: r.ETag, ...(r.ChecksumCRC32 ? { ChecksumCRC32: r.ChecksumCRC32 } : {}) };
        sent += body.length;
        onProgress?.(sent, size);
      }
    };
    const lanes = await Promise.allSettled(
      Array.from({ length: Math.min(4, count) }, () =>
        lane().catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    const rejected = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (rejected) throw rejected.reason;
    return parts;
  }

  /**
   * Write only if no object exists at `key` (`If-None-Match: *`); `undefined` when one exists (412).
   *
   * Requests are retried (by the SDK and by the store's retry policy), so a write whose first try landed but whose
   * answer was lost comes back `undefined` from the retry, which found the object that try wrote. Callers that must
   * tell the two apart re-read the object and look for what only they write (a unique write id).
   */
  async putIfAbsent(key: string, body: Body, contentType = 'application/octet-stream'): Promise<{ etag: string } | undefined> {
    return this.#putConditional('put if absent', key, body, contentType, { IfNoneMatch: '*' });
  }

  /** {@link putIfAbsent} of pretty-printed JSON. */
  async putJsonIfAbsent(key: string, value: unknown): Promise<{ etag: string } | undefined> {
    return this.putIfAbsent(key, jsonBody(value), 'application/json');
  }

  /**
   * Write only if the object's current ETag is `etag` (`If-Match`); `undefined` when it changed or is gone (412, or
   * the 404 NoSuchKey AWS answers when there is no object).
   *
   * Requests are retried (by the SDK and by the store's retry policy), so a write whose first try landed but whose
   * answer was lost comes back `undefined` from the retry (the ETag is now that of the write itself). Callers that
   * must tell the two apart re-read the object and look for what only they write (a unique write id).
   */
  async putIfMatch(key: string, body: Body, etag: string, contentType = 'application/octet-stream'): Promise<{ etag: string } | undefined> {
    return this.#putConditional('put if match', key, body, contentType, { IfMatch: etag });
  }

  /** {@link putIfMatch} of pretty-printed JSON. */
  async putJsonIfMatch(key: string, value: unknown, etag: string): Promise<{ etag: string } | undefined> {
    return this.putIfMatch(key, jsonBody(value), etag, 'application/json');
  }

  async #putConditional(
    op: string,
    key: string,
    body: Body,
    contentType: string,
    condition: { IfNoneMatch: '*' } | { IfMatch: string },
  ): Promise<{ etag: string } | undefined> {
    try {
      return await this.#put(op, key, body, contentType, condition);
    } catch (err) {
      if (err instanceof StorageError && err.code === StorageErrorCode.PreconditionFailed) return undefined;
      if ('IfMatch' in condition && err instanceof StorageError && err.code === StorageErrorCode.NotFound) return undefined;
      throw err;
    }
  }

  async #put(
    op: string,
    key: string,
    body: Body,
    contentType: string,
    condition: { IfNoneMatch?: string; IfMatch?: string },
  ): Promise<{ etag: string }> {
    const Key = this.fullKey(key);
    const out = await this.#run(op, key, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentType: contentType, ...condition })),
    );
    // Every S3 server answers a PUT with the ETag; for a single-part PUT it is the body's MD5.
    return { etag: out.ETag ?? JSON.stringify(md5Hex(body)) };
  }

  /** Delete one object; deleting a missing one is not an error. */
  async delete(key: string): Promise<void> {
    const Key = this.fullKey(key);
    await this.#run('delete', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })));
  }

  /** The object's bytes, or `undefined` when it does not exist. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const Key = this.fullKey(key);
    try {
      return await this.#run('get', key, async () => {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
        return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      });
    } catch (err) {
      if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) return undefined;
      throw err;
    }
  }

  /** Like {@link get} but throws {@link StorageError} `STORAGE_NOT_FOUND` when missing. */
  async getRequired(key: string): Promise<Uint8Array> {
    const body = await this.get(key);
    if (body === undefined) {
      throw new StorageError(StorageErrorCode.NotFound, `${this.uri(key)} does not exist`, { key });
    }
    return body;
  }

  async getText(key: string): Promise<string | undefined> {
    const body = await this.get(key);
    return body === undefined ? undefined : new TextDecoder().decode(body);
  }

  async getJson<T = unknown>(key: string): Promise<T | undefined> {
    return (await this.#readJson<T>(key, async () => this.getText(key)))?.value;
  }

  /** The object's bytes and ETag (with its quotes), or `undefined` when it does not exist. */
  async getWithEtag(key: string): Promise<{ body: Uint8Array; etag: string } | undefined> {
    const Key = this.fullKey(key);
    try {
      return await this.#run('get', key, async () => {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
        const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
        return { body, etag: out.ETag ?? JSON.stringify(md5Hex(body)) };
      });
    } catch (err) {
      if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) return undefined;
      throw err;
    }
  }

  /** The object parsed as JSON and its ETag, for a later {@link putJsonIfMatch}; `undefined` when it does not exist. */
  async getJsonWithEtag<T = unknown>(key: string): Promise<{ value: T; etag: string } | undefined> {
    return this.#readJson<T>(key, async () => {
      const got = await this.getWithEtag(key);
      return got === undefined ? undefined : { text: new TextDecoder().decode(got.body), etag: got.etag };
    });
  }

  async #readJson<T>(key: string, read: () => Promise<string | { text: string; etag: string } | undefined>): Promise<{ value: T; etag: string } | undefined> {
    for (let attempt = 1; ; attempt++) {
      const got = await read();
      if (got === undefined) return undefined;
      const { text, etag } = typeof got === 'string' ? { text: got, etag: '' } : got;
      try {
        return { value: JSON.parse(text) as T, etag };
      } catch (err) {
        // S3 and MinIO replace objects atomically (and so does the embedded server now), but s3rver as published
        // writes in place, so a reader can catch a half-written object; reading again shortly after fixes it.
        if (attempt < 8) {
          await sleep(60 * attempt);
          continue;
        }
        throw new StorageError(StorageErrorCode.Failed, `${this.uri(key)} is not valid JSON: ${(err as Error).message}`, {
          key,
          cause: err,
        });
      }
    }
  }

  /** The object's ETag (with its quotes) and size in bytes, or `undefined` when it does not exist. */
  async head(key: string): Promise<{ etag: string; size: number } | undefined> {
    const Key = this.fullKey(key);
    try {
      const out = await this.#run('head', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })));
      return { etag: out.ETag ?? '', size: out.ContentLength ?? 0 };
    } catch (err) {
      if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) return undefined;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== undefined;
  }

  /**
   * Store-relative keys under `prefix`, in lexical order.
   *
   * Pages with ListObjects (v1) and a marker rather than ListObjectsV2's continuation token: s3rver, the embedded
   * server, builds v2 tokens with DES, which OpenSSL 3 (Node >= 17) refuses, so every v2 listing longer than one
   * page (1,000 keys) failed there with InternalError (jamhall/s3rver#818). AWS S3, MinIO and the other
   * S3-compatible stores all serve v1, and a marker (the last key seen) pages just as well without a delimiter.
   */
  async list(prefix: string): Promise<string[]> {
    const full = this.fullKey(prefix);
    const keys: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const out = await this.#run('list', prefix, () =>
        this.client.send(new ListObjectsCommand({ Bucket: this.bucket, Prefix: full, ...(marker === undefined ? {} : { Marker: marker }) })),
      );
      const page = out.Contents ?? [];
      for (const obj of page) if (obj.Key) keys.push(obj.Key.slice(this.prefix.length));
      const last = page.at(-1)?.Key;
      if (!out.IsTruncated || last === undefined) break;
      marker = out.NextMarker ?? last;
    }
    return keys.sort();
  }

  /**
   * Names of the "folders" directly under `prefix` (keys sharing the next `/`-terminated segment), in lexical
   * order, without reading the keys below them: `listFolders('sweeps/')` gives each sweep id once, however many
   * trial files each holds. ListObjects (v1) with a delimiter, paged by marker like {@link list}.
   */
  async listFolders(prefix: string): Promise<string[]> {
    const full = this.fullKey(prefix);
    const names = new Set<string>();
    let marker: string | undefined;
    for (;;) {
      const out = await this.#run('list', prefix, () =>
        this.client.send(
          new ListObjectsCommand({ Bucket: this.bucket, Prefix: full, Delimiter: '/', ...(marker === undefined ? {} : { Marker: marker }) }),
        ),
      );
      for (const p of out.CommonPrefixes ?? []) if (p.Prefix) names.add(p.Prefix.slice(full.length).replace(/\/$/, ''));
      const last = [out.Contents?.at(-1)?.Key, out.CommonPrefixes?.at(-1)?.Prefix].filter((k): k is string => k !== undefined).sort().at(-1);
      if (!out.IsTruncated || last === undefined) break;
      marker = out.NextMarker ?? last;
    }
    return [...names].sort();
  }

  /** Delete every object under `prefix`. */
  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      await this.#run('delete', prefix, () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: chunk.map((k) => ({ Key: this.fullKey(k) })) },
          }),
        ),
      );
    }
    return keys.length;
  }

  /** Bytes of an object given as `s3://bucket/key` (any bucket the client can read). */
  async getUri(uri: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      const e = toStorageError(err, { op: 'get', bucket, key, endpoint: this.#endpoint });
      if (e.code === StorageErrorCode.NotFound) {
        throw new StorageError(StorageErrorCode.NotFound, `${uri} does not exist; check dataset.uri`, { key, cause: err });
      }
      throw e;
    }
  }

  /** The ETag and size of an object given as `s3://bucket/key`, or undefined when it does not exist. */
  async statUri(uri: string): Promise<{ etag: string; size: number } | undefined> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { etag: out.ETag ?? '', size: out.ContentLength ?? 0 };
    } catch (err) {
      const e = toStorageError(err, { op: 'head', bucket, key, endpoint: this.#endpoint });
      if (e.code === StorageErrorCode.NotFound) return undefined;
      throw e;
    }
  }

  /**
   * An object given as `s3://bucket/key`, as a stream of chunks (for objects too large to hold in memory). Opening
   * it fails as {@link getUri} does; a failure while reading propagates as the SDK raises it.
   */
  async getUriStream(uri: string): Promise<AsyncIterable<Uint8Array>> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (out.Body as Readable | undefined) ?? (async function* () {})();
    } catch (err) {
      const e = toStorageError(err, { op: 'get', bucket, key, endpoint: this.#endpoint });
      if (e.code === StorageErrorCode.NotFound) {
        throw new StorageError(StorageErrorCode.NotFound, `${uri} does not exist; check dataset.uri`, { key, cause: err });
      }
      throw e;
    }
  }

  /**
   * Run one request under the retry policy. The SDK's own retry covers a blip of a second or two; an outage
   * (the server restarting, a network partition) is ridden out here for `retry.forMs`, so callers such as a
   * trial in flight wait for the bucket instead of failing and spending an attempt.
   */
  async #run<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await fn();
        this.#setHealth(true);
        return out;
      } catch (err) {
        const e = toStorageError(err, { op, bucket: this.bucket, key, endpoint: this.#endpoint });
        this.#setHealth(!e.transient, e.message);
        const elapsed = Date.now() - started;
        if (!e.transient || elapsed >= this.#retry.forMs) throw e;
        const pause = Math.min(this.#retry.capMs, this.#retry.baseMs * 2 ** Math.min(attempt - 1, 20));
        // Jitter, so many workers waiting on one server do not retry in lock step.
        await sleep(Math.min(pause * (0.5 + Math.random() / 2), this.#retry.forMs - elapsed));
      }
    }
  }
}

/** The text `putJson` writes for `value` (2-space indented, newline-terminated): what a JSON object's bytes are. */
export function jsonBody(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function md5Hex(body: Body): string {
  return createHash('md5').update(body).digest('hex');
}

function normalisePrefix(prefix: string): string {
  const p = prefix.replace(/^\/+/, '');
  if (p === '') return '';
  if (p.includes('..')) throw new StorageError(StorageErrorCode.BadKey, `prefix "${prefix}" must not contain ".."`);
  return p.endsWith('/') ? p : `${p}/`;
}

/** Settings for {@link createArtifactStore}, as services read them from their environment. */
export interface ArtifactStoreConfig extends S3ConnectionOptions {
  bucket: string;
  prefix?: string;
  retry?: Partial<RetryPolicy>;
  onHealthChange?: (health: StoreHealth) => void;
}

/** Build an {@link ArtifactStore} with its own S3 client. */
export function createArtifactStore(cfg: ArtifactStoreConfig): ArtifactStore {
  const { bucket, prefix, retry, onHealthChange, ...conn } = cfg;
  return new ArtifactStore({
    client: createS3Client(conn),
    bucket,
    prefix,
    endpoint: conn.endpoint,
    ...(retry ? { retry } : {}),
    ...(onHealthChange ? { onHealthChange } : {}),
  });
}
