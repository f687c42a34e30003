import type { Command } from 'commander';
import { TrialState } from '@sweepq/results';
import { withContext, type CliContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { print } from '../output.js';

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

/** Register `sweepq retry`. */
export function registerRetryCommand(program: Command): void {
  program
    .command('retry')
    .description('re-run the failed (or cancelled) trials of a finished (or stranded) sweep under the same trial ids')
    .argument('<sweepId>')
    .option('--failed', 'retry failed trials')
    .option('--cancelled', 'retry cancelled trials')
    .option('--json', 'print JSON')
    .action(async (sweepId: string, opts: { failed?: boolean; cancelled?: boolean; json?: boolean }) => {
      await withContext(async (ctx) => {
        const r = await retrySweep(ctx, sweepId, opts);
        print(
          Boolean(opts.json),
          { sweepId, ...r },
          r.retried.length > 0 ? `${sweepId}: retrying ${r.retried.join(', ')}` : `${sweepId}: no trials to retry`,
        );
      });
    });
}
