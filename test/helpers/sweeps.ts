import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SweepRecord } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { loadCliEnv, openContext, readSpecFile, submitSweep } from '@sweepq/cli';
import { waitFor, writeToyCsv, type TestWorld } from './env.js';

/** Upload a toy CSV of `rows` rows to the world's bucket and return its s3:// URI. */
export async function uploadToyDataset(world: TestWorld, rows: number, name = 'toy.csv'): Promise<string> {
  const csv = join(world.dir, name);
  await writeToyCsv(csv, rows);
  await world.store.put(`inputs/${name}`, await readFile(csv), 'text/csv');
  return `s3://${world.store.bucket}/inputs/${name}`;
}

/**
 * Write a spec file built from YAML lines and submit it through the CLI's code path. `checkDataset: false` skips
 * the CLI's dataset check, so a test can reach the coordinator's own check with a bad dataset.
 */
export async function submitYaml(world: TestWorld, lines: string[], id?: string, opts: { checkDataset?: boolean } = {}): Promise<string> {
  const path = join(world.dir, `spec-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, `${lines.join('\n')}\n`);
  const ctx = await openContext(loadCliEnv(world.env));
  try {
    const { text, spec } = await readSpecFile(path);
    return await submitSweep(ctx, text, spec, { ...(id ? { id } : {}), ...opts });
  } finally {
    await ctx.close();
  }
}

/** Wait until sweep.json reaches a final state. */
export function waitForSweep(world: TestWorld, sweepId: string, timeoutMs = 300_000): Promise<SweepRecord> {
  return waitFor(
    `sweep ${sweepId} to finish`,
    async () => {
      const r = await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
      return r && ['completed', 'failed', 'cancelled'].includes(r.state) ? r : undefined;
    },
    timeoutMs,
  );
}
