// The published packages as a user gets them: `npm pack` of release/*, installed into an empty project outside the
// repository with `npm ci --offline`. The repository's `npm ci` leaves package tarballs in the npm cache but no registry
// metadata, so the project gets a lockfile made from the repository's own: the entries the packed packages reach,
// at the same paths (a layout Node resolved in the repository resolves the same way there), with their integrity.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const repoRoot = join(import.meta.dirname, '..', '..');

/** npm's own scripts: beside the `npm` on the PATH (a link to npm-cli.js), else the npm shipped with this Node. */
export function npmScript(which: 'npm' | 'npx'): string {
  let bin = join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin');
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'npm'))) {
      bin = dirname(realpathSync(join(dir, 'npm')));
      break;
    }
  }
  return join(bin, `${which}-cli.js`);
}

/** Run npm's script with this Node, so the project is installed and run with the Node the suite runs on. */
export async function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string; stderr: string }> {
  return exec(process.execPath, [npmScript('npm'), ...args], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
}

/** `npm pack` a package under release/ into `dest` (its prepack builds dist/); returns the tarball's path. */
export async function packRelease(name: 'sweepq' | 'sweepq-client', dest: string): Promise<string> {
  const { stdout } = await npm(['pack', '--pack-destination', dest, '--json'], join(repoRoot, 'release', name));
  // prepack's own output comes first; npm's JSON report is the last thing printed.
  const report = JSON.parse(stdout.slice(stdout.lastIndexOf('\n[') + 1)) as { filename: string }[];
  return join(dest, report[0]!.filename);
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [k: string]: unknown;
}

interface Lockfile {
  packages: Record<string, LockEntry>;
}

/**
 * Write package.json and package-lock.json for a project depending on `tarballs` (packed sweepq packages) and
 * `registryDeps` (names installed in the repository, e.g. typescript). Throws when something a package needs is not in
 * the repository's lockfile at a version its range accepts.
 */
export async function writeOfflineProject(dir: string, tarballs: string[], registryDeps: string[]): Promise<void> {
  const repoLock = JSON.parse(await readFile(join(repoRoot, 'package-lock.json'), 'utf8')) as Lockfile;
  const packages: Record<string, LockEntry> = {};
  const rootDeps: Record<string, string> = {};
  const packed = new Map<string, LockEntry>();
  for (const file of tarballs) {
    const { stdout } = await exec('tar', ['-xOzf', file, 'package/package.json'], { encoding: 'utf8' });
    const manifest = JSON.parse(stdout) as { name: string; version: string; dependencies?: Record<string, string>; bin?: Record<string, string>; engines?: Record<string, string> };
    const integrity = `sha512-${createHash('sha512').update(await readFile(file)).digest('base64')}`;
    rootDeps[manifest.name] = `file:${file}`;
    packed.set(manifest.name, {
      version: manifest.version,
      resolved: `file:${file}`,
      integrity,
      license: 'Apache-2.0',
      ...(manifest.dependencies ? { dependencies: manifest.dependencies } : {}),
      ...(manifest.bin ? { bin: manifest.bin } : {}),
      ...(manifest.engines ? { engines: manifest.engines } : {}),
    });
  }
  for (const name of registryDeps) rootDeps[name] = repoLock.packages[`node_modules/${name}`]?.version ?? '*';

  /**
   * Whether `version` is in `range`, for the ranges the published package.json files use (`^x.y.z`, `x.y.z`, `*`).
   * Deeper in the tree the repository's layout is trusted: Node found those entries from the same paths.
   */
  const accepts = (version: string, range: string): boolean => {
    const v = version.split(/[.+-]/).slice(0, 3).map(Number);
    const m = /^(\^)?(\d+)\.(\d+)\.(\d+)$/.exec(range);
    if (range === '*' || range === '') return true;
    if (!m) throw new Error(`unsupported range "${range}" in a published package.json: use ^x.y.z or x.y.z`);
    const r = [Number(m[2]), Number(m[3]), Number(m[4])];
    if (!m[1]) return v.join('.') === r.join('.');
    const cmp = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
    const sameLine = r[0]! > 0 ? v[0] === r[0] : r[1]! > 0 ? v[0] === 0 && v[1] === r[1] : cmp(v, r) === 0;
    return sameLine && cmp(v, r) >= 0;
  };
  // Node's lookup from a package at `from`: its own node_modules, then each enclosing one, then the top level.
  const find = (from: string, name: string, range: string, check = from === ''): string | undefined => {
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
      const key = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      const hit = repoLock.packages[key];
      if (hit && !hit.link && (!check || accepts(hit.version ?? '0.0.0', range))) return key;
      if (!base) return undefined;
    }
  };
  // A package the repository installed under one workspace only (its top-level slot holds another version) moves to the
  // project's top level: the workspace's node_modules is laid out like a top level, so its subtree moves as it is.
  const workspaces = [...new Set(Object.keys(repoLock.packages).map((k) => /^((?:packages|services)\/[^/]+)\/node_modules\//.exec(k)?.[1]).filter((w): w is string => !!w))];
  const placeOf = (key: string) => key.replace(/^(?:packages|services)\/[^/]+\//, '');
  const findAnywhere = (from: string, name: string, range: string) =>
    find(from, name, range) ?? (from === '' ? workspaces.map((w) => find(w, name, range, true)).find((k) => k !== undefined && k.startsWith(`${w0(k)}/node_modules/`)) : undefined);
  const w0 = (k: string) => k.split('/node_modules/')[0]!;
  const queue: [string, LockEntry, string][] = [];
  const placedFrom = new Map<string, string>();
  const add = (key: string, entry: LockEntry, requirer = '') => {
    let place = placeOf(key);
    const earlier = placedFrom.get(place);
    if (earlier === key) return;
    if (earlier !== undefined) {
      // Another version holds the slot: nest this one under the package that needs it.
      if (!requirer) throw new Error(`two versions want ${place}: ${earlier} and ${key} in ${repoRoot}/package-lock.json`);
      place = `${requirer}/node_modules/${key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)}`;
      if (placedFrom.get(place) === key) return;
    }
    placedFrom.set(place, key);
    // The repository's flags say what is dev-only there; here everything installed is a dependency of the project.
    const { dev: _dev, devOptional: _devOptional, peer: _peer, extraneous: _extraneous, ...kept } = entry;
    packages[place] = kept;
    queue.push([key, entry, place]);
  };
  for (const [name, entry] of packed) add(`node_modules/${name}`, entry);
  for (const name of registryDeps) {
    const key = find('', name, '*');
    if (!key) throw new Error(`${name} is not in ${repoRoot}/package-lock.json`);
    add(key, repoLock.packages[key]!);
  }
  while (queue.length > 0) {
    const [key, entry, place] = queue.shift()!;
    const from = packed.has(key.slice('node_modules/'.length)) ? '' : key;
    const needs = { ...entry.dependencies, ...entry.optionalDependencies };
    for (const [peer, range] of Object.entries(entry.peerDependencies ?? {})) if (!entry.peerDependenciesMeta?.[peer]?.optional) needs[peer] = range;
    for (const [name, range] of Object.entries(needs)) {
      if (packed.has(name)) continue;
      const hit = findAnywhere(from, name, range);
      if (hit) add(hit, repoLock.packages[hit]!, place);
      else if (!entry.optionalDependencies?.[name]) throw new Error(`${key} needs ${name}@${range}, which ${repoRoot}/package-lock.json does not have`);
    }
  }
  const pkg = { name: 'sweepq-user-project', version: '1.0.0', private: true, type: 'module', dependencies: rootDeps };
  packages[''] = { name: pkg.name, version: pkg.version, dependencies: rootDeps };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  await writeFile(join(dir, 'package-lock.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
}
