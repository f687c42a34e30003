import { join } from 'node:path';
import type { PreparedSplit } from '@sweepq/data';
import type { SweepRecord } from '@sweepq/results';
import { createLogger } from '@sweepq/runtime';
import { DatasetCache } from '@sweepq/worker';
import type { TestWorld } from './env.js';

/** The sweep's test split as workers read it: its shards from the bucket, each verified (no whole prepared file is stored). */
export async function testSplit(world: TestWorld, record: SweepRecord): Promise<PreparedSplit> {
  const cache = new DatasetCache({ dir: join(world.dir, 'test-dataset-cache'), store: world.store, logger: createLogger({ name: 'test', level: 'silent' }) });
  return (await cache.open(record.dataset!.hash)).readSplit('test');
}
