import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { QueueName, connectProducer } from '@sweepq/queue';
import { ArtifactStore, createS3Client, startLocalS3, type LocalS3 } from '@sweepq/storage';
import { localServiceEnv, startService, stopAll, type ManagedProcess } from '@sweepq/cli';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A private world for one test file: its own queue prefix, bucket folder and processes. */
export interface TestWorld {
  dir: string;
  s3: LocalS3;
  store: ArtifactStore;
  prefix: string;
  env: Record<string, string>;
  processes: ManagedProcess[];
  start(service: 'coordinator' | 'worker', name: string, extraEnv?: Record<string, string>): ManagedProcess;
  /** Stop the S3-protocol server (an outage); {@link startS3} brings it back on the same port with the same data. */
  stopS3(): Promise<void>;
  startS3(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Options for {@link createWorld}: `redisUrl` is what the services get; `adminRedisUrl` (default the same)
 * is what the test itself uses for clean-up, for worlds whose services get their password from a file.
 */
export interface WorldOptions {
  redisUrl?: string;
  adminRedisUrl?: string;
  env?: Record<string, string>;
  /** Called in the S3 server after each object write it commits, in commit order (the server is in this process). */
  onObjectWritten?: (e: ObjectWrite) => void;
}

/** One object write the world's S3 server committed (see {@link WorldOptions.onObjectWritten}). */
export interface ObjectWrite {
  bucket: string;
  key: string;
  etag: string;
  body: Buffer;
  at: number;
}

export async function createWorld(bucket = 'sweepq-test', opts: WorldOptions = {}): Promise<TestWorld> {
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const adminRedisUrl = opts.adminRedisUrl ?? redisUrl;
  const dir = await mkdtemp(join(tmpdir(), 'sweepq-it-'));
  const hooks = opts.onObjectWritten ? { onObjectWritten: opts.onObjectWritten } : {};
  let s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: [bucket], ...hooks });
  let s3Running = true;
  const store = new ArtifactStore({
    client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }),
    bucket,
    endpoint: s3.endpoint,
  });
  // Unique BullMQ prefix per test file (hash-tagged like production), removed afterwards.
  const prefix = `{sweepq-test-${randomBytes(4).toString('hex')}}`;
  const env = localServiceEnv({
    redisUrl,
    s3,
    bucket,
    queuePrefix: prefix,
    extra: {
      SWEEPQ_CACHE_DIR: join(dir, 'cache'),
      SWEEPQ_BACKEND: process.env.SWEEPQ_BACKEND ?? 'auto',
      COORDINATOR_POLL_MS: '300',
      ...opts.env,
    },
  });
  const processes: ManagedProcess[] = [];
  return {
    dir,
    get s3() {
      return s3;
    },
    store,
    prefix,
    env,
    processes,
    start(service, name, extraEnv = {}) {
      const p = startService(service, name, { ...env, ...extraEnv }, join(dir, `${name}.log`));
      processes.push(p);
      return p;
    },
    async stopS3() {
      if (!s3Running) return;
      s3Running = false;
      await s3.close();
    },
    async startS3() {
      if (s3Running) return;
      s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: [bucket], port: s3.port, ...hooks });
      s3Running = true;
    },
    async cleanup() {
      await stopAll(processes, 20_000);
      const redis = await connectProducer(adminRedisUrl);
      try {
        for (const name of Object.values(QueueName)) {
          const q = new Queue(name, { connection: redis, prefix });
          await q.obliterate({ force: true }).catch(() => undefined);
          await q.close();
        }
        const stray = await redis.keys(`${prefix}*`);
        if (stray.length > 0) await redis.del(...stray);
      } finally {
        redis.disconnect();
      }
      store.client.destroy();
      if (s3Running) await s3.close();
      if (!process.env.SWEEPQ_KEEP_TEST_DIR) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Poll `fn` until it returns a value other than undefined, or fail after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * A small 3-class text dataset with learnable keywords (and shared filler words), as CSV.
 * Deterministic, so every run trains on the same rows.
 */
export async function writeToyCsv(path: string, rows = 240): Promise<void> {
  const topics = {
    sport: ['match', 'goal', 'team', 'score', 'coach', 'league'],
    weather: ['rain', 'sunny', 'storm', 'cloud', 'forecast', 'wind'],
    finance: ['stock', 'market', 'bank', 'price', 'trade', 'profit'],
  } as const;
  const filler = ['the', 'a', 'today', 'news', 'report', 'about', 'very', 'big', 'new', 'local'];
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const lines = ['text,label'];
  const names = Object.keys(topics) as (keyof typeof topics)[];
  for (let i = 0; i < rows; i++) {
    const label = names[i % names.length]!;
    const words: string[] = [];
    const len = 6 + Math.floor(rnd() * 8);
    for (let w = 0; w < len; w++) words.push(rnd() < 0.35 ? pick(topics[label]) : pick(filler));
    lines.push(`"${words.join(' ')}, really!",${label}`);
  }
  await writeFile(path, `${lines.join('\n')}\n`);
}
