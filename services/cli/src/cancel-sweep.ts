import { finalizeSweep, plannedFromBucket } from '@sweepq/lifecycle';
import { sweepObjectives, type SweepState } from '@sweepq/results';
import type { CliContext } from './context.js';

/**
 * Cancel a sweep that is not finished: workers stop its running trials within about a second and its queued
 * trials are removed. Its coordinator writes the leaderboard of what finished; a sweep no coordinator follows
 * (never started, its coordinator gone, or Redis lost it) is finished here, from the bucket.
 */
export async function cancelSweep(ctx: CliContext, sweepId: string): Promise<{ removed: number; state: SweepState | 'cancelling' }> {
  return ctx.lifecycle.cancel(sweepId, async (doc) => {
    const planned = await plannedFromBucket(ctx.store, doc.record);
    const { objectives, best } = sweepObjectives(doc.record);
    await finalizeSweep({
      store: ctx.store,
      trials: ctx.trialLifecycle,
      doc,
      metric: doc.record.metric ?? { name: 'val_accuracy', goal: 'maximize' },
      ...(objectives ? { objectives } : {}),
      ...(best ? { bestRule: best } : {}),
      planned,
      cancelled: true,
    });
  });
}
