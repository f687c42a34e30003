// docker-compose.yml: Compose itself accepts it (`docker compose config`, or Debian's `docker-compose config`; no
// Docker engine needed), and it keeps the invariants the services depend on. The bucket step's shell script runs for
// real (sh + curl) against the embedded S3 server; the images themselves cannot be pulled here.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSeaweedfsWithConditionalWrites, MIN_SEAWEEDFS, REDIS_8_IMAGE, RELEASE_TAG } from './helpers/deploy-images.js';
import { startLocalS3, type LocalS3 } from '@sweepq/storage';

const root = join(import.meta.dirname, '..');
const composeFile = join(root, 'docker-compose.yml');
/** The services' default SHUTDOWN_DEADLINE_MS (services/{worker,coordinator}/src/env.ts). */
const DEFAULT_SHUTDOWN_DEADLINE_MS = 25_000;
const SWEEPQ_SERVICES = ['coordinator', 'worker', 'cli'] as const;

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  ports?: string[];
  stop_grace_period?: string;
  container_name?: string;
  healthcheck?: { test?: string[] | string };
  profiles?: string[];
  read_only?: boolean;
  cap_drop?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** `docker compose` (v2 plugin) when present, else Debian's `docker-compose` (1.29). */
function composeCommand(): string[] {
  const v2 = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 20_000 });
  if (!v2.error && v2.status === 0) return ['docker', 'compose'];
  const v1 = spawnSync('docker-compose', ['version'], { encoding: 'utf8', timeout: 20_000 });
  if (!v1.error && v1.status === 0) return ['docker-compose'];
  throw new Error(
    'neither `docker compose` nor `docker-compose` is installed: this test checks docker-compose.yml with `compose config`. ' +
      'Install it with: apt-get install -y --no-install-recommends docker-compose',
  );
}

/** Compose durations ("40s", "1m30s", "1m") in milliseconds. */
function durationMs(text: string | undefined): number {
  if (text == null) return 10_000; // Compose's default stop grace period
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`unparsable duration "${text}"`);
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * (unit[p[2] as string] as number), 0);
}

/** The default of a `${VAR:-default}` reference, or the literal. */
function withDefaults(value: unknown): string {
  return String(value ?? '').replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
}

function asArray(v: string[] | string | undefined): string[] {
  return v == null ? [] : Array.isArray(v) ? v : [v];
}

let compose: ComposeFile;
let command: string[];

/** Runs Compose on docker-compose.yml with the cli profile on, so that every service is included. */
function runCompose(args: string[]): { status: number | null; stdout: string; stderr: string; error?: Error } {
  const [bin, ...pre] = command as [string, ...string[]];
  return spawnSync(bin, [...pre, '-f', composeFile, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, COMPOSE_PROFILES: 'cli' },
  });
}

beforeAll(() => {
  command = composeCommand();
  // merge: true resolves YAML merge keys (<<), as Compose does.
  compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as ComposeFile;
});

