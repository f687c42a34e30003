import { SweepqError } from '@sweepq/runtime';

/** Redis could not be reached or refused us. */
export class RedisUnavailableError extends SweepqError {
  readonly url: string;
  constructor(url: string, reason: string, cause?: unknown) {
    super(
      'REDIS_UNAVAILABLE',
      `cannot reach Redis at ${url} (${reason}); start one (for example \`redis-server\`) or set REDIS_URL to a reachable server`,
      { cause },
    );
    this.url = url;
  }
}

/** A job payload failed its schema. Deterministic: never worth retrying. */
export class PayloadError extends SweepqError {
  readonly queue: string;
  readonly issues: readonly string[];
  constructor(queue: string, issues: readonly string[]) {
    super('PAYLOAD_INVALID', `invalid ${queue} job payload:\n  - ${issues.join('\n  - ')}`);
    this.queue = queue;
    this.issues = issues;
  }
}
