import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
// s3rver's own store and models (CommonJS, no types of their own: see s3rver.d.ts). Extending them from here keeps
// node_modules untouched while every object read and write of the embedded server goes through the code below.
import S3Error from 's3rver/lib/models/error.js';
import S3Object from 's3rver/lib/models/object.js';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';

/** What {@link AtomicFilesystemStore} reports after each object write it commits. */
export interface ObjectWritten {
  bucket: string;
  key: string;
  /** As S3 answers it: the body's MD5 in hex, in double quotes. */
  etag: string;
  body: Buffer;
  /** `Date.now()` at the commit. */
  at: number;
}

/** What {@link AtomicFilesystemStore} reports after each object it deletes (a delete of a missing key reports nothing). */
export interface ObjectDeleted {
  bucket: string;
  key: string;
  at: number;
}

/** Test hooks of {@link AtomicFilesystemStore}, called synchronously at each commit, in commit order. */
export interface StoreHooks {
  onObjectWritten?: (e: ObjectWritten) => void;
  onObjectDeleted?: (e: ObjectDeleted) => void;
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * The headers of the request being served. s3rver's controllers hand the store an S3Object whose metadata keeps
 * only stored headers (no If-Match), and copy and multipart-complete hand it no request at all, so a middleware in
 * front of s3rver's ({@link conditionalHeadersMiddleware}) runs each request inside this context instead.
 */
const requestHeaders = new AsyncLocalStorage<Headers>();

/** Koa middleware, to be put first in an S3rver instance's `middleware`, that makes the request's headers visible to the store. */
export function conditionalHeadersMiddleware(ctx: { headers: Headers }, next: () => Promise<void>): Promise<void> {
  return requestHeaders.run(ctx.headers, next);
}

/** One async mutex per key: `run` calls wait for every earlier `run` of the same key to finish. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = prev.then(() => mine);
    this.#tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/** Folder (under the server's root, beside the buckets) where bodies are spooled before they are renamed into place. */
const TMP_DIR = '.sweepq-tmp';

/**
 * Read a stream until it ends or has given more than `limit` bytes. `rest` is undefined when it ended within the
 * limit; otherwise it yields every byte of the stream, the ones already read first.
 */
async function readHead(stream: Readable, limit: number): Promise<{ chunks: Buffer[]; rest: AsyncIterable<Buffer> | undefined }> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let size = 0;
  while (size <= limit) {
    const r = await it.next();
    if (r.done) return { chunks, rest: undefined };
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    chunks.push(chunk);
    size += chunk.length;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* chunks;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    }
  }
  return { chunks, rest: rest() };
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** An ETag as compared by S3: without quotes or a weak-validator prefix. */
function bareEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/"/g, '');
}

function preconditionFailed(condition: string): S3Error {
  return new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
}

/** The metadata s3rver keeps for an object (its `putMetadata` keeps the same headers). */
function storedMetadata(metadata: Record<string, unknown>): string {
  const json: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (S3Object.ALLOWED_METADATA.includes(k) || k.startsWith('x-amz-meta-')) json[k] = v;
  }
  return JSON.stringify(json, null, 2);
}

/** A body staged for a commit: the object's bytes in a temporary file, written before the key's mutex is taken. */
interface Spooled {
  path: string;
  size: number;
  md5: string;
  /** The metadata file's content, written by the commit. */
  metadataJson: string;
  /** The bytes, when they were small enough to be held (see {@link SMALL_BODY_BYTES}); the write hook reads them. */
  body?: Buffer;
}

/**
 * Bodies up to this size (by Content-Length) are gathered in memory and written with one call; larger ones stream
 * to disk. Most of sweepq's writes are small JSON (sweep.json, result.json, metric lines), where a stream pipeline
 * costs more than the bytes.
 */
const SMALL_BODY_BYTES = 256 * 1024;

/**
 * s3rver's FilesystemStore (same files on disk, so a folder written by either can be served by the other) with what
 * sweepq's fencing needs from a bucket, as AWS S3 provides it:
 *
 * - **Conditional writes.** PutObject, CopyObject (destination) and CompleteMultipartUpload honour
 *   `If-None-Match: *` (412 PreconditionFailed when the key exists) and `If-Match: "<etag>"` (412 when the current
 *   ETag differs; 404 NoSuchKey when there is no object, as AWS answers). s3rver 3.7.1 ignores both.
 * - **Linearizable per key.** The precondition check and the commit of a write run under one mutex per key, which
 *   every write, copy and delete of that key takes, so of two racing writes conditioned on the same ETag exactly one
 *   succeeds. The body is spooled to a temporary file first, outside the mutex, so a slow upload holds no one up.
 * - **Atomic replacement.** The body is renamed into place (s3rver writes it in place, so a reader could see half of
 *   it), and a reader takes the key's mutex while it reads the metadata and opens the file: the ETag and length it
 *   answers are those of the bytes it streams, even while a newer version replaces them.
 */
