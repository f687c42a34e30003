// `npm start` then the README's next commands, as a new user runs them: no REDIS_URL, S3_* or AWS_* set, the demo's
// folder in the working directory. Also how a sweep that fails after it was accepted is reported.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectProducer } from '@sweepq/queue';
import { REDIS_URL, writeToyCsv } from './helpers/env.js';

const root = join(import.meta.dirname, '..');
const tsx = import.meta.resolve('tsx');
const prefix = `{sweepq-test-${randomBytes(4).toString('hex')}}`;
let dir: string;

/** The environment with every sweepq, S3, AWS and Redis setting removed: a fresh shell. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(S3_|AWS_|REDIS_|SWEEPQ_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Run the CLI (TypeScript source) in `dir`, as `npm start` (`sweepq demo`) / `npx sweepq` would from the repository root. */
function run(entry: 'demo' | 'main', args: string[], env = cleanEnv()): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const file = join(root, 'services', 'cli', 'src', 'main.ts');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=source', '--import', tsx, file, ...(entry === 'demo' ? ['demo'] : []), ...args], { cwd: dir, env, encoding: 'utf8', timeout: 240_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code ?? null) : 0;
      resolve({ status: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const sweepq = (...args: string[]) => run('main', args);

async function writeSpec(name: string, lines: string[]): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(
    path,
    [
      `name: ${name}`,
      'method: grid',
      'metric: {name: val_accuracy, goal: maximize}',
      'parameters:',
      ...lines,
      '  lstm_units: {value: 4}',
      '  embedding_dim: {value: 4}',
      '  max_words: {value: 30}',
      '  max_len: {value: 8}',
      '  batch_size: {value: 32}',
      '  epochs: {value: 1}',
      'dataset:',
      `  uri: ${join(dir, 'toy.csv')}`,
      '  validation_split: 0.25',
      '  test_split: 0.1',
      '',
    ].join('\n'),
  );
  return path;
}

const sweepIdIn = (stdout: string) => /submitted sweep (\S+)/.exec(stdout)?.[1] ?? '';
const noSdkNoise = (stderr: string) => expect(stderr).not.toMatch(/AWS SDK|NodeVersionSupportWarning|CredentialsProviderError/);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-demo-'));
  await writeToyCsv(join(dir, 'toy.csv'), 120);
});
afterAll(async () => {
  const redis = await connectProducer(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
  if (dir && !process.env.SWEEPQ_KEEP_TEST_DIR) await rm(dir, { recursive: true, force: true });
});

describe('after npm start, the README commands reach the demo sweep with no set-up', () => {
  let sweepId = '';

  it('runs the demo and leaves .sweepq/local.json', async () => {
    const spec = await writeSpec('demo-e2e', ['  learning_rate: {values: [0.0019064667082208317, 0.02]}']);
    const r = await run('demo', ['--spec', spec, '--workers', '1'], cleanEnv({ SWEEPQ_QUEUE_PREFIX: prefix, REDIS_URL }));
    expect(r.status, r.stderr + r.stdout).toBe(0);
    noSdkNoise(r.stderr);
    sweepId = sweepIdIn(r.stdout);
    expect(sweepId).toMatch(/^demo-e2e-/);
    expect(r.stdout).toMatch(new RegExp(`sweep ${sweepId}: completed in \\d+ s`));
    // 4 significant digits in the table, not the raw float.
    expect(r.stdout).toMatch(/\b0\.001906\b/);
    expect(r.stdout).not.toContain('0.0019064667082208317');
    expect(r.stdout).toMatch(/best model: \.sweepq\/results\/.+\/best\//);
    const local = JSON.parse(await readFile(join(dir, '.sweepq', 'local.json'), 'utf8')) as { queuePrefix: string; s3: { directory: string } };
    expect(local.queuePrefix).toBe(prefix);
    expect(local.s3.directory).toBe(join(dir, '.sweepq', 's3'));
    // The CSV keeps full precision and names the trained epochs apart from the epochs parameter.
    const csv = await readFile(join(dir, '.sweepq', 'results', sweepId, 'leaderboard.csv'), 'utf8');
    const header = csv.split('\n')[0]!.split(',');
    expect(new Set(header).size).toBe(header.length);
    expect(header).toEqual(expect.arrayContaining(['epochs_done', 'epochs']));
    expect(csv).toContain('0.0019064667082208317');
  });

  it('status, results, report --url, download, watch and predict exit 0 and show the sweep', async () => {
    expect(sweepId).not.toBe('');
    const status = await sweepq('status', sweepId);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${sweepId}[\\s\\S]*completed`));
    expect(status.stderr).toMatch(/reading the demo's data in \.sweepq\/s3 \(from \.sweepq\/local\.json/);
    expect(status.stderr.trim().split('\n')).toHaveLength(1);

    const results = await sweepq('results', sweepId);
    expect(results.status, results.stderr).toBe(0);
    expect(results.stdout).toMatch(new RegExp(`^${sweepId}: completed\\n#  trial`));
    expect(results.stdout).toMatch(/^1 {2}t000[01] {2}completed/m);

    const report = await sweepq('report', sweepId, '--url');
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toMatch(new RegExp(`file://${dir}/${sweepId}-report.html`));
    expect(await readFile(join(dir, `${sweepId}-report.html`), 'utf8')).toMatch(/^<!doctype html>/i);

    const download = await sweepq('download', sweepId, '--out', 'copy');
    expect(download.status, download.stderr).toBe(0);
    expect(download.stdout).toMatch(new RegExp(`${sweepId} \\(completed\\): \\d+ files written to copy`));
    expect(await readdir(join(dir, 'copy'))).toEqual(expect.arrayContaining(['sweep.json', 'leaderboard.csv', 'report.html', 'best', 'trials']));

    const watch = await sweepq('watch', sweepId);
    expect(watch.status, watch.stderr).toBe(0);
    expect(watch.stdout).toMatch(new RegExp(`sweep ${sweepId}: completed`));
    expect(watch.stdout).toContain(`report: s3://sweepq/sweeps/${sweepId}/report.html`);

    const predict = await sweepq('predict', sweepId, 'goal match team score', 'rain storm cloud');
    expect(predict.status, predict.stderr).toBe(0);
    expect(predict.stdout).toMatch(new RegExp(`model s3://sweepq/sweeps/${sweepId}/best/model.json`));
    expect(predict.stdout.trim().split('\n')).toHaveLength(3);
    for (const r of [status, results, report, download, watch, predict]) noSdkNoise(r.stderr);
  });

  it('bucket-only commands still work when the demo\'s Redis is gone', async () => {
    // As when the demo started its own redis-server and stopped it: point local.json at a port nothing listens on.
    const file = join(dir, '.sweepq', 'local.json');
    const local = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...local, redisUrl: 'redis://127.0.0.1:1' }));
    for (const args of [['results', sweepId], ['report', sweepId, '--out', 'r.html'], ['download', sweepId, '--out', 'copy2'], ['watch', sweepId], ['predict', sweepId, 'goal']]) {
      const r = await sweepq(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).toContain(args[0] === 'predict' ? `sweeps/${sweepId}/` : sweepId);
    }
    await writeFile(file, JSON.stringify(local));
  });

  it('explicit settings win over local.json', async () => {
    const r = await run('main', ['results', sweepId], cleanEnv({ S3_ENDPOINT: 'http://127.0.0.1:1', S3_BUCKET: 'sweepq', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }));
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/demo's data/);
    expect(r.stderr).toMatch(/cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:1/);
  });

  it('prints its version', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'services', 'cli', 'package.json'), 'utf8')) as { version: string };
    const r = await sweepq('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe('a sweep that fails after it was accepted', () => {
  it('prints the sweep error and each failed trial\'s reason, links only to files that exist, and exits 1', async () => {
    // Accepted by validation, then every trial diverges in the worker.
    const spec = await writeSpec('diverge-e2e', ['  learning_rate: {value: 1.0e+30}', '  optimizer: {value: sgd}']);
    const r = await run('demo', ['--spec', spec, '--workers', '1'], cleanEnv({ SWEEPQ_QUEUE_PREFIX: prefix, REDIS_URL }));
    expect(r.status, r.stderr).toBe(1);
    const sweepId = sweepIdIn(r.stdout);
    expect(r.stdout).toMatch(new RegExp(`sweep ${sweepId}: failed in \\d+ s`));
    expect(r.stdout).toMatch(/ {2}error: no trial completed/);
    expect(r.stdout).toMatch(/1 failed trial\(s\):\n {4}t0000 \(attempt \d\): training diverged: .*try a lower learning_rate/);
    expect(r.stdout).not.toMatch(/best model:/);
    const copied = await readdir(join(dir, '.sweepq', 'results', sweepId));
    expect(copied).not.toContain('best');
    for (const [file, label] of [['report.html', 'report'], ['leaderboard.csv', 'leaderboard']] as const) {
      expect(r.stdout.includes(`  ${label}: `), label).toBe(copied.includes(file));
    }

    const watch = await sweepq('watch', sweepId);
    expect(watch.status).toBe(1);
    expect(watch.stdout).toMatch(/ {2}error: no trial completed/);
    expect(watch.stdout).toMatch(/t0000 \(attempt \d\): training diverged/);
  });
});
