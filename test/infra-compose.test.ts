// docker-compose.yml: Compose itself accepts it (`docker compose config`, or Debian's `docker-compose config`; no
// Docker engine needed), and it keeps the invariants the services depend on.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

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
    const [bin, ...pre] = command as [string, ...string[]];
    const r = spawnSync(bin, [...pre, '-f', composeFile, 'config', '-q'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, COMPOSE_PROFILES: 'cli' },
    });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs Redis with AOF persistence and noeviction', () => {
    const args = asArray(service('redis').command).join(' ');
    expect(args).toMatch(/--appendonly yes\b/);
    expect(args).toMatch(/--maxmemory-policy noeviction\b/);
  });

  it('creates the bucket the services use before they start', () => {
    const create = service('create-bucket');
    expect(asArray(create.command).join(' ')).toMatch(/mc mb --ignore-existing "local\/\$\$S3_BUCKET"/);
    for (const name of SWEEPQ_SERVICES) {
      const s = service(name);
      expect(withDefaults(s.environment?.['S3_BUCKET'])).toBe(withDefaults(create.environment?.['S3_BUCKET']));
      expect(s.environment?.['S3_ENDPOINT']).toBe('http://minio:9000');
      expect(String(s.environment?.['REDIS_URL'])).toMatch(/^redis:\/\/redis:6379$/);
      expect(s.depends_on).toMatchObject({
        redis: { condition: 'service_healthy' },
        'create-bucket': { condition: 'service_completed_successfully' },
      });
    }
    // The MinIO console, where infra/README.md opens the report.
    expect((service('minio').ports ?? []).some((p) => /:9001$/.test(withDefaults(p)))).toBe(true);
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
    expect(asArray(service('coordinator').command)).toEqual(['services/coordinator/dist/main.js']);
    expect(asArray(service('worker').command)).toEqual(['services/worker/dist/main.js']);
    expect(asArray(service('cli').entrypoint).join(' ')).toMatch(/tini -- node services\/cli\/bin\/sweepq\.js$/);
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
