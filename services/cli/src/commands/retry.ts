import { QueueName, SWEEP_JOB_OPTIONS, forgetTrials, parsePayload, redisKeys, sweepJobId, sweepJobSchema, trialJobId } from '@sweepq/queue';
import { SweepState, isFinalSweepState, type SweepRecord, type TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { CliError, ExitCode } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { readSweep } from './inspect.js';

/** Which finished trials to run again. */
export interface RetryOptions {
  failed?: boolean;
  cancelled?: boolean;
}

/**
 * Re-run the failed (and/or cancelled) trials of a finished sweep under the same trial ids. Their old
 * results are kept under `trials/<id>/attempts/`, their checkpoints dropped so they start fresh, and the
 * sweep goes back to its coordinator, which enqueues exactly the trials that have no result.
 */
export async function retrySweep(ctx: CliContext, sweepId: string, opts: RetryOptions): Promise<{ retried: string[] }> {
  if (!opts.failed && !opts.cancelled) {
    throw new CliError('say which trials to retry: --failed and/or --cancelled', ExitCode.Usage);
  }
  const sweep = await readSweep(ctx, sweepId);
  if (!isFinalSweepState(sweep.state)) {
    throw new CliError(`sweep ${sweepId} is ${sweep.state}; retry works on a finished sweep (wait, or cancel it first)`, ExitCode.Usage);
  }
  const states = new Set<string>([...(opts.failed ? ['failed'] : []), ...(opts.cancelled ? ['cancelled'] : [])]);
  const keys = (await ctx.store.list(layout.trialsPrefix(sweepId))).filter((k) => k.endsWith('/result.json'));
  const rk = redisKeys(ctx.env.SWEEPQ_QUEUE_PREFIX);
  const chosen: TrialResult[] = [];
  for (const key of keys) {
    const r = await ctx.store.getJson<TrialResult>(key);
    if (!r || !states.has(r.state)) continue;
    // Check every trial before changing anything, so a refusal leaves the sweep as it was.
    const job = await ctx.trials.getJob(trialJobId(sweepId, r.trialId));
    if (job && (await job.getState()) === 'active') {
      throw new CliError(`trial ${r.trialId} is still running; try again when it has stopped`);
    }
    chosen.push(r);
  }
  const retried: string[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const r of chosen) {
    const prefix = layout.trialPrefix(sweepId, r.trialId);
    await ctx.store.putJson(`${prefix}attempts/${stamp}-result.json`, r);
    const job = await ctx.trials.getJob(trialJobId(sweepId, r.trialId));
    if (job) await job.remove();
    await forgetTrials(ctx.redis, ctx.env.SWEEPQ_QUEUE_PREFIX, sweepId, [r.trialId]);
    await ctx.redis.del(rk.resultClaim(sweepId, r.trialId));
    await ctx.store.deletePrefix(layout.checkpointPrefix(sweepId, r.trialId));
    await ctx.store.deletePrefix(layout.modelPrefix(sweepId, r.trialId));
    await ctx.store.deletePrefix(layout.metrics(sweepId, r.trialId));
    // result.json last: until it is gone the trial still counts as finished.
    await ctx.store.deletePrefix(layout.result(sweepId, r.trialId));
    retried.push(r.trialId);
  }
  if (retried.length === 0) return { retried };
  // The sweep is finished, so a cancel flag from before has done its job; left set, it would cancel the retry.
  await ctx.redis.del(rk.cancelled(sweepId));

  const now = new Date().toISOString();
  const next: SweepRecord = {
    ...sweep,
    state: SweepState.Queued,
    updatedAt: now,
    retries: [...(sweep.retries ?? []), { at: now, trials: retried }],
  };
  delete next.finishedAt;
  delete next.error;
  await ctx.store.putJson(layout.sweepJson(sweepId), next);

  const sweepJob = await ctx.sweeps.getJob(sweepJobId(sweepId));
  const jobState = sweepJob ? await sweepJob.getState() : 'unknown';
  if (sweepJob && (jobState === 'completed' || jobState === 'failed')) {
    await sweepJob.retry(jobState, { resetAttemptsMade: true, resetAttemptsStarted: true });
  } else if (!sweepJob || jobState === 'unknown') {
    const payload = parsePayload(QueueName.Sweeps, sweepJobSchema, {
      sweepId,
      specKey: layout.specYaml(sweepId),
      submittedAt: sweep.submittedAt,
    });
    await ctx.sweeps.add('sweep', payload, { ...SWEEP_JOB_OPTIONS, jobId: sweepJobId(sweepId) });
  }
  return { retried };
}
