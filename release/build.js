#!/usr/bin/env node
// Build a published package's dist/ from the workspace sources (run by `prepack`, see docs/install.md).
// The private @sweepq/* workspaces are bundled in; every third-party import stays external and must be declared in
// the published package.json, which this script checks against esbuild's metafile so a tarball cannot miss a
// dependency (or ship one it never imports).
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const inRepoSources = (path) => !path.split(sep).includes('node_modules') && path.startsWith(repo + sep);

/** What each published package is built from. */
const targets = {
  'sweepq-client': {
    entries: { index: 'services/cli/src/client/index.ts' },
    // The client is a few modules of big workspaces: treat sweepq's own files as side-effect free so only what the
    // client reaches is bundled (and with it only the third-party imports it needs: no TensorFlow, echarts, s3rver).
    treeShakeSources: true,
    types: 'services/cli/dist/client/index.d.ts',
    // Small enough bundled (the parts used) and big installed (zod 8 MB): inlined to keep the install under 40 MB.
    inline: ['zod', 'yaml'],
    // Minified without source maps, for the same 40 MB; names kept (errors report their class name).
    minify: true,
  },
  sweepq: {
    entries: { cli: 'services/cli/src/index.ts' },
    treeShakeSources: false,
    // Resolved by name at run time rather than imported: the report's chart library, pino's pretty transport.
    resolvedByName: ['echarts', 'pino-pretty'],
    // The package's import surface is the client's: `import { SweepqClient } from 'sweepq'` works as from sweepq-client.
    reexport: 'sweepq-client',
    // Browser scripts read at run time from beside the bundle (new URL('./browser/…', import.meta.url)): the report
    // pages' scripts, compiled from their TypeScript (packages/report/src/browser-script.ts).
    browserScripts: {
      'browser/report-page.js': 'packages/report/src/browser/report-page.ts',
      'browser/sweep-index.js': 'packages/report/src/browser/sweep-index.ts',
    },
    // Files read at run time from beside the bundle, copied as they are: `sweepq demo`'s default spec
    // (services/cli/src/demo/default-spec.ts), so an installed project needs no checkout's examples/.
    files: { 'quick-sweep.yaml': 'examples/quick-sweep.yaml' },
  },
};

const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const isBuiltin = (spec) => spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]);

/** Bundle @sweepq/* and relative imports; leave packages from node_modules external. */
const workspacePlugin = (treeShake, inline) => ({
  name: 'sweepq-workspaces',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.inner) return undefined;
      const bare = !args.path.startsWith('.') && !args.path.startsWith('/');
      if (bare && !args.path.startsWith('@sweepq/') && !inline.includes(packageName(args.path))) return { path: args.path, external: true };
      const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
      if (r.errors.length > 0) return { errors: r.errors };
      return treeShake && inRepoSources(r.path) ? { ...r, sideEffects: false } : r;
    });
  },
});

