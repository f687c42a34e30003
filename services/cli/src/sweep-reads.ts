import { readSweepRecord } from '@sweepq/lifecycle';
import { buildLeaderboard, committedResult, sweepObjectives, type Leaderboard, type ReopenedTrial, type SweepRecord, type TrialResult } from '@sweepq/results';
import { assertSafeId, layout } from '@sweepq/storage';
import type { BucketContext } from './context.js';
import { CliError, ExitCode } from './errors.js';

/** sweep.json, or a clear error when the sweep does not exist. */
export async function readSweep(ctx: BucketContext, sweepId: string): Promise<SweepRecord> {
  try {
    assertSafeId(sweepId, 'sweep id');
  } catch (err) {
    throw new CliError((err as Error).message, ExitCode.Usage);
  }
  const record = await readSweepRecord(ctx.store, sweepId);
  if (!record) throw new CliError(`no sweep "${sweepId}" in ${ctx.store.uri('sweeps/')}`, ExitCode.Failure);
  return record;
}

/** The final leaderboard if written, else one built from the results so far (with the sweep's objectives and best rule). */
export async function readLeaderboard(ctx: BucketContext, sweep: SweepRecord): Promise<Leaderboard> {
  const final = await ctx.store.getJson<Leaderboard>(layout.leaderboardJson(sweep.sweepId));
  if (final) return final;
  const keys = (await ctx.store.list(layout.trialsPrefix(sweep.sweepId))).filter((k) => k.endsWith('/result.json'));
  const results: TrialResult[] = [];
  for (const k of keys) {
    // A trial `sweepq retry` reopened has no result until its retry commits.
    const r = committedResult(await ctx.store.getJson<TrialResult | ReopenedTrial>(k));
    if (r) results.push(r);
  }
  return buildLeaderboard(sweep.sweepId, sweep.metric ?? { name: 'val_accuracy', goal: 'maximize' }, results, new Date(), sweepObjectives(sweep));
}
