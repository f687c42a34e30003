import type { Command } from 'commander';
import { withContext } from '../context.js';
import { downloadSweep } from '../download-sweep.js';
import { readSweep } from '../sweep-reads.js';

/** Register `sweepq download`: copy a sweep's files from the bucket to a local folder. */
export function registerDownloadCommand(program: Command): void {
  program
    .command('download')
    .description("copy a sweep's files from the bucket to a local folder")
    .argument('<sweepId>')
    .option('--out <dir>', 'target folder (default: ./<sweepId>)')
    .action(async (sweepId: string, opts: { out?: string }) => {
      await withContext(
        async (ctx) => {
          const sweep = await readSweep(ctx, sweepId);
          const out = opts.out ?? sweepId;
          const n = await downloadSweep(ctx, sweepId, out);
          process.stdout.write(`${sweepId} (${sweep.state}): ${n} files written to ${out}\n`);
        },
        { redis: 'none' },
      );
    });
}