async function build(name) {
  const target = targets[name];
  if (!target) throw new Error(`unknown package ${name}; one of ${Object.keys(targets).join(', ')}`);
  const pkgDir = join(here, name);
  const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'));
  const out = join(pkgDir, 'dist');
  // The repository's licence travels in each tarball (npm packs a LICENSE beside package.json); copied, not tracked.
  if (existsSync(join(repo, 'LICENSE'))) await copyFile(join(repo, 'LICENSE'), join(pkgDir, 'LICENSE'));
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: repo,
    entryPoints: Object.fromEntries(Object.entries(target.entries).map(([k, v]) => [k, join(repo, v)])),
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    conditions: ['source'],
    // Chunks beside the entries: the CLI reads ../package.json relative to its own module for --version.
    chunkNames: '[name]-[hash]',
    sourcemap: !target.minify,
    minify: Boolean(target.minify),
    keepNames: true,
    // Bundled CommonJS (yaml's node build) calls require() for Node's built-ins: give the ES module one.
    banner: target.inline ? { js: "import { createRequire as __sweepqCreateRequire } from 'node:module';\nconst require = __sweepqCreateRequire(import.meta.url);" } : {},
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [workspacePlugin(target.treeShakeSources, target.inline ?? [])],
  });
  for (const [file, source] of Object.entries(target.browserScripts ?? {})) {
    await esbuild.build({ entryPoints: [join(repo, source)], outfile: join(out, file), bundle: false, target: 'es2019', logLevel: 'warning' });
  }
  for (const [file, source] of Object.entries(target.files ?? {})) await copyFile(join(repo, source), join(out, file));
  // Every third-party package the bundle imports must be a declared dependency, and every dependency imported.
  const imported = new Set();
  for (const file of Object.values(result.metafile.outputs)) {
    for (const imp of file.imports) if (imp.external && !isBuiltin(imp.path)) imported.add(packageName(imp.path));
  }
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]);
  for (const p of target.resolvedByName ?? []) imported.add(p);
  if (target.reexport) {
    imported.add(target.reexport);
    const line = `export * from '${target.reexport}';\n`;
    await writeFile(join(out, 'index.js'), line);
    await writeFile(join(out, 'index.d.ts'), line);
  }
  const missing = [...imported].filter((p) => !declared.has(p)).sort();
  const unused = [...declared].filter((p) => !imported.has(p)).sort();
  if (missing.length > 0 || unused.length > 0) {
    throw new Error(
      `${name}/package.json does not match what the bundle imports:` +
        (missing.length ? `\n  imported but not declared: ${missing.join(', ')} (add them to "dependencies" with the workspaces' ranges)` : '') +
        (unused.length ? `\n  declared but never imported: ${unused.join(', ')} (remove them)` : ''),
    );
  }
  // Same ranges as the workspaces the code comes from, so the published package gets the versions the suite ran with.
  const ranges = await workspaceRanges();
  const drift = Object.entries(pkg.dependencies ?? {}).filter(([p, r]) => ranges.has(p) && !ranges.get(p).has(r));
  if (drift.length > 0) {
    throw new Error(`${name}/package.json: ${drift.map(([p, r]) => `${p} ${r} (workspaces use ${[...ranges.get(p)].join(' or ')})`).join(', ')}`);
  }
  if (target.types) {
    execFileSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: repo, stdio: 'inherit' });
    const { generateDtsBundle } = await import('dts-bundle-generator');
    // From the declarations `tsc -b` wrote to each workspace's dist/ (run first), resolved without the "source"
    // condition: the bundler then only reads .d.ts files and inlines the @sweepq/* types the public API uses.
    const [dts] = generateDtsBundle(
      [{ filePath: join(repo, target.types), libraries: { inlinedLibraries: readWorkspaceNames() }, output: { noBanner: true, exportReferencedTypes: false } }],
      { preferredConfigPath: join(here, 'tsconfig.dts.json') },
    );
    await writeFile(join(out, 'index.d.ts'), dts);
  }
  if (process.env.SWEEPQ_BUILD_META) await writeFile(process.env.SWEEPQ_BUILD_META, JSON.stringify(result.metafile));
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`${name}: ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1024).toFixed(0)} KiB in ${relative(repo, out)}; imports ${[...imported].sort().join(', ')}`);
}

/** Every third-party dependency range the workspaces declare, by package. */
async function workspaceRanges() {
  const out = new Map();
  for (const dir of readWorkspaceNames().map((n) => n.slice('@sweepq/'.length))) {
    const where = ['cli', 'worker', 'coordinator'].includes(dir) ? 'services' : 'packages';
    const ws = JSON.parse(await readFile(join(repo, where, dir, 'package.json'), 'utf8'));
    for (const [p, r] of Object.entries(ws.dependencies ?? {})) if (!p.startsWith('@sweepq/')) out.set(p, (out.get(p) ?? new Set()).add(r));
  }
  return out;
}

function readWorkspaceNames() {
  return ['runtime', 'sweep-config', 'data', 'kernels', 'model', 'storage', 'queue', 'results', 'search', 'report', 'lifecycle', 'cli', 'worker', 'coordinator'].map((n) => `@sweepq/${n}`);
}

const names = process.argv.slice(2);
if (names.length === 0) throw new Error(`usage: node release/build.js <${Object.keys(targets).join('|')}>...`);
for (const n of names) await build(n);
