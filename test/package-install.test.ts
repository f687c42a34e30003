// sweepq as a user installs it (issue 23): the published packages packed with `npm pack`, installed into empty projects
// outside the repository from the npm cache alone, then used with plain node: `npx sweepq --version`, the README's
// client example compiled with `tsc --strict --module nodenext` and run against a worker and a coordinator started
// with `npx sweepq worker` / `npx sweepq coordinator`, `npx sweepq demo` and a later command reading its sweep, and the
// size of a client-only install.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectProducer } from '@sweepq/queue';
import { createWorld, type TestWorld } from './helpers/env.js';
import { npm, npmScript, packRelease, repoRoot, writeOfflineProject } from './helpers/packed.js';

const exec = promisify(execFile);
/** The size target of a client-only install (issue 23), in bytes as `du` counts them. */
const CLIENT_INSTALL_LIMIT = 40_000_000;

let base: string;
/** sweepq-client alone: what a script that only submits and reads installs. */
let clientProject: string;
/** sweepq (CLI, worker, coordinator) with sweepq-client, and typescript to compile the example. */
let fullProject: string;
let world: TestWorld;
const services: ChildProcess[] = [];
/**
 * The demo's own queue prefix: the world's coordinator and worker (started by the client example's case) take jobs
 * under the world's prefix and would pick up the demo's sweep, whose bucket they cannot reach.
 */
const demoPrefix = `{sweepq-test-${randomBytes(4).toString('hex')}}`;

