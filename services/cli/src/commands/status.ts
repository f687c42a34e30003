import type { Command } from 'commander';
import { withContext } from '../context.js';
import { print } from '../output.js';
import { statusText, sweepStatus } from '../sweep-status.js';

/** Register `sweepq status`: state, fresh trial counts, owner and live processes of one sweep. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("show a sweep's state, trial counts (fresh from Redis), its coordinator and the live workers")
    .argument('<sweepId>')
    .option('--json', 'print JSON')
    .action(async (sweepId: string, opts: { json?: boolean }) => {
      // Redis is optional: a finished sweep's status (or an unfinished one's last known counts) comes from the bucket.
      await withContext(
        async (ctx) => {
          const s = await sweepStatus(ctx, sweepId);
          print(Boolean(opts.json), { ...s.sweep, trials: s.trials, owner: s.owner, alive: s.alive, running: s.running, warnings: s.warnings }, statusText(s));
        },
        { redis: 'optional' },
      );
    });
}
