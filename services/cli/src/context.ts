import { access } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SweepLifecycle, TrialLifecycle } from '@sweepq/lifecycle';
import { QueueName, RedisUnavailableError, connectProducer } from '@sweepq/queue';
import { storeSettings } from '@sweepq/runtime';
import { StorageError, createArtifactStore, startLocalS3, type ArtifactStore, type LocalS3 } from '@sweepq/storage';
import { loadCliEnv, type CliEnv } from './env.js';
import { CliError } from './errors.js';
import { LOCAL_SETTINGS_FILE, readLocalSettings, type LocalStackSettings } from './demo/local-settings.js';

/** A command someone waits for at a terminal rides out a blip, not an outage: at most 15 s of retries. */
export const CLI_S3_RETRY_MS = 15_000;

/** Bucket settings for CLI commands. */
export function cliStoreSettings(env: CliEnv): ReturnType<typeof storeSettings> {
  const s = storeSettings(env);
  return { ...s, retry: { forMs: Math.min(s.retry.forMs, CLI_S3_RETRY_MS) } };
}

/** What a command that only reads or writes the bucket needs (results, report, download, predict). */
export interface BucketContext {
  env: CliEnv;
  store: ArtifactStore;
  /**
   * Set when no bucket was configured and the command reads the demo's data ({@link resolveCommandEnv}): its embedded
   * S3 server lives only as long as the command, so nothing should hand out URLs to it.
   */
  local?: { file: string; settings: LocalStackSettings };
  close(): Promise<void>;
}

/** Connections a command needs; close() releases them all. */
export interface CliContext extends BucketContext {
  redis: Redis;
  sweeps: Queue;
  trials: Queue;
  /** The one owner of sweep state changes (submit, cancel, retry, resume). */
  lifecycle: SweepLifecycle;
  trialLifecycle: TrialLifecycle;
}

/**
 * A context opened with `redis: 'optional'` when Redis did not answer: the bucket works, the queues do not.
 * `redisUnavailable` says why (it names the URL, never a password), for a command to print as a note.
 */
export interface NoRedisContext extends BucketContext {
  redis: undefined;
  redisUnavailable: string;
}

/** Options for {@link openContext}. */
export interface OpenContextOptions {
  /** Create the bucket when it is missing; default false (a missing bucket is an error naming it). */
  createBucket?: boolean;
  /**
   * `required` (default): fail with a message naming REDIS_URL when Redis does not answer. `optional`: open anyway and
   * say why in `redisUnavailable` (status of a finished sweep, watch). `none`: do not connect at all.
   */
  redis?: 'required' | 'optional' | 'none';
}

/** Set up the bucket client and check the bucket answers, then connect to Redis as `opts.redis` says. */
export async function openContext(env: CliEnv, opts?: OpenContextOptions & { redis?: 'required' }): Promise<CliContext>;
export async function openContext(env: CliEnv, opts: OpenContextOptions & { redis: 'optional' }): Promise<CliContext | NoRedisContext>;
export async function openContext(env: CliEnv, opts: OpenContextOptions): Promise<BucketContext>;
export async function openContext(env: CliEnv, opts: OpenContextOptions = {}): Promise<CliContext | NoRedisContext | BucketContext> {
  const store = createArtifactStore(cliStoreSettings(env));
  const closeStore = async () => store.client.destroy();
  try {
    // Commands that change sweeps (they take Redis as required) need the server's conditional writes; the ones that
    // only read (status, watch, report) do not probe, so read-only credentials work for them.
    await store.ensureBucket(opts.createBucket ?? false, { checkConditionalWrites: (opts.redis ?? 'required') === 'required' });
  } catch (err) {
    store.client.destroy();
    throw err;
  }
  const mode = opts.redis ?? 'required';
  if (mode === 'none') return { env, store, close: closeStore };
  let redis: Redis;
  try {
    // Optional Redis fails fast (one attempt) rather than retrying for seconds before a bucket-only answer.
    redis = await connectProducer(env.REDIS_URL, mode === 'optional' ? { timeoutMs: 2000, extra: { retryStrategy: () => null } } : {});
  } catch (err) {
    if (mode === 'optional' && err instanceof RedisUnavailableError) {
      return { env, store, redis: undefined, redisUnavailable: err.message, close: closeStore };
    }
    store.client.destroy();
    throw err;
  }
  const sweeps = new Queue(QueueName.Sweeps, { connection: redis, prefix: env.SWEEPQ_QUEUE_PREFIX });
  const trials = new Queue(QueueName.Trials, { connection: redis, prefix: env.SWEEPQ_QUEUE_PREFIX });
  sweeps.on('error', () => undefined);
  trials.on('error', () => undefined);
  const prefix = env.SWEEPQ_QUEUE_PREFIX;
  return {
    env,
    store,
    redis,
    sweeps,
    trials,
    lifecycle: new SweepLifecycle({ store, redis, prefix, sweeps, trials }),
    trialLifecycle: new TrialLifecycle({ store, redis, prefix }),
    async close() {
      await sweeps.close();
      await trials.close();
      await redis.quit().catch(() => redis.disconnect());
      store.client.destroy();
    },
  };
}

