import { SweepqError } from '@sweepq/runtime';

/** Codes of {@link StorageError}. */
export const StorageErrorCode = {
  Unreachable: 'STORAGE_UNREACHABLE',
  NoSuchBucket: 'STORAGE_NO_SUCH_BUCKET',
  AccessDenied: 'STORAGE_ACCESS_DENIED',
  NotFound: 'STORAGE_NOT_FOUND',
  BadKey: 'STORAGE_BAD_KEY',
  BadUri: 'STORAGE_BAD_URI',
  Failed: 'STORAGE_FAILED',
  /** A conditional write's `If-Match` / `If-None-Match` did not hold (HTTP 412). */
  PreconditionFailed: 'STORAGE_PRECONDITION_FAILED',
  /** The server ignores conditional writes, which sweepq needs to fence writers that lost ownership. */
  NoConditionalWrites: 'STORAGE_NO_CONDITIONAL_WRITES',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

/** A storage operation failed. `transient` tells a retry policy whether trying again can help. */
export class StorageError extends SweepqError {
  readonly key: string | undefined;
  readonly transient: boolean;
  constructor(code: StorageErrorCode, message: string, opts: { key?: string; transient?: boolean; cause?: unknown } = {}) {
    super(code, message, { cause: opts.cause });
    this.key = opts.key;
    this.transient = opts.transient ?? false;
  }
}

interface AwsLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  message?: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** Translate an AWS SDK / network error into a {@link StorageError} that says what to check. */
export function toStorageError(err: unknown, ctx: { op: string; bucket: string; key?: string; endpoint?: string }): StorageError {
  if (err instanceof StorageError) return err;
  const e = (err ?? {}) as AwsLikeError;
  const status = e.$metadata?.httpStatusCode;
  const where = `${ctx.op} s3://${ctx.bucket}/${ctx.key ?? ''}`;
  const endpoint = ctx.endpoint ?? 'the AWS default endpoint';
  if ((e.code && NETWORK_CODES.has(e.code)) || (e.name && NETWORK_CODES.has(e.name))) {
    return new StorageError(
      StorageErrorCode.Unreachable,
      `${where}: cannot reach the S3 endpoint ${endpoint} (${e.code ?? e.name}); check S3_ENDPOINT and that the server is running`,
      { key: ctx.key, transient: true, cause: err },
    );
  }
  // The SDK's credential chain found nothing: no request was sent, and trying again cannot help.
  if (e.name === 'CredentialsProviderError') {
    return new StorageError(
      StorageErrorCode.AccessDenied,
      `${where}: no S3 credentials (${e.message ?? 'none found'}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an IAM role applies`,
      { key: ctx.key, cause: err },
    );
  }
  if (e.name === 'NoSuchBucket') {
    return new StorageError(
      StorageErrorCode.NoSuchBucket,
      `${where}: bucket "${ctx.bucket}" does not exist at ${endpoint}; create it or set S3_BUCKET to an existing bucket`,
      { key: ctx.key, cause: err },
    );
  }
  if (e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404) {
    return new StorageError(StorageErrorCode.NotFound, `${where}: no such object`, { key: ctx.key, cause: err });
  }
  if (e.name === 'AccessDenied' || e.name === 'InvalidAccessKeyId' || e.name === 'SignatureDoesNotMatch' || status === 403) {
    return new StorageError(
      StorageErrorCode.AccessDenied,
      `${where}: access denied (${e.name ?? status}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy`,
      { key: ctx.key, cause: err },
    );
  }
  if (e.name === 'PreconditionFailed' || status === 412) {
    return new StorageError(StorageErrorCode.PreconditionFailed, `${where}: precondition failed (the object exists, or its ETag changed)`, {
      key: ctx.key,
      cause: err,
    });
  }
  // AWS answers 409 ConditionalRequestConflict when a conditional write raced another write of the key; it asks
  // for a retry, which then answers for the state the race left.
  const transient = status === undefined || status >= 500 || status === 429 || e.name === 'ConditionalRequestConflict';
  return new StorageError(StorageErrorCode.Failed, `${where}: ${e.name ?? 'error'}: ${e.message ?? String(err)}`, {
    key: ctx.key,
    transient,
    cause: err,
  });
}
