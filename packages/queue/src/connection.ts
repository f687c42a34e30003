import { Redis, type RedisOptions } from 'ioredis';
import { RedisUnavailableError } from './errors.js';

/** `redis://user:secret@host:port/db` with the password hidden, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/**
 * Connection for BullMQ workers and QueueEvents: `maxRetriesPerRequest: null` so blocking commands
 * wait out a Redis restart instead of failing the worker.
 * Supports `rediss://` (TLS) and passwords in the URL.
 */
export function createWorkerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra });
}

/**
 * Connection for producers (CLI, coordinator adding jobs): `enableOfflineQueue: false` so a call fails fast
 * when Redis is down rather than hanging. Resolves once connected, or rejects with a message naming the URL.
 */
export async function connectProducer(url: string, opts: { timeoutMs?: number; extra?: RedisOptions } = {}): Promise<Redis> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 3,
    connectTimeout: timeoutMs,
    lazyConnect: true,
    retryStrategy: (times) => (times > 20 ? null : Math.min(times * 200, 2000)),
    ...opts.extra,
  });
  // Without a listener ioredis prints unhandled error events.
  redis.on('error', () => undefined);
  try {
    await withTimeout(redis.connect(), timeoutMs);
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    const reason = (err as { code?: string; message?: string }).code ?? (err as Error).message ?? String(err);
    throw new RedisUnavailableError(redactRedisUrl(url), reason, err);
  }
}

/** Check Redis answers within `timeoutMs`; resolves true/false, never throws. */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const r = await connectProducer(url, { timeoutMs, extra: { retryStrategy: () => null } });
    r.disconnect();
    return true;
  } catch {
    return false;
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
