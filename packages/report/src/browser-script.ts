import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Esbuild from 'esbuild';

/** The pages' scripts: browser code in `browser/<name>.ts`. */
export type BrowserScriptName = 'report-page' | 'sweep-index';

const scripts = new Map<BrowserScriptName, string>();

/**
 * A page's own script, written as TypeScript in `browser/<name>.ts` (type-checked against the DOM by that folder's
 * tsconfig, without Node's types). Built, it is the JavaScript that `tsc -b` emits beside this module
 * (`dist/browser/<name>.js`; the release build writes the same files beside its bundle). From sources (the
 * repository's dev loop and tests, `--conditions=source`) esbuild, a devDependency, strips the types here, so no build
 * step is needed; Node's own `stripTypeScriptTypes` is not used because it prints an experimental-feature warning in
 * every process that calls it and is missing before Node 22.13. Read once per process.
 */
export function browserScript(name: BrowserScriptName): string {
  let script = scripts.get(name);
  if (script === undefined) scripts.set(name, (script = loadBrowserScript(name)));
  return script;
}

function loadBrowserScript(name: BrowserScriptName): string {
  const built = new URL(`./browser/${name}.js`, import.meta.url);
  if (existsSync(built)) return readFileSync(built, 'utf8');
  const source = new URL(`./browser/${name}.ts`, import.meta.url);
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
  return esbuild.transformSync(readFileSync(source, 'utf8'), { loader: 'ts', target: 'es2019', sourcefile: `${name}.ts` }).code;
}
