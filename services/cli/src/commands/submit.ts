import type { Command } from 'commander';
import { specNotices } from '@sweepq/sweep-config';
import { withContext } from '../context.js';
import { followSweep } from '../follow-sweep.js';
import { printOutcome } from '../outcome.js';
import { print } from '../output.js';
import { readSpecFile, submitSweep } from '../submit-sweep.js';

/** Register `sweepq submit`: validate a spec, queue it, and with `--wait` follow it to the end. */
export function registerSubmitCommand(program: Command): void {
  program
    .command('submit')
    .description('validate a sweep spec (YAML) and queue it')
    .argument('<spec>', 'path of the sweep spec')
    .option('--id <sweepId>', 'sweep id (default: from the spec name and time)')
    .option('--wait', 'follow the sweep until it finishes and print the leaderboard')
    .option('--json', 'print JSON')
    .option('--no-dataset-check', "skip reading the dataset before submitting (for a local path that exists only on the coordinator's machine)")
    .option('--no-upload', "keep a local dataset path as it is instead of uploading the file to the bucket (the coordinator then reads the path on its own machine)")
    .action(async (specPath: string, opts: { id?: string; wait?: boolean; json?: boolean; datasetCheck: boolean; upload: boolean }) => {
      const { text, spec } = await readSpecFile(specPath);
      for (const notice of specNotices(spec)) console.error(`${specPath}: ${notice}`);
      await withContext(async (ctx) => {
        const sweepId = await submitSweep(ctx, text, spec, { id: opts.id, checkDataset: opts.datasetCheck, upload: opts.upload });
        const where = ctx.store.uri(`sweeps/${sweepId}/`);
        print(Boolean(opts.json), { sweepId, location: where }, `submitted ${sweepId}\nresults will be in ${where}`);
        if (opts.wait) await printOutcome(ctx, await followSweep(ctx, sweepId), Boolean(opts.json));
      });
    });
}
