import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
// s3rver ships no types (see s3rver.d.ts for the parts used here and in atomic-store.ts).
import S3rver from 's3rver';
import { AtomicFilesystemStore, conditionalHeadersMiddleware, type StoreHooks } from './atomic-store.js';

/** Options for {@link startLocalS3}. */
export interface LocalS3Options {
  /** Folder that holds the objects. */
  directory: string;
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /** Buckets to create at start. */
  buckets?: string[];
  /**
   * Test hook: called after each object write the server commits (PUT, copy, multipart complete), synchronously and
   * in commit order, with the body and the ETag it answers. Must not throw.
   */
  onObjectWritten?: StoreHooks['onObjectWritten'];
  /** Test hook: called after each delete that removed an object (DeleteObject, DeleteObjects), in commit order. */
  onObjectDeleted?: StoreHooks['onObjectDeleted'];
}

/** A running in-process S3-protocol server. */
export interface LocalS3 {
  endpoint: string;
  port: number;
  /** Credentials s3rver accepts (it checks signatures with these). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** HTTP requests served so far (benchmarks count S3 requests per trial with it). */
  requests(): number;
  /** Stop listening and drop every open connection. */
  close(): Promise<void>;
}

/**
 * Start s3rver on loopback: the embedded S3-compatible server for local runs and tests. It speaks
 * the real S3 protocol, so the code path is the one used against MinIO or AWS.
 *
 * Unlike s3rver as published, it honours conditional writes (`If-None-Match: *`, `If-Match`) linearizably per key
 * and replaces objects atomically, as AWS S3 does (see {@link AtomicFilesystemStore}): sweepq fences its writers
 * with conditional writes and checks at start that the bucket honours them.
 */
export async function startLocalS3(opts: LocalS3Options): Promise<LocalS3> {
  await mkdir(opts.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port ?? 0,
    directory: opts.directory,
    silent: true,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const hooks: StoreHooks = {
    ...(opts.onObjectWritten ? { onObjectWritten: opts.onObjectWritten } : {}),
    ...(opts.onObjectDeleted ? { onObjectDeleted: opts.onObjectDeleted } : {}),
  };
  // s3rver reads its store from the instance (bucket set-up) and from the Koa context (every request): replace both
  // before run(), and put the middleware that exposes the request's conditional headers first, before run() composes
  // the middleware list into the request handler.
  server.store = server.context.store = new AtomicFilesystemStore(opts.directory, hooks);
  server.middleware.unshift(conditionalHeadersMiddleware);
  const addr = (await server.run()) as AddressInfo;
  let requests = 0;
  server.httpServer?.on('request', () => {
    requests += 1;
  });
  return {
    requests: () => requests,
    endpoint: `http://127.0.0.1:${addr.port}`,
    port: addr.port,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    close: async () => {
      // Drop open keep-alive connections too: otherwise close() waits for every client to hang up, and a client that
      // keeps reusing its socket (a worker mid-trial) keeps the server answering after it was told to stop.
      const closing = server.close();
      server.httpServer?.closeAllConnections();
      await closing;
    },
  };
}
