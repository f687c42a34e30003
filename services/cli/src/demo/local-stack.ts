import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { redisAnswers, redactRedisUrl } from '@sweepq/queue';
import { startLocalS3, type LocalS3 } from '@sweepq/storage';
import { CliError } from '../errors.js';
import type { LocalStackSettings } from './local-settings.js';

const here = dirname(fileURLToPath(import.meta.url));
// In a checkout (services/cli/src/demo or dist/demo) the repository is four folders up.
const repoRoot = resolve(here, '..', '..', '..', '..');

/**
 * How to start a service process: the workspace's TypeScript source through tsx or its built JavaScript
 * (services/<service>/dist), from the repository root; or, in the published package (its bundle in dist/ beside bin/),
 * the package's own `sweepq <service>` command, from the current folder.
 */
export function serviceEntry(service: 'coordinator' | 'worker'): { args: string[]; cwd: string } {
  if (here.endsWith(join('cli', 'src', 'demo'))) {
    return { args: ['--conditions=source', '--import', 'tsx', join(repoRoot, 'services', service, 'src', 'main.ts')], cwd: repoRoot };
  }
  if (here.endsWith(join('cli', 'dist', 'demo'))) return { args: [join(repoRoot, 'services', service, 'dist', 'main.js')], cwd: repoRoot };
  return { args: [fileURLToPath(new URL('../bin/sweepq.js', import.meta.url)), service], cwd: process.cwd() };
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
    cwd: serviceEntry(service).cwd,
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
