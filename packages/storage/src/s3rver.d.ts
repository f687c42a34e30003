// Minimal typing for the parts of s3rver (which ships no types) that local-s3.ts and atomic-store.ts use.
declare module 's3rver' {
  import type { Server } from 'node:http';
  interface S3rverOptions {
    address?: string;
    port?: number;
    directory: string;
    silent?: boolean;
    configureBuckets?: { name: string; configs: unknown[] }[];
  }
  /** A Koa application: `middleware` is the list `run()` composes, so a function put first runs before s3rver's. */
  export default class S3rver {
    constructor(opts: S3rverOptions);
    run(): Promise<unknown>;
    close(): Promise<void>;
    httpServer?: Server;
    middleware: ((ctx: { headers: Record<string, string | string[] | undefined> }, next: () => Promise<void>) => Promise<void>)[];
    store: unknown;
    context: { store: unknown };
  }
}

declare module 's3rver/lib/models/error.js' {
  /** An S3 error answered as S3's XML error body, with the HTTP status S3 uses for `code`. */
  export default class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string>);
    readonly code: string;
    readonly status: number;
  }
}

declare module 's3rver/lib/models/object.js' {
  import type { Readable } from 'node:stream';
  export default class S3Object {
    constructor(bucket: string, key: string, content: Readable | Buffer | null, metadata: Record<string, unknown>);
    static readonly ALLOWED_METADATA: string[];
    bucket: string;
    key: string;
    content: Readable | Buffer | null;
    metadata: Record<string, string>;
    range?: { start: number; end: number };
  }
}

declare module 's3rver/lib/stores/filesystem.js' {
  import type S3Object from 's3rver/lib/models/object.js';
  /** s3rver's store: each object is three files, `<key>._S3rver_object`, `.._object.md5` and `.._metadata.json`. */
  export default class FilesystemStore {
    constructor(rootDirectory: string);
    readonly rootDirectory: string;
    getBucketPath(bucket: string): string;
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
    listBuckets(): Promise<{ name: string }[]>;
    existsObject(bucket: string, key: string): Promise<boolean>;
    getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3Object | null>;
    putObject(object: S3Object): Promise<{ size: number; md5: string }>;
    copyObject(
      srcBucket: string,
      srcKey: string,
      destBucket: string,
      destKey: string,
      replacementMetadata: Record<string, unknown> | null,
    ): Promise<Record<string, string | number>>;
    deleteObject(bucket: string, key: string): Promise<void>;
  }
}
