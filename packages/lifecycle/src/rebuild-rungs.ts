import type { Redis } from 'ioredis';
import { redisKeys } from '@sweepq/queue';
import { RungStore } from './rung-store.js';
import type { SweepSpec } from '@sweepq/sweep-config';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { trialFiles } from './records.js';

/**
 * Early-termination state after Redis lost it: every trial's `metrics.jsonl` is replayed into the rung store, trial
 * by trial in index order and epoch by epoch, so later rung decisions compare against every value reported before
 * the loss. Does nothing when the rung store still has keys or the sweep has no `early_terminate`. Returns the number
 * of trials replayed.
 */
export async function rebuildRungs(opts: {
  store: ArtifactStore;
  redis: Redis;
  prefix: string;
  sweepId: string;
  spec: Pick<SweepSpec, 'early_terminate' | 'metric' | 'parameters'>;
}): Promise<number> {
  const { store, sweepId, spec } = opts;
  if (!spec.early_terminate) return 0;
  if ((await opts.redis.exists(redisKeys(opts.prefix).rungIndex(sweepId))) === 1) return 0;
  const rungs = new RungStore(opts.redis, opts.prefix, sweepId);
  const trialIds = [...(await trialFiles(store, sweepId))]
    .filter(([, files]) => files.has('metrics.jsonl'))
    .map(([trialId]) => trialId)
    .sort();
  let replayed = 0;
  for (const trialId of trialIds) {
    const text = await store.getText(layout.metrics(sweepId, trialId));
    if (!text) continue;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      const epoch = row['epoch'];
      const value = row[spec.metric.name];
      if (typeof epoch === 'number' && typeof value === 'number' && Number.isFinite(value)) await rungs.report(trialId, epoch, value, spec);
    }
    replayed += 1;
  }
  return replayed;
}
