import type { Command } from 'commander';
import { cancelSweep } from '../cancel-sweep.js';
import { withContext } from '../context.js';
import { print } from '../output.js';

/** Register `sweepq cancel`. */
export function registerCancelCommand(program: Command): void {
  program
    .command('cancel')
    .description('cancel a sweep: queued trials are removed, running ones stop within seconds')
    .argument('<sweepId>')
    .option('--json', 'print JSON')
    .action(async (sweepId: string, opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const r = await cancelSweep(ctx, sweepId);
        print(Boolean(opts.json), { sweepId, ...r }, `${sweepId}: ${r.state}; ${r.removed} queued trial(s) removed`);
      });
    });
}
