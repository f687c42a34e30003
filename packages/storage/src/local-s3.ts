import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
// s3rver ships no types; its constructor/run/close are all we use.
import S3rver from 's3rver';

/** Options for {@link startLocalS3}. */
export interface LocalS3Options {
  /** Folder that holds the objects. */
  directory: string;
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /** Buckets to create at start. */
  buckets?: string[];
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