function service(name: string): ComposeService {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

describe('docker-compose.yml', () => {
  it('is accepted by Compose', () => {
    const r = runCompose(['config', '-q']);
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('pulls only release-tagged images, and no MinIO (its community images are gone from Docker Hub)', () => {
    const r = runCompose(['config']);
    expect(r.status, r.stderr).toBe(0);
    const resolved = parse(r.stdout) as ComposeFile;
    const images = Object.entries(resolved.services).map(([name, s]) => ({ name, image: s.image ?? '', built: s.build != null }));
    expect(images.length).toBe(Object.keys(compose.services).length);
    for (const { name, image, built } of images) {
      expect(image, `${name} image`).not.toMatch(/minio/i);
      if (built) continue; // the sweepq image, built from infra/Dockerfile
      expect(image, `${name}: a tag or digest`).toMatch(/:[\w.-]+$|@sha256:[0-9a-f]{64}$/);
      expect(image, `${name}: not :latest`).not.toMatch(/:latest$/);
      // A release number, not a floating major or branch tag.
      expect(image, `${name}: a release tag`).toMatch(RELEASE_TAG);
    }
    expect(readFileSync(composeFile, 'utf8')).not.toMatch(/minio/i);
    // docs/deploy.md says how each pinned tag was checked: it must name the tags in use.
    const deployDoc = readFileSync(join(root, 'docs', 'deploy.md'), 'utf8');
    for (const { name, image, built } of images) if (!built) expect(deployDoc, `docs/deploy.md names ${name}'s ${image}`).toContain(`\`${image}\``);
  });

  it('runs Redis 8 with AOF persistence and noeviction', () => {
    const redis = service('redis');
    expect(redis.image).toMatch(REDIS_8_IMAGE);
    const args = asArray(redis.command).join(' ');
    expect(args).toMatch(/--appendonly yes\b/);
    expect(args).toMatch(/--maxmemory-policy noeviction\b/);
  });

  it('runs SeaweedFS as the S3 server, a release with atomic conditional writes, health-checked', () => {
    const s3 = service('seaweedfs');
    expect(isSeaweedfsWithConditionalWrites(s3.image), `${s3.image}: chrislusf/seaweedfs >= ${MIN_SEAWEEDFS.join('.')}`).toBe(true);
    const args = asArray(s3.command);
    expect(args[0]).toBe('mini');
    expect(args).toContain('-dir=/data');
    expect(args).toContain('-master.telemetry=false');
    expect(withDefaults(args.find((a) => a.startsWith('-bucket=')))).toBe(`-bucket=${withDefaults(service('coordinator').environment?.['S3_BUCKET'])}`);
    expect(asArray(s3.healthcheck?.test).join(' ')).toMatch(/curl -fsS .*http:\/\/127\.0\.0\.1:8333\/healthz/);
    expect(s3.volumes).toContain('s3-data:/data');
    // Published on loopback only: the S3 API and the filer's browser (no auth on the latter).
    expect((s3.ports ?? []).map(withDefaults)).toEqual(['127.0.0.1:8333:8333', '127.0.0.1:8888:8888']);
  });

  it('creates the bucket the services use before they start, with the keys they use', () => {
    const create = service('create-bucket');
    const s3 = service('seaweedfs');
    expect(create.image).toBe(s3.image);
    expect(create.depends_on).toMatchObject({ seaweedfs: { condition: 'service_healthy' } });
    const script = asArray(create.command).join(' ');
    expect(script).toMatch(/s3 -X PUT; s3 -f -I/);
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      expect(withDefaults(create.environment?.[key]), key).toBe(withDefaults(s3.environment?.[key]));
    }
    for (const name of SWEEPQ_SERVICES) {
      const s = service(name);
      expect(withDefaults(s.environment?.['S3_BUCKET'])).toBe(withDefaults(create.environment?.['S3_BUCKET']));
      expect(s.environment?.['S3_ENDPOINT']).toBe('http://seaweedfs:8333');
      expect(s.environment?.['S3_FORCE_PATH_STYLE']).toBe('true');
      for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
        expect(withDefaults(s.environment?.[key]), `${name} ${key}`).toBe(withDefaults(s3.environment?.[key]));
      }
      expect(String(s.environment?.['REDIS_URL'])).toMatch(/^redis:\/\/redis:6379$/);
      expect(s.depends_on).toMatchObject({
        redis: { condition: 'service_healthy' },
        'create-bucket': { condition: 'service_completed_successfully' },
      });
    }
  });

  it('gives coordinator and workers a stop grace period above their shutdown deadline', () => {
    for (const name of ['coordinator', 'worker']) {
      const s = service(name);
      const deadline = Number(s.environment?.['SHUTDOWN_DEADLINE_MS'] ?? DEFAULT_SHUTDOWN_DEADLINE_MS);
      expect(durationMs(s.stop_grace_period), `${name} stop_grace_period`).toBeGreaterThan(Math.max(deadline, DEFAULT_SHUTDOWN_DEADLINE_MS) + 5_000);
    }
  });

  it('lets the worker scale: no fixed container name, no host ports, the native backend required', () => {
    const worker = service('worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports ?? []).toEqual([]);
    expect(worker.environment?.['SWEEPQ_BACKEND']).toBe('node');
  });

  it('builds one image from infra/Dockerfile for coordinator, workers and CLI, hardened', () => {
    const images = new Set(SWEEPQ_SERVICES.map((n) => service(n).image));
    expect(images.size).toBe(1);
    for (const name of SWEEPQ_SERVICES) {
      const s = service(name);
      expect(s.build).toEqual({ context: '.', dockerfile: 'infra/Dockerfile' });
      expect(s.read_only, `${name} read_only`).toBe(true);
      expect(s.cap_drop, `${name} cap_drop`).toContain('ALL');
      // Redis Cluster hash tag in the BullMQ prefix.
      expect(String(s.environment?.['SWEEPQ_QUEUE_PREFIX'])).toMatch(/^\{[^{}]+\}$/);
    }
    // The image's entry point is the CLI (under tini): every service keeps it and names a CLI command.
    for (const name of SWEEPQ_SERVICES) expect(service(name).entrypoint, `${name} entrypoint`).toBeUndefined();
    expect(asArray(service('coordinator').command)).toEqual(['coordinator']);
    expect(asArray(service('worker').command)).toEqual(['worker']);
    expect(asArray(service('cli').command)).toEqual(['--help']);
    // The CLI runs on demand only (docker compose run --rm cli …), not with `up`.
    expect(service('cli').profiles).toEqual(['cli']);
  });

  it('health-checks the services on their metrics port', () => {
    expect(asArray(service('coordinator').healthcheck?.test).join(' ')).toMatch(/127\.0\.0\.1:9464\/readyz/);
    expect(asArray(service('worker').healthcheck?.test).join(' ')).toMatch(/127\.0\.0\.1:9464\/healthz/);
  });

  it('parses durations the way Compose does', () => {
    expect(durationMs('40s')).toBe(40_000);
    expect(durationMs('1m30s')).toBe(90_000);
    expect(() => durationMs('40 seconds')).toThrow(/unparsable/);
  });
});

describe('the create-bucket script, run by sh and curl against the embedded S3 server', () => {
  let server: LocalS3;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sweepq-compose-bucket-'));
    server = await startLocalS3({ directory: dir });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The service's script as its container runs it ($$ is Compose's escape for $), pointed at `endpoint`. Spawned
   * asynchronously: the S3 server runs in this process and must keep answering meanwhile.
   */
  function runScript(endpoint: string, bucket: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const script = asArray(service('create-bucket').command)
      .join(' ')
      .replaceAll('$$', '$')
      .replaceAll('http://seaweedfs:8333', endpoint);
    const env = { PATH: process.env['PATH'] ?? '', S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: server.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey };
    return new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (err) => reject(new Error(`could not run the create-bucket script with sh (curl needed): ${err.message}`)));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  it('creates a missing bucket, succeeds again when it exists, and fails when the server is unreachable', async () => {
    const first = await runScript(server.endpoint, 'sweepq-compose');
    expect(first.stderr).toBe('');
    expect(first.stdout.trim()).toBe('bucket sweepq-compose is ready');
    expect(first.status).toBe(0);
    const again = await runScript(server.endpoint, 'sweepq-compose');
    expect(again.status).toBe(0);
    // Port 9 (discard) on loopback: nothing listens there.
    const down = await runScript('http://127.0.0.1:9', 'sweepq-compose');
    expect(down.status).not.toBe(0);
  });
});
