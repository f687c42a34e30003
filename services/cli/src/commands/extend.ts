import type { Command } from 'commander';
import { withContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { print } from '../output.js';

/** Register `sweepq extend`: raise a finished random or bayes sweep's run cap and queue it again. */
export function registerExtendCommand(program: Command): void {
  program
    .command('extend')
    .description('continue a finished or cancelled random or bayes sweep up to --run-cap trials (bayes learns from every earlier trial; random never repeats one)')
    .argument('<sweepId>')
    .requiredOption('--run-cap <n>', 'the new total number of trials (above the current run_cap)')
    .option('--json', 'print JSON')
    .action(async (sweepId: string, opts: { runCap: string; json?: boolean }) => {
      const runCap = Number(opts.runCap);
      if (!Number.isSafeInteger(runCap) || runCap < 1) throw new CliError(`--run-cap: expected a positive integer, got "${opts.runCap}"`, ExitCode.Usage);
      await withContext(async (ctx) => {
        const r = await ctx.lifecycle.extend(sweepId, runCap);
        print(Boolean(opts.json), { sweepId, ...r }, `${sweepId}: extended from ${r.from} to ${r.runCap} trials; queued for a coordinator`);
      });
    });
}
