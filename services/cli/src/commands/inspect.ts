import { trialProgressSchema, type TrialProgress } from '@sweepq/queue';
import { buildLeaderboard, type Leaderboard, type SweepRecord, type TrialResult } from '@sweepq/results';
import { assertSafeId, layout } from '@sweepq/storage';
import { CliError, ExitCode } from '../exit-codes.js';
import type { BucketContext, CliContext } from '../context.js';

/** sweep.json, or a clear error when the sweep does not exist. */
export async function readSweep(ctx: BucketContext, sweepId: string): Promise<SweepRecord> {
  try {
    assertSafeId(sweepId, 'sweep id');
  } catch (err) {
    throw new CliError((err as Error).message, ExitCode.Usage);
  }
  const record = await ctx.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
  if (!record) throw new CliError(`no sweep "${sweepId}" in ${ctx.store.uri('sweeps/')}`, ExitCode.Failure);
  return record;
}

/** Progress of this sweep's running trials, from BullMQ. */
export async function runningTrials(ctx: CliContext, sweepId: string): Promise<TrialProgress[]> {
  const active = await ctx.trials.getJobs(['active'], 0, 1000);
  const out: TrialProgress[] = [];
  for (const job of active) {
    if ((job.data as { sweepId?: string } | undefined)?.sweepId !== sweepId) continue;
    const p = trialProgressSchema.safeParse(job.progress);
    const data = job.data as { trialId: string; params: { epochs: number } };
    out.push(p.success ? p.data : { sweepId, trialId: data.trialId, epoch: 0, epochs: data.params.epochs });
  }
  return out.sort((a, b) => a.trialId.localeCompare(b.trialId));
}

/** The final leaderboard if written, else one built from the results so far. */
export async function readLeaderboard(ctx: BucketContext, sweep: SweepRecord): Promise<Leaderboard> {
  const final = await ctx.store.getJson<Leaderboard>(layout.leaderboardJson(sweep.sweepId));
  if (final) return final;
  const keys = (await ctx.store.list(layout.trialsPrefix(sweep.sweepId))).filter((k) => k.endsWith('/result.json'));
  const results: TrialResult[] = [];
  for (const k of keys) {
    const r = await ctx.store.getJson<TrialResult>(k);
    if (r) results.push(r);
  }
  return buildLeaderboard(sweep.sweepId, sweep.metric ?? { name: 'val_accuracy', goal: 'maximize' }, results);
}
