import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { StorageError, StorageErrorCode, toStorageError } from './errors.js';
import { parseS3Uri } from './uri.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
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

  /** Check the bucket answers; create it when `create` is true and it is missing. */
  async ensureBucket(create = false): Promise<void> {
    try {
      await this.#run('head bucket', '', () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
    } catch (err) {
      const e = toStorageError(err, { op: 'head bucket', bucket: this.bucket, endpoint: this.#endpoint });
      if (create && (e.code === StorageErrorCode.NotFound || e.code === StorageErrorCode.NoSuchBucket)) {
        await this.#run('create bucket', '', () => this.client.send(new CreateBucketCommand({ Bucket: this.bucket })));
        return;
      }
      if (e.code === StorageErrorCode.NotFound) {
        throw new StorageError(
          StorageErrorCode.NoSuchBucket,
          `bucket "${this.bucket}" does not exist at ${this.#endpoint ?? 'AWS'}; create it or set S3_BUCKET`,
          { cause: err },
        );
      }
      throw e;
    }
  }

  async put(key: string, body: Body, contentType = 'application/octet-stream'): Promise<void> {
    const Key = this.fullKey(key);
    await this.#run('put', key, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentType: contentType })),
    );
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

  async putJson(key: string, value: unknown): Promise<void> {
    await this.put(key, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
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
    for (let attempt = 1; ; attempt++) {
      const text = await this.getText(key);
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        // S3 and MinIO replace objects atomically, but some S3-compatible servers (s3rver) write in
        // place, so a reader can catch a half-written object; reading again shortly after fixes it.
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

  async exists(key: string): Promise<boolean> {
    const Key = this.fullKey(key);
    try {
      await this.#run('head', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })));
      return true;
    } catch (err) {
      if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) return false;
      throw err;
    }
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
