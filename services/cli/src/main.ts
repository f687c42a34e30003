#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { leaderboardTable } from '@sweepq/results';
import { ConfigError } from '@sweepq/runtime';
import { RedisUnavailableError } from '@sweepq/queue';
import { StorageError } from '@sweepq/storage';
import { loadCliEnv } from './env.js';
import { openContext, type CliContext } from './context.js';
import { CliError, ExitCode } from './exit-codes.js';
import { readSpecFile, submitSweep } from './commands/submit.js';
import { readLeaderboard, readSweep, runningTrials } from './commands/inspect.js';
import { cancelSweep } from './commands/cancel.js';
import { followSweep } from './commands/follow.js';
import { downloadSweep } from './commands/download.js';
import { registerReportCommands } from './commands/report.js';
import { registerListCommand } from './commands/list.js';
import { retrySweep } from './commands/retry.js';

async function withContext<T>(fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(loadCliEnv());
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

const print = (json: boolean, value: unknown, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);

export function buildProgram(): Command {
  const program = new Command()
    .name('sweepq')
    .description('Hyperparameter sweeps of text classifiers on a job queue. Configure with REDIS_URL, S3_ENDPOINT, S3_BUCKET and the AWS_* credentials.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('submit')
    .description('validate a sweep spec (YAML) and queue it')
    .argument('<spec>', 'path of the sweep spec')
    .option('--id <sweepId>', 'sweep id (default: from the spec name and time)')
    .option('--wait', 'follow the sweep until it finishes and print the leaderboard')
    .option('--json', 'print JSON')
    .action(async (specPath: string, opts: { id?: string; wait?: boolean; json?: boolean }) => {
      const { text, spec } = await readSpecFile(specPath);
      await withContext(async (ctx) => {
        const sweepId = await submitSweep(ctx, text, spec, { id: opts.id });
        const where = ctx.store.uri(`sweeps/${sweepId}/`);
        print(Boolean(opts.json), { sweepId, location: where }, `submitted ${sweepId}\nresults will be in ${where}`);
        if (opts.wait) {
          const final = await followSweep(ctx, sweepId);
          const lb = await readLeaderboard(ctx, final);
          print(Boolean(opts.json), lb, `\n${leaderboardTable(lb)}`);
          if (final.state !== 'completed') process.exitCode = ExitCode.Failure;
        }
      });
    });

  program
    .command('status')
    .description("show a sweep's state, trial counts and running trials")
    .argument('<sweepId>')
    .option('--json', 'print JSON')
    .action(async (sweepId: string, opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const sweep = await readSweep(ctx, sweepId);
        const running = await runningTrials(ctx, sweepId);
        const t = sweep.trials;
        const lines = [
          `sweep    ${sweep.sweepId}${sweep.name ? ` (${sweep.name})` : ''}`,
          `state    ${sweep.state}${sweep.error ? `: ${sweep.error}` : ''}`,
          `method   ${sweep.method ?? '-'}; metric ${sweep.metric ? `${sweep.metric.name} (${sweep.metric.goal})` : '-'}`,
          t ? `trials   ${t.total} total: ${t.completed} completed, ${t.running} running, ${t.queued} queued, ${t.failed} failed, ${t.cancelled} cancelled` : 'trials   not planned yet',
          sweep.best ? `best     ${sweep.best.trialId} ${sweep.metric?.name ?? ''}=${sweep.best.value}` : '',
          ...running.map((p) => `running  ${p.trialId} epoch ${p.epoch}/${p.epochs}${p.val_accuracy !== undefined ? ` val_accuracy ${p.val_accuracy.toFixed(4)}` : ''}`),
        ].filter(Boolean);
        print(Boolean(opts.json), { ...sweep, running }, lines.join('\n'));
      });
    });

  program
    .command('results')
    .description("print a sweep's leaderboard (so far, if it is still running)")
    .argument('<sweepId>')
    .option('--json', 'print the leaderboard as JSON')
    .option('--top <n>', 'rows to show in the table', '20')
    .action(async (sweepId: string, opts: { json?: boolean; top: string }) => {
      await withContext(async (ctx) => {
        const sweep = await readSweep(ctx, sweepId);
        const lb = await readLeaderboard(ctx, sweep);
        const top = Number.parseInt(opts.top, 10);
        if (!Number.isInteger(top) || top < 1) throw new CliError(`--top: expected a positive integer, got "${opts.top}"`, ExitCode.Usage);
        print(Boolean(opts.json), lb, `${sweep.sweepId}: ${sweep.state}\n${leaderboardTable(lb, top)}`);
      });
    });

  program
    .command('watch')
    .description('follow a sweep live until it finishes')
    .argument('<sweepId>')
    .action(async (sweepId: string) => {
      await withContext(async (ctx) => {
        const final = await followSweep(ctx, sweepId);
        process.stdout.write(`\n${leaderboardTable(await readLeaderboard(ctx, final))}\n`);
      });
    });

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

  program
    .command('retry')
    .description('re-run the failed (or cancelled) trials of a finished sweep under the same trial ids')
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

  program
    .command('download')
    .description("copy a sweep's files from the bucket to a local folder")
    .argument('<sweepId>')
    .option('--out <dir>', 'target folder (default: ./<sweepId>)')
    .action(async (sweepId: string, opts: { out?: string }) => {
      await withContext(async (ctx) => {
        await readSweep(ctx, sweepId);
        const out = opts.out ?? sweepId;
        const n = await downloadSweep(ctx, sweepId, out);
        process.stdout.write(`${n} files written to ${out}\n`);
      });
    });

  registerReportCommands(program);
  registerListCommand(program);

  return program;
}

/** Run the CLI; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`sweepq: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`sweepq: ${err.message}\n`);
      return ExitCode.Usage;
    }
    if (err instanceof RedisUnavailableError || err instanceof StorageError) {
      process.stderr.write(`sweepq: ${err.message}\n`);
      return ExitCode.Failure;
    }
    process.stderr.write(`sweepq: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCode.Failure;
  }
}

// Run when executed directly (not when imported by tests).
const invoked = process.argv[1] ?? '';
if (/[\\/]cli[\\/](src|dist)[\\/]main\.(ts|js)$/.test(invoked)) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