/** The CLI's environment for one command, and the embedded S3 server started for it when the demo's data is used. */
export interface CommandEnv {
  env: CliEnv;
  /** Set when no bucket was configured and the demo's `local.json` was used. */
  local?: { file: string; settings: LocalStackSettings; server: LocalS3 };
  /** Stop the embedded server, if one was started. */
  close(): Promise<void>;
}

const isSet = (raw: Record<string, string | undefined>, name: string) => (raw[name] ?? '') !== '';

/**
 * Resolve where a command's data is. Explicit settings always win: with S3_ENDPOINT or S3_BUCKET set, `env` is used as
 * it is. Otherwise, when the demo left `<SWEEPQ_LOCAL_DIR>/local.json` (default `.sweepq/local.json`), start the
 * embedded S3-compatible server (s3rver) on the demo's data folder for this command's duration and use the demo's
 * bucket, credentials, Redis URL and queue prefix (REDIS_URL and SWEEPQ_QUEUE_PREFIX, when set, still win), and say
 * so in one line through `notice`.
 */
export async function resolveCommandEnv(
  env: CliEnv,
  raw: Record<string, string | undefined>,
  notice: (line: string) => void,
): Promise<CommandEnv> {
  const none: CommandEnv = { env, close: async () => undefined };
  if (isSet(raw, 'S3_ENDPOINT') || isSet(raw, 'S3_BUCKET')) return none;
  const found = await readLocalSettings(env.SWEEPQ_LOCAL_DIR);
  if (!found) return none;
  const { file, settings } = found;
  const bucketDir = join(settings.s3.directory, settings.s3.bucket);
  try {
    await access(bucketDir);
  } catch {
    throw new CliError(
      `${file} names the demo's bucket folder ${bucketDir}, which does not exist; run sweepq demo again, delete ${file}, ` +
        'or set S3_ENDPOINT and S3_BUCKET to use another bucket',
    );
  }
  const server = await startLocalS3({ directory: settings.s3.directory, port: 0 });
  const redisExplicit = isSet(raw, 'REDIS_URL') || isSet(raw, 'REDIS_URL_FILE') || isSet(raw, 'REDIS_PASSWORD') || isSet(raw, 'REDIS_PASSWORD_FILE');
  const resolved: CliEnv = {
    ...env,
    S3_ENDPOINT: server.endpoint,
    S3_BUCKET: settings.s3.bucket,
    S3_PREFIX: settings.s3.prefix,
    S3_FORCE_PATH_STYLE: true,
    AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    REDIS_URL: redisExplicit ? env.REDIS_URL : settings.redisUrl,
    SWEEPQ_QUEUE_PREFIX: isSet(raw, 'SWEEPQ_QUEUE_PREFIX') ? env.SWEEPQ_QUEUE_PREFIX : settings.queuePrefix,
  };
  const show = (path: string) => relative(process.cwd(), path) || path;
  notice(`reading the demo's data in ${show(settings.s3.directory)} (from ${show(file)}; set S3_ENDPOINT or S3_BUCKET for another bucket)`);
  return { env: resolved, local: { file, settings, server }, close: () => server.close() };
}

/**
 * Run `fn` with a context for one command: environment parsed, the demo's data used when no bucket is configured
 * ({@link resolveCommandEnv}), bucket (and Redis, as `opts.redis` says) connected; everything closed afterwards.
 */
export async function withContext<T>(fn: (ctx: CliContext) => Promise<T>, opts?: OpenContextOptions & { redis?: 'required' }): Promise<T>;
export async function withContext<T>(fn: (ctx: CliContext | NoRedisContext) => Promise<T>, opts: OpenContextOptions & { redis: 'optional' }): Promise<T>;
export async function withContext<T>(fn: (ctx: BucketContext) => Promise<T>, opts: OpenContextOptions & { redis: 'none' }): Promise<T>;
export async function withContext<T>(fn: (ctx: never) => Promise<T>, opts: OpenContextOptions = {}): Promise<T> {
  const raw = process.env;
  const env = loadCliEnv(raw);
  const cmd = await resolveCommandEnv(env, raw, (line) => process.stderr.write(`sweepq: ${line}\n`));
  try {
    let ctx: BucketContext;
    try {
      ctx = await openContext(cmd.env, { createBucket: opts.createBucket, redis: opts.redis });
    } catch (err) {
      if (cmd.local || isSet(raw, 'S3_ENDPOINT') || isSet(raw, 'S3_BUCKET') || !(err instanceof StorageError)) throw err;
      throw new CliError(
        `${err.message}\nno bucket is configured: set S3_ENDPOINT (omit for AWS), S3_BUCKET and credentials (see README), ` +
          `or run npx sweepq demo first (npm start in a checkout): later commands then read the demo's data through ${join(env.SWEEPQ_LOCAL_DIR, LOCAL_SETTINGS_FILE)}`,
      );
    }
    if (cmd.local) ctx.local = { file: cmd.local.file, settings: cmd.local.settings };
    try {
      return await (fn as (c: BucketContext) => Promise<T>)(ctx);
    } finally {
      await ctx.close();
    }
  } finally {
    await cmd.close();
  }
}

/** Bucket access for commands that need no Redis (report, predict, list): someone with only bucket access can use them. */
export function withStore<T>(fn: (store: ArtifactStore) => Promise<T>): Promise<T> {
  return withContext((ctx) => fn(ctx.store), { redis: 'none' });
}
