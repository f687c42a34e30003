#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isFinalSweepState, leaderboardTable, type SweepRecord } from '@sweepq/results';
import { ConfigError } from '@sweepq/runtime';
import { RedisUnavailableError } from '@sweepq/queue';
import { StorageError } from '@sweepq/storage';
import { specNotices } from '@sweepq/sweep-config';
import { silenceSdkNodeVersionWarning } from './env.js';
import { withContext, type BucketContext } from './context.js';
import { CliError, ExitCode } from './exit-codes.js';
import { bucketFiles, describeOutcome } from './outcome.js';
import { readSpecFile, submitSweep } from './commands/submit.js';
import { readLeaderboard, readSweep, statusText, sweepStatus } from './commands/inspect.js';
import { LifecycleError, LifecycleErrorCode } from '@sweepq/lifecycle';
import { cancelSweep } from './commands/cancel.js';
import { followSweep } from './commands/follow.js';
import { downloadSweep } from './commands/download.js';
import { registerReportCommands } from './commands/report.js';
import { registerListCommand } from './commands/list.js';
import { retrySweep } from './commands/retry.js';

/** The CLI's version: the version field of its package.json (beside src/ and dist/). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/**
 * Print how a finished sweep ended (leaderboard, error, failed trials, links to the files that exist) and set a
 * non-zero exit code unless it completed.
 */
async function printOutcome(ctx: BucketContext, sweep: SweepRecord, json: boolean): Promise<void> {
  const lb = await readLeaderboard(ctx, sweep);
  if (json) print(true, lb, '');
  else process.stdout.write(`\n${(await describeOutcome(sweep, lb, { files: bucketFiles(ctx.store, sweep.sweepId) })).join('\n')}\n`);
  if (sweep.state !== 'completed') process.exitCode = ExitCode.Failure;
}

const print = (json: boolean, value: unknown, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);

export function buildProgram(): Command {
  const program = new Command()
    .name('sweepq')
    .description('Hyperparameter sweeps of text classifiers on a job queue. Configure with REDIS_URL, S3_ENDPOINT, S3_BUCKET and the AWS_* credentials.')
    .version(cliVersion(), '-V, --version', 'print the sweepq version')
    .showHelpAfterError()
    .exitOverride();

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

  registerReportCommands(program);
  registerListCommand(program);

  // The services run in this process, so `npx sweepq worker` joins the pool from any machine with Node and the
  // package installed. Imported only here: the other commands never load TensorFlow.
  program
    .command('worker')
    .description('run a worker: takes trial jobs from Redis and trains them (configure with REDIS_URL, S3_*, WORKER_*; stops on SIGTERM)')
    .action(async () => {
      const { loadWorkerEnv, runWorkerProcess } = await import('@sweepq/worker');
      await runWorkerProcess(loadWorkerEnv());
    });
  program
    .command('coordinator')
    .description('run a coordinator: plans submitted sweeps, follows them and writes their results (configure with REDIS_URL, S3_*; stops on SIGTERM)')
    .action(async () => {
      const { loadCoordinatorEnv, runCoordinatorProcess } = await import('@sweepq/coordinator');
      await runCoordinatorProcess(loadCoordinatorEnv());
    });

  return program;
}

/** Run the CLI; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  silenceSdkNodeVersionWarning();
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
    if (err instanceof LifecycleError) {
      process.stderr.write(`sweepq: ${err.message}\n`);
      return err.code === LifecycleErrorCode.Refused || err.code === LifecycleErrorCode.Exists ? ExitCode.Usage : ExitCode.Failure;
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
