import { LifecycleError, LifecycleErrorCode } from '@sweepq/lifecycle';
import { RedisUnavailableError } from '@sweepq/queue';
import { ConfigError, SweepqError } from '@sweepq/runtime';
import { SpecError } from '@sweepq/sweep-config';
import { StorageError } from '@sweepq/storage';

/** Codes of {@link SweepqClientError}: stable strings a script can switch on. */
export const SweepqClientErrorCode = {
  /** An option or environment variable is missing or malformed (REDIS_URL, S3_*). */
  Config: 'CONFIG_INVALID',
  /** The sweep spec does not parse or validate; nothing was submitted. */
  InvalidSpec: 'SPEC_INVALID',
  /** An argument is malformed (a sweep id outside the safe charset, a run cap that is not an integer). */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** No sweep with that id in the bucket. */
  NotFound: 'SWEEP_NOT_FOUND',
  /** A sweep with that id exists already. */
  Exists: 'SWEEP_EXISTS',
  /** The operation does not apply to the sweep as it is now (e.g. extending a grid, or a finished sweep). */
  Refused: 'SWEEP_REFUSED',
  /** Redis did not answer at the configured URL. */
  RedisUnavailable: 'REDIS_UNAVAILABLE',
  /** The bucket refused or failed a request (see `cause` for the storage error's own code). */
  Storage: 'STORAGE_FAILED',
  /** Another writer changed the sweep at the same moment, again and again (try again), or took it over. */
  Conflict: 'SWEEP_CONFLICT',
  /** `wait()` was stopped by its AbortSignal. */
  Aborted: 'ABORTED',
  /** The client was used after `close()`. */
  Closed: 'CLIENT_CLOSED',
} as const;
/** One of {@link SweepqClientErrorCode}'s values. */
export type SweepqClientErrorCode = (typeof SweepqClientErrorCode)[keyof typeof SweepqClientErrorCode];

/** Every error the client raises on purpose; `code` says which kind, `cause` keeps the underlying error. */
export class SweepqClientError extends SweepqError {
  declare readonly code: SweepqClientErrorCode;
  /** The sweep the failed call was about, when there was one. */
  readonly sweepId: string | undefined;
  constructor(code: SweepqClientErrorCode, message: string, opts: { sweepId?: string; cause?: unknown } = {}) {
    super(code, message, { cause: opts.cause });
    this.sweepId = opts.sweepId;
  }
}

const lifecycleCodes: Record<LifecycleErrorCode, SweepqClientErrorCode> = {
  [LifecycleErrorCode.NoSuchSweep]: SweepqClientErrorCode.NotFound,
  [LifecycleErrorCode.Exists]: SweepqClientErrorCode.Exists,
  [LifecycleErrorCode.Refused]: SweepqClientErrorCode.Refused,
  [LifecycleErrorCode.BadTransition]: SweepqClientErrorCode.Refused,
  [LifecycleErrorCode.BadRecord]: SweepqClientErrorCode.Storage,
  [LifecycleErrorCode.Fenced]: SweepqClientErrorCode.Conflict,
  [LifecycleErrorCode.Conflict]: SweepqClientErrorCode.Conflict,
};

/**
 * The client's error for anything the layers below throw on purpose (same message, original as `cause`), so a script
 * needs one `instanceof` and a switch on `code`; other errors (bugs) pass through unchanged.
 */
export function toClientError(err: unknown, sweepId?: string): unknown {
  if (err instanceof SweepqClientError) return err;
  const wrap = (code: SweepqClientErrorCode) => new SweepqClientError(code, (err as Error).message, { sweepId, cause: err });
  if (err instanceof LifecycleError) return wrap(lifecycleCodes[err.code as LifecycleErrorCode] ?? SweepqClientErrorCode.Refused);
  if (err instanceof SpecError) return wrap(SweepqClientErrorCode.InvalidSpec);
  if (err instanceof ConfigError) return wrap(SweepqClientErrorCode.Config);
  if (err instanceof RedisUnavailableError) return wrap(SweepqClientErrorCode.RedisUnavailable);
  if (err instanceof StorageError) return wrap(SweepqClientErrorCode.Storage);
  return err;
}
