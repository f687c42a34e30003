import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { formatZodIssues } from '@sweepq/runtime/zod-issues';
import { redisAnswers, redactRedisUrl } from '@sweepq/queue';
import { startLocalS3, type LocalS3 } from '@sweepq/storage';
import { CliError } from './exit-codes.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');

/** Entry points of the services, as TypeScript source run through tsx, or built JavaScript. */
export function serviceEntry(service: 'coordinator' | 'worker'): { args: string[] } {
  const fromSource = here.endsWith(`${join('cli', 'src')}`);
  const file = join(repoRoot, 'services', service, fromSource ? 'src' : 'dist', fromSource ? 'main.ts' : 'main.js');
  return { args: fromSource ? ['--conditions=source', '--import', 'tsx', file] : [file] };
}

/** A child process started by the local stack. */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/**
 * Start a service process with its output appended to `logFile`. `entryArgs` replaces the service's own entry
 * point (the queue benchmark runs its fake-trainer processes this way).
 */
export function startService(
  service: 'coordinator' | 'worker',
  name: string,
  env: Record<string, string>,
  logFile: string,
  entryArgs: string[] = serviceEntry(service).args,
): ManagedProcess {
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, entryArgs, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((res) => child.on('exit', (code, signal) => res(code ?? (signal ? 128 : null))));
  return { name, child, exited };
}

/** SIGTERM every process, wait for them (SIGKILL after `graceMs`). */
export async function stopAll(procs: ManagedProcess[], graceMs = 30_000): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(graceMs)]);
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

async function onPath(cmd: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, cmd);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Make sure Redis answers at `url`. If it does not and it is a local URL and `redis-server` is on the PATH,
 * start one (no persistence, data dir under `dir`) and return a stop function; otherwise explain how to get Redis.
 */
export async function ensureRedis(url: string, dir: string): Promise<{ started: boolean; stop: () => Promise<void> }> {
  if (await redisAnswers(url)) return { started: false, stop: async () => undefined };
  const u = new URL(url);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(u.hostname);
  const bin = await onPath('redis-server');
  if (!local || !bin) {
    throw new CliError(
      `Redis does not answer at ${redactRedisUrl(url)}${local ? ' and redis-server is not on the PATH' : ''}. ` +
        'Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) and start it, ' +
        'run it in Docker (docker run -p 6379:6379 redis:7), or set REDIS_URL to a server you have.',
    );
  }
  await mkdir(dir, { recursive: true });
  const port = u.port || '6379';
  const child = spawn(bin, ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(url, 500)) {
      return {
        started: true,
        stop: async () => {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        },
      };
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new CliError(`started redis-server on port ${port} but it does not answer; is the port taken?`);
}

/**
 * Environment for services running against a local s3rver: Redis, bucket, credentials, queue prefix,
 * and an ops server on a free port (many processes share one machine). `extra` overrides any of it.
 */
export function localServiceEnv(opts: {
  redisUrl: string;
  s3: LocalS3;
  bucket: string;
  queuePrefix: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    REDIS_URL: opts.redisUrl,
    S3_ENDPOINT: opts.s3.endpoint,
    S3_BUCKET: opts.bucket,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: opts.s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: opts.s3.credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
    SWEEPQ_QUEUE_PREFIX: opts.queuePrefix,
    LOG_LEVEL: 'info',
    METRICS_PORT: '0',
    ...opts.extra,
  };
}

/** Options for {@link startLocalStack}. */
export interface LocalStackOptions {
  /** Folder for the local bucket, logs and Redis data; default `.sweepq`. */
  dir: string;
  redisUrl: string;
  bucket: string;
  workers: number;
  queuePrefix: string;
  /** Extra environment for the services. */
  env?: Record<string, string>;
  /** Port for the S3-compatible server; default 0 (any free port). */
  s3Port?: number;
  /** S3_PREFIX the services use (recorded in the settings only); default empty. */
  s3Prefix?: string;
}

/** A running local stack: Redis (reused or started), s3rver in-process, a coordinator and N workers. */
export interface LocalStack {
  s3: LocalS3;
  /** What later commands need to reach this stack's data; written to `<dir>/local.json` by the demo. */
  settings: LocalStackSettings;
  env: Record<string, string>;
  logDir: string;
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

/** Start everything a sweep needs on this machine. */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const dir = resolve(opts.dir);
  const logDir = join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const redis = await ensureRedis(opts.redisUrl, join(dir, 'redis'));
  const s3Dir = join(dir, 's3');
  const s3 = await startLocalS3({ directory: s3Dir, port: opts.s3Port ?? 0, buckets: [opts.bucket] });
  const env = localServiceEnv({ redisUrl: opts.redisUrl, s3, bucket: opts.bucket, queuePrefix: opts.queuePrefix, extra: opts.env });
  const processes = [startService('coordinator', 'coordinator', env, join(logDir, 'coordinator.log'))];
  for (let i = 0; i < opts.workers; i++) {
    processes.push(startService('worker', `worker-${i + 1}`, { ...env, WORKER_ID: `local-worker-${i + 1}` }, join(logDir, `worker-${i + 1}.log`)));
  }
  const settings: LocalStackSettings = {
    version: 1,
    redisUrl: opts.redisUrl,
    redisStarted: redis.started,
    queuePrefix: opts.queuePrefix,
    s3: { directory: s3Dir, bucket: opts.bucket, prefix: opts.s3Prefix ?? '', credentials: s3.credentials },
    writtenAt: new Date().toISOString(),
  };
  return {
    s3,
    settings,
    env,
    logDir,
    processes,
    async stop() {
      await stopAll(processes);
      await s3.close();
      await redis.stop();
    },
  };
}

/** Name of the file in the demo's folder (`.sweepq/`) that tells later commands where the demo's data is. */
export const LOCAL_SETTINGS_FILE = 'local.json';

const localSettingsSchema = z.object({
  version: z.literal(1),
  redisUrl: z.string().regex(/^rediss?:\/\//),
  redisStarted: z.boolean(),
  queuePrefix: z.string().min(1),
  s3: z.object({
    directory: z.string().min(1),
    bucket: z.string().min(1),
    prefix: z.string(),
    credentials: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }),
  }),
  writtenAt: z.string(),
});

/**
 * The local stack's settings: Redis URL and queue prefix, the embedded S3 server's data folder (absolute), bucket,
 * key prefix and credentials, and whether the demo started (and later stopped) its own redis-server.
 */
export type LocalStackSettings = z.infer<typeof localSettingsSchema>;

/** Write `<dir>/local.json` (owner-only: the Redis URL may hold a password), replacing it atomically. */
export async function writeLocalSettings(dir: string, settings: LocalStackSettings): Promise<string> {
  const file = join(resolve(dir), LOCAL_SETTINGS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
  return file;
}

/** `<dir>/local.json`, or undefined when there is none; a file that is not one is an error naming it. */
export async function readLocalSettings(dir: string): Promise<{ file: string; settings: LocalStackSettings } | undefined> {
  const file = join(resolve(dir), LOCAL_SETTINGS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON (${(err as Error).message}); delete it and run npm start again, or set S3_ENDPOINT and S3_BUCKET`);
  }
  const r = localSettingsSchema.safeParse(parsed, { reportInput: true });
  if (!r.success) {
    const issues = formatZodIssues(r.error.issues).join('; ');
    throw new CliError(`${file} is not a sweepq local-stack file (${issues}); delete it and run npm start again, or set S3_ENDPOINT and S3_BUCKET`);
  }
  return { file, settings: r.data };
}
