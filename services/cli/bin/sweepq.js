#!/usr/bin/env node
// Launcher: run the built CLI when present, else the TypeScript source through tsx (development checkouts).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, '..', 'dist', 'main.js');
if (existsSync(built) && !process.env.SWEEPQ_FROM_SOURCE) {
  const { run } = await import(built);
  process.exit(await run(process.argv.slice(2)));
} else {
  const src = join(here, '..', 'src', 'main.ts');
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', src, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}
