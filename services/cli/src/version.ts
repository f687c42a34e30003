import { readFileSync } from 'node:fs';

/**
 * The CLI's version: the version field of its package.json. This module sits directly in src/ (dist/ when built, and
 * beside the published bundle's chunks), so the file is one folder up in each layout.
 */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}
