import type { Command } from 'commander';
import { isFinalSweepState, leaderboardTable } from '@sweepq/results';
import { withContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { print } from '../output.js';
import { readLeaderboard, readSweep } from '../sweep-reads.js';

/** Register `sweepq results`: a sweep's leaderboard, so far or final, from the bucket alone. */
export function registerResultsCommand(program: Command): void {
  program
    .command('results')
    .description("print a sweep's leaderboard (so far, if it is still running)")
    .argument('<sweepId>')
    .option('--json', 'print the leaderboard as JSON')
    .option('--top <n>', 'rows to show in the table', '20')
    .action(async (sweepId: string, opts: { json?: boolean; top: string }) => {
      const top = Number.parseInt(opts.top, 10);
      if (!Number.isInteger(top) || top < 1) throw new CliError(`--top: expected a positive integer, got "${opts.top}"`, ExitCode.Usage);
      await withContext(
        async (ctx) => {
          const sweep = await readSweep(ctx, sweepId);
          const lb = await readLeaderboard(ctx, sweep);
          const table = lb.rows.length > 0 ? leaderboardTable(lb, top) : isFinalSweepState(sweep.state) ? 'no trial finished' : 'no trial has finished yet';
          print(Boolean(opts.json), lb, `${sweep.sweepId}: ${sweep.state}${sweep.error ? `: ${sweep.error}` : ''}\n${table}`);
        },
        { redis: 'none' },
      );
    });
}
