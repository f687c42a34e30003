import { TrialState } from '@sweepq/results';
import { CliError, ExitCode } from '../exit-codes.js';
import type { CliContext } from '../context.js';

/** Which finished trials to run again. */
export interface RetryOptions {
  failed?: boolean;
  cancelled?: boolean;
}

/**
 * Re-run the failed (and/or cancelled) trials of a sweep no coordinator follows — finished, or stranded — under the
 * same trial ids (old results kept under `trials/<id>/attempts/`); the sweep goes back to a coordinator.
 */
export async function retrySweep(ctx: CliContext, sweepId: string, opts: RetryOptions): Promise<{ retried: string[] }> {
  if (!opts.failed && !opts.cancelled) {
    throw new CliError('say which trials to retry: --failed and/or --cancelled', ExitCode.Usage);
  }
  const states = new Set<TrialState>([...(opts.failed ? [TrialState.Failed] : []), ...(opts.cancelled ? [TrialState.Cancelled] : [])]);
  return ctx.lifecycle.retry(sweepId, states);
}
