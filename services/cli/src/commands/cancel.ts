import { redisKeys } from '@sweepq/queue';
import { SweepState, isFinalSweepState } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import type { CliContext } from '../context.js';
import { readSweep } from './inspect.js';

/**
 * Cancel a sweep: set the flag every worker and the coordinator watch (running trials stop within about
 * a second), and remove its trials that have not started. The coordinator then writes the leaderboard of
 * what finished and marks the sweep cancelled.
 */
export async function cancelSweep(ctx: CliContext, sweepId: string): Promise<{ removed: number; state: string }> {
  const sweep = await readSweep(ctx, sweepId);
  if (isFinalSweepState(sweep.state)) return { removed: 0, state: sweep.state };
  const keys = redisKeys(ctx.env.SWEEPQ_QUEUE_PREFIX);
  await ctx.redis.set(keys.cancelled(sweepId), new Date().toISOString(), 'EX', 30 * 24 * 3600);
  let removed = 0;
  const pending = await ctx.trials.getJobs(['waiting', 'delayed', 'prioritized'], 0, -1);
  for (const job of pending) {
    if ((job.data as { sweepId?: string } | undefined)?.sweepId !== sweepId) continue;
    await job.remove().then(
      () => (removed += 1),
      () => undefined, // taken by a worker meanwhile: it sees the flag
    );
  }
  // A sweep no coordinator has started yet is cancelled here and now; one that started (even if it is
  // waiting for another coordinator after a hand-off) is finalized by its coordinator.
  const sweepJob = await ctx.sweeps.getJob(sweepId);
  const jobState = sweepJob ? await sweepJob.getState() : 'unknown';
  if (sweepJob && sweep.state === SweepState.Queued && (jobState === 'waiting' || jobState === 'delayed' || jobState === 'prioritized')) {
    await sweepJob.remove().catch(() => undefined);
    const now = new Date().toISOString();
    await ctx.store.putJson(layout.sweepJson(sweepId), { ...sweep, state: SweepState.Cancelled, finishedAt: now, updatedAt: now });
    return { removed, state: SweepState.Cancelled };
  }
  return { removed, state: 'cancelling' };
}
