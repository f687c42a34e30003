import type { Command } from 'commander';
import { withContext } from '../context.js';
import { print } from '../output.js';
import { readSweep } from '../sweep-reads.js';

/** Register `sweepq resume`: rebuild a sweep Redis lost from the bucket and queue it again. */
export function registerResumeCommand(program: Command): void {
  program
    .command('resume')
    .description('rebuild a sweep from the bucket (after Redis lost it) and queue it again; coordinators also do this on their own within a minute')
    .argument('<sweepId>')
    .option('--json', 'print JSON')
    .action(async (sweepId: string, opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const resumed = await ctx.lifecycle.resume(sweepId, 'sweepq resume');
        const state = (await readSweep(ctx, sweepId)).state;
        print(
          Boolean(opts.json),
          { sweepId, resumed, state },
          resumed
            ? `${sweepId}: rebuilt from the bucket and queued; a coordinator keeps every committed result and re-runs the rest`
            : `${sweepId}: ${state}; nothing to resume (it is finished, or a coordinator has it)`,
        );
      });
    });
}
