// sweepq as a user installs it (issue 23): the published packages packed with `npm pack`, installed into empty projects
// outside the repository from the npm cache alone, then used with plain node: `npx sweepq --version`, the README's
// client example compiled with `tsc --strict --module nodenext` and run against a worker and a coordinator started
// with `npx sweepq worker` / `npx sweepq coordinator`, and the size of a client-only install.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
