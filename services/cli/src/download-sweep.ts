import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { layout } from '@sweepq/storage';
import type { BucketContext } from './context.js';

/** Copy everything under `sweeps/<id>/` to a local folder; returns the number of files. */
export async function downloadSweep(ctx: BucketContext, sweepId: string, outDir: string): Promise<number> {
  const prefix = layout.sweepPrefix(sweepId);
  const keys = await ctx.store.list(prefix);
  const root = resolve(outDir);
  for (const key of keys) {
    const target = resolve(join(root, key.slice(prefix.length)));
    // Keys come from our own layout, but never write outside the target folder.
    if (!target.startsWith(root)) continue;
    const body = await ctx.store.getRequired(key);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, body);
  }
  return keys.length;
}