export class AtomicFilesystemStore extends FilesystemStore {
  readonly #locks = new KeyedMutex();
  readonly #hooks: StoreHooks;
  #tmpReady = false;

  constructor(rootDirectory: string, hooks: StoreHooks = {}) {
    super(rootDirectory);
    this.#hooks = hooks;
  }

  get #tmpDir(): string {
    return join(this.rootDirectory, TMP_DIR);
  }

  override async listBuckets(): Promise<{ name: string }[]> {
    return (await super.listBuckets()).filter((b) => b.name !== TMP_DIR);
  }

  override getMetadata(bucket: string, key: string): Promise<Record<string, string | number>> {
    return this.#locks.run(`${bucket}/${key}`, () => super.getMetadata(bucket, key));
  }

  override async getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3Object | null> {
    // Metadata and the open file handle are taken together under the key's mutex; the bytes are streamed after it
    // is released, from the handle, which keeps the version it opened even once a newer one is renamed over it.
    const opened = await this.#locks.run(`${bucket}/${key}`, async () => {
      try {
        const metadata = await super.getMetadata(bucket, key);
        const handle = await open(this.getResourcePath(bucket, key, 'object'), 'r');
        return { metadata, handle };
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return undefined;
        throw err;
      }
    });
    if (!opened) return null;
    const { metadata, handle } = opened;
    // The range arithmetic is s3rver's own (FilesystemStore.getObject).
    const lastByte = Math.max(0, Number(metadata['content-length']) - 1);
    const range = { start: options?.start || 0, end: Math.min(options?.end || Infinity, lastByte) };
    const ranged = options !== undefined && (options.start !== undefined || Boolean(options.end));
    if (range.start < 0 || Math.min(range.end, lastByte) < range.start) {
      await handle.close();
      const object = new S3Object(bucket, key, null, metadata);
      if (ranged) object.range = range;
      return object;
    }
    const object = new S3Object(bucket, key, handle.createReadStream({ start: range.start, end: range.end }), metadata);
    if (ranged) object.range = range;
    return object;
  }

  override async putObject(object: S3Object): Promise<{ size: number; md5: string }> {
    const spooled = await this.#spool(object.content ?? Buffer.alloc(0), storedMetadata(object.metadata));
    let committed = false;
    try {
      await this.#locks.run(`${object.bucket}/${object.key}`, async () => {
        await this.#checkPreconditions(object.bucket, object.key);
        await this.#commit(object.bucket, object.key, spooled);
        committed = true;
      });
      return { size: spooled.size, md5: spooled.md5 };
    } finally {
      if (!committed) await rm(spooled.path, { force: true });
    }
  }

  override async copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata: Record<string, unknown> | null,
  ): Promise<Record<string, string | number>> {
    const path = await this.#tmpPath();
    try {
      // A consistent snapshot of the source (bytes, ETag, metadata) under its mutex, then a commit under the
      // destination's: never both at once, so two copies in opposite directions cannot deadlock.
      const src = await this.#locks.run(`${srcBucket}/${srcKey}`, async () => {
        try {
          const meta = await super.getMetadata(srcBucket, srcKey);
          await copyFile(this.getResourcePath(srcBucket, srcKey, 'object'), path);
          const stored = await readFile(this.getResourcePath(srcBucket, srcKey, 'metadata.json'), 'utf8').catch((err: unknown) => {
            if (isErrno(err, 'ENOENT')) return '{}';
            throw err;
          });
          return { md5: bareEtag(String(meta.etag)), size: Number(meta['content-length']), stored };
        } catch (err) {
          if (isErrno(err, 'ENOENT')) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: srcKey });
          throw err;
        }
      });
      const metadata = replacementMetadata ? storedMetadata(replacementMetadata) : src.stored;
      const staged: Spooled = { path, size: src.size, md5: src.md5, metadataJson: metadata };
      if (this.#hooks.onObjectWritten) staged.body = await readFile(path);
      return await this.#locks.run(`${destBucket}/${destKey}`, async () => {
        await this.#checkPreconditions(destBucket, destKey);
        await this.#commit(destBucket, destKey, staged);
        return super.getMetadata(destBucket, destKey);
      });
    } finally {
      await rm(path, { force: true });
    }
  }

  override async deleteObject(bucket: string, key: string): Promise<void> {
    const objectPath = this.getResourcePath(bucket, key, 'object');
    await this.#locks.run(`${bucket}/${key}`, async () => {
      // The object file first: once it is gone the key reads as missing, whatever the other two files hold.
      let existed = true;
      await unlink(objectPath).catch((err: unknown) => {
        if (!isErrno(err, 'ENOENT')) throw err;
        existed = false;
      });
      await Promise.all(
        ['object.md5', 'metadata.json'].map((r) =>
          unlink(this.getResourcePath(bucket, key, r)).catch((err: unknown) => {
            if (!isErrno(err, 'ENOENT')) throw err;
          }),
        ),
      );
      if (existed) this.#hooks.onObjectDeleted?.({ bucket, key, at: Date.now() });
    });
    // Remove the key's folders that are now empty, as s3rver does, but with rmdir's own check (a write of another
    // key may be renaming a file into one of them right now; its commit retries when the folder vanishes).
    const bucketPath = this.getBucketPath(bucket);
    for (let dir = dirname(objectPath); dir.startsWith(bucketPath + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        if (isErrno(err, 'ENOTEMPTY', 'EEXIST')) break;
        throw err;
      }
    }
  }

  /** A fresh path in the spool folder (made on first use, and again if something removed it, e.g. s3rver's reset()). */
  async #tmpPath(): Promise<string> {
    if (!this.#tmpReady) {
      await mkdir(this.#tmpDir, { recursive: true });
      this.#tmpReady = true;
    }
    return join(this.#tmpDir, randomUUID());
  }

  /**
   * Stage a body for a commit: write it to a temporary file, hashing it on the way (its ETag and metadata files are
   * written by the commit). A body of at most {@link SMALL_BODY_BYTES} is gathered first and written with one call; a
   * longer one streams to disk (whatever its Content-Length claims: a multipart completion declares none).
   */
  async #spool(content: Readable | Buffer, metadataJson: string): Promise<Spooled> {
    const path = await this.#tmpPath();
    const staged: Spooled = { path, size: 0, md5: '', metadataJson };
    try {
      const head = Buffer.isBuffer(content) ? { chunks: [content], rest: undefined } : await readHead(content, SMALL_BODY_BYTES);
      if (!head.rest) {
        const body = Buffer.concat(head.chunks);
        staged.size = body.length;
        staged.md5 = createHash('md5').update(body).digest('hex');
        staged.body = body;
        await writeFile(path, body);
      } else {
        const hash = createHash('md5');
        const count = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            staged.size += chunk.length;
            done(null, chunk);
          },
        });
        await pipeline(Readable.from(head.rest), count, createWriteStream(path));
        staged.md5 = hash.digest('hex');
        if (this.#hooks.onObjectWritten) staged.body = await readFile(path);
      }
    } catch (err) {
      await rm(path, { force: true });
      if (isErrno(err, 'ENOENT')) this.#tmpReady = false;
      throw err;
    }
    return staged;
  }

  /** Throw S3's error when the request's If-None-Match / If-Match does not hold for the key's current object. */
  async #checkPreconditions(bucket: string, key: string): Promise<void> {
    const headers = requestHeaders.getStore();
    if (!headers) return;
    const ifNoneMatch = header(headers, 'if-none-match');
    const ifMatch = header(headers, 'if-match');
    if (ifNoneMatch === undefined && ifMatch === undefined) return;
    const current = await super.getMetadata(bucket, key).catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    });
    if (ifNoneMatch !== undefined) {
      // AWS accepts only `*` on writes.
      if (ifNoneMatch.trim() !== '*') {
        throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
      }
      if (current) throw preconditionFailed('If-None-Match');
    }
    if (ifMatch !== undefined) {
      // AWS answers 404 NoSuchKey, not 412, when there is no object to match.
      if (!current) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
      const wanted = ifMatch.split(',').map(bareEtag);
      if (!wanted.includes('*') && !wanted.includes(bareEtag(String(current.etag)))) throw preconditionFailed('If-Match');
    }
  }

  /**
   * Put a staged body in place of the key's object (caller holds the key's mutex). The body is renamed into place;
   * the metadata and ETag files are small and written in place (every reader in this server takes the key's mutex,
   * so none sees them half-written). The ETag file goes first and comes back last: a crash in between leaves no ETag
   * file, and s3rver then computes it from the bytes on disk.
   */
  async #commit(bucket: string, key: string, staged: Spooled): Promise<void> {
    const objectPath = this.getResourcePath(bucket, key, 'object');
    const md5Path = this.getResourcePath(bucket, key, 'object.md5');
    await unlink(md5Path).catch((err: unknown) => {
      if (!isErrno(err, 'ENOENT')) throw err;
    });
    for (let attempt = 1; ; attempt++) {
      await mkdir(dirname(objectPath), { recursive: true });
      try {
        await rename(staged.path, objectPath);
        break;
      } catch (err) {
        // A delete of another key in the same folder removed it between mkdir and rename.
        if (!isErrno(err, 'ENOENT') || attempt >= 10) throw err;
      }
    }
    await writeFile(this.getResourcePath(bucket, key, 'metadata.json'), staged.metadataJson);
    await writeFile(md5Path, staged.md5);
    if (this.#hooks.onObjectWritten && staged.body) {
      this.#hooks.onObjectWritten({ bucket, key, etag: JSON.stringify(staged.md5), body: staged.body, at: Date.now() });
    }
  }
}
