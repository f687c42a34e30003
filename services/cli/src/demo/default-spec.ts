import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** File name of the demo's default spec: `examples/quick-sweep.yaml` in the repository. */
export const DEFAULT_DEMO_SPEC = 'quick-sweep.yaml';

/**
 * Path of the spec `sweepq demo` runs without `--spec`. The published package carries a copy beside its bundle
 * (release/build.js puts it in dist/), so an installed project needs no checkout; a checkout reads the repository's
 * examples/ (from services/cli/src/demo or services/cli/dist/demo, four folders down).
 */
export function defaultDemoSpecPath(): string {
  const candidates = [new URL(`./${DEFAULT_DEMO_SPEC}`, import.meta.url), new URL(`../../../../examples/${DEFAULT_DEMO_SPEC}`, import.meta.url)].map((u) => fileURLToPath(u));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`the demo's default spec ${DEFAULT_DEMO_SPEC} is missing (looked in ${candidates.join(' and ')}); pass --spec FILE`);
  return found;
}