/** The environment of a fresh shell plus `extra`: no sweepq, S3, AWS or Redis setting leaks in from the suite's. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // npm's own variables (set under `npm test`) go too, except the cache the repository was installed from.
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && (k === 'npm_config_cache' || !/^(S3_|AWS_|REDIS_|SWEEPQ_|npm_|NODE_OPTIONS$|VITEST)/.test(k))) env[k] = v;
  }
  // This Node first on the PATH: the bins' `#!/usr/bin/env node` and npx run with the Node the suite runs on.
  return { ...env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...extra };
}


async function du(dir: string): Promise<{ disk: number; apparent: number }> {
  const disk = Number((await exec('du', ['-sk', dir])).stdout.split('\t')[0]) * 1024;
  const apparent = Number((await exec('du', ['-sb', '--apparent-size', dir])).stdout.split('\t')[0]);
  return { disk, apparent };
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'sweepq-user-'));
  const packs = join(base, 'packs');
  clientProject = join(base, 'client-project');
  fullProject = join(base, 'full-project');
  await Promise.all([mkdir(packs), mkdir(clientProject), mkdir(fullProject)]);
  // Packed once for every case (prepack builds dist/ from the workspaces).
  const client = await packRelease('sweepq-client', packs);
  const full = await packRelease('sweepq', packs);
  await writeOfflineProject(clientProject, [client], []);
  await writeOfflineProject(fullProject, [client, full], ['typescript', '@types/node']);
  for (const dir of [clientProject, fullProject]) await npm(['ci', '--offline', '--no-audit', '--no-fund'], dir, userEnv());
  world = await createWorld('sweepq-user');
}, 900_000);

afterAll(async () => {
  for (const child of services) {
    if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
  }
  await Promise.all(services.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await world?.cleanup();
  const redis = await connectProducer(world?.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  try {
    const keys = await redis.keys(`${demoPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
  if (base) await rm(base, { recursive: true, force: true });
});

describe('the published packages installed into a new project', () => {
  it('npx sweepq --version prints the version of the sweepq package, with no tsx installed', async () => {
    const { stdout } = await exec(process.execPath, [npmScript('npx'), 'sweepq', '--version'], { cwd: fullProject, env: userEnv(), encoding: 'utf8' });
    const pkg = JSON.parse(await readFile(join(repoRoot, 'release', 'sweepq', 'package.json'), 'utf8')) as { version: string };
    expect(stdout.trim()).toBe(pkg.version);
    await expect(readdir(join(fullProject, 'node_modules', 'tsx'))).rejects.toThrow();
  });

  it('a client-only install stays under 40 MB, without TensorFlow, echarts or s3rver', async () => {
    const size = await du(join(clientProject, 'node_modules'));
    console.log(`sweepq-client install: ${(size.disk / 1e6).toFixed(1)} MB on disk, ${(size.apparent / 1e6).toFixed(1)} MB of files`);
    expect(size.disk).toBeLessThan(CLIENT_INSTALL_LIMIT);
    const installed = await readdir(join(clientProject, 'node_modules'));
    for (const heavy of ['@tensorflow', 'echarts', 's3rver', '@stdlib', 'tsx']) expect(installed).not.toContain(heavy);
  });

  it("the README's client example, compiled with tsc --strict and run with node, trains a sweep on npx sweepq worker and coordinator", async () => {
    // The README shows this file as it is.
    const example = await readFile(join(repoRoot, 'examples', 'client', 'submit.ts'), 'utf8');
    expect(await readFile(join(repoRoot, 'README.md'), 'utf8')).toContain(`\`\`\`ts\n${example}\`\`\``);
    // Compiled where typescript is installed; run in the client-only project, so it works with sweepq-client alone.
    await copyFile(join(repoRoot, 'examples', 'client', 'submit.ts'), join(fullProject, 'submit.ts'));
    const tsc = join(fullProject, 'node_modules', 'typescript', 'bin', 'tsc');
    await exec(process.execPath, [tsc, '--strict', '--module', 'nodenext', '--target', 'es2022', '--types', 'node', '--outDir', 'out', 'submit.ts'], { cwd: fullProject, env: userEnv(), encoding: 'utf8' }).catch(
      (err: { stdout?: string }) => {
        throw new Error(`tsc failed:\n${err.stdout ?? String(err)}`);
      },
    );
    await copyFile(join(fullProject, 'out', 'submit.js'), join(clientProject, 'submit.js'));

    const env = userEnv({ ...world.env, METRICS_PORT: '-1' });
    const npx = npmScript('npx');
    for (const service of ['coordinator', 'worker'] as const) {
      const log = createWriteStream(join(world.dir, `${service}.log`));
      // Own process group, so the test stops npx and the service it started together.
      const child = spawn(process.execPath, [npx, 'sweepq', service], { cwd: fullProject, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.pipe(log);
      child.stderr.pipe(log);
      services.push(child);
    }
    const run = await exec(process.execPath, ['submit.js'], { cwd: clientProject, env: userEnv(world.env), encoding: 'utf8', timeout: 480_000 }).catch(
      async (err: { stdout?: string; stderr?: string }) => {
        const logs = await Promise.all(['coordinator', 'worker'].map(async (s) => `--- ${s}\n${(await readFile(join(world.dir, `${s}.log`), 'utf8')).slice(-3000)}`));
        throw new Error(`the example failed:\n${err.stdout ?? ''}\n${err.stderr ?? String(err)}\n${logs.join('\n')}`);
      },
    );
    console.log(run.stdout);
    expect(run.stdout).toMatch(/^submitted client-example-\S+; files in s3:\/\/sweepq-user\/sweeps\//m);
    expect(run.stdout).toMatch(/^sweep completed$/m);
    expect(run.stdout).toMatch(/^1 t000[01] completed val_accuracy=0\.\d+ lstm_units=(4|8)$/m);
    expect(run.stdout).toMatch(/^2 t000[01] completed val_accuracy=0\.\d+ lstm_units=(4|8)$/m);
    expect(run.stdout).toMatch(/^best model: s3:\/\/sweepq-user\/sweeps\/client-example-\S+\/best\/ \(trial t000[01], classes ham\/spam\)$/m);
  });

  it('npx sweepq demo runs a sweep in the installed project, and npx sweepq results reads it from the same folder', async () => {
    const npx = npmScript('npx');
    // One trial of one epoch on the built-in dataset: the demo's whole path (Redis, embedded S3, coordinator, worker).
    const spec = [
      'name: installed-demo',
      'method: grid',
      'metric: {name: val_accuracy, goal: maximize}',
      'parameters:',
      '  lstm_units: {value: 4}',
      '  embedding_dim: {value: 8}',
      '  max_words: {value: 500}',
      '  max_len: {value: 32}',
      '  batch_size: {value: 32}',
      '  learning_rate: {value: 0.01}',
      '  epochs: {value: 1}',
      'dataset: {uri: "builtin:spam-assassin", validation_split: 0.2, test_split: 0.1, seed: 42}',
      '',
    ].join('\n');
    await writeFile(join(fullProject, 'demo-sweep.yaml'), spec);
    const env = userEnv({ REDIS_URL: world.env.REDIS_URL!, SWEEPQ_QUEUE_PREFIX: demoPrefix, SWEEPQ_CACHE_DIR: join(world.dir, 'demo-cache') });
    const demo = await exec(process.execPath, [npx, 'sweepq', 'demo', '--spec', 'demo-sweep.yaml', '--workers', '1'], { cwd: fullProject, env, encoding: 'utf8', timeout: 480_000 }).catch(
      async (err: { stdout?: string; stderr?: string }) => {
        const logs = await readdir(join(fullProject, '.sweepq', 'logs')).catch(() => [] as string[]);
        const tails = await Promise.all(logs.map(async (f) => `--- ${f}\n${(await readFile(join(fullProject, '.sweepq', 'logs', f), 'utf8')).slice(-3000)}`));
        throw new Error(`npx sweepq demo failed:\n${err.stdout ?? ''}\n${err.stderr ?? String(err)}\n${tails.join('\n')}`);
      },
    );
    console.log(demo.stdout);
    const sweepId = /submitted sweep (\S+)/.exec(demo.stdout)?.[1] ?? '';
    expect(sweepId).toMatch(/^installed-demo-/);
    expect(demo.stdout).toMatch(new RegExp(`sweep ${sweepId}: completed in \\d+ s`));
    expect(demo.stdout).toMatch(/^1 {2}t0000 {2}completed/m);
    expect(await readdir(join(fullProject, '.sweepq', 'results', sweepId))).toEqual(expect.arrayContaining(['leaderboard.csv', 'report.html', 'best']));

    // Nothing set but what a fresh shell has: the command finds the sweep through .sweepq/local.json.
    const results = await exec(process.execPath, [npx, 'sweepq', 'results', sweepId], { cwd: fullProject, env: userEnv(), encoding: 'utf8' });
    expect(results.stdout).toMatch(new RegExp(`^${sweepId}: completed\\n#  trial`));
    expect(results.stdout).toMatch(/^1 {2}t0000 {2}completed/m);
    expect(results.stderr).toMatch(/reading the demo's data in \.sweepq\/s3 \(from \.sweepq\/local\.json/);
  });

  it('npx sweepq demo without --spec runs the built-in quick sweep, which the package carries', async () => {
    // A Redis that cannot answer (and is not local, so no redis-server is started) stops the demo once the spec is read.
    const env = userEnv({ REDIS_URL: 'redis://sweepq-no-redis.invalid:6379' });
    const r = await exec(process.execPath, [npmScript('npx'), 'sweepq', 'demo', '--workers', '1'], { cwd: fullProject, env, encoding: 'utf8' }).then(
      (ok) => ({ code: 0, ...ok }),
      (err: { code?: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    );
    expect(r.stdout).toMatch(/^sweepq demo: quick-spam \(grid\) with 1 worker process\(es\)$/m);
    expect(r.stderr).toMatch(/Redis does not answer at redis:\/\/sweepq-no-redis\.invalid:6379/);
    expect(r.code).toBe(1);
  });
});
