import type { Command } from 'commander';
import { isFinalSweepState } from '@sweepq/results';
import { withContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { followSweep } from '../follow-sweep.js';
import { printOutcome } from '../outcome.js';
import { readSweep } from '../sweep-reads.js';

/** Register `sweepq watch`: follow a sweep live to its end, then print how it ended. */
export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('follow a sweep live until it finishes, then print how it ended (exit 1 unless it completed)')
    .argument('<sweepId>')
    .action(async (sweepId: string) => {
      await withContext(
        async (ctx) => {
          const sweep = await readSweep(ctx, sweepId);
          // A finished sweep needs no queue: its outcome is all in the bucket.
          if (isFinalSweepState(sweep.state)) return printOutcome(ctx, sweep, false);
          if (!ctx.redis) throw new CliError(`cannot follow sweep ${sweepId} (${sweep.state}): ${ctx.redisUnavailable}`, ExitCode.Failure);
          return printOutcome(ctx, await followSweep(ctx, sweepId), false);
        },
        { redis: 'optional' },
      );
    });
}
