#!/usr/bin/env node
// `npm start`: a demo sweep on embedded defaults — local Redis (started if needed), an in-process
// S3-compatible server, a coordinator and N worker processes, the built-in dataset.
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { leaderboardTable } from '@sweepq/results';
import { loadCliEnv } from './env.js';
import { openContext } from './context.js';
import { CliError } from './exit-codes.js';
import { startLocalStack } from './local-stack.js';
import { readSpecFile, submitSweep } from './commands/submit.js';
import { checkSpecDataset } from './dataset-check.js';
import { followSweep } from './commands/follow.js';
import { readLeaderboard } from './commands/inspect.js';
import { downloadSweep } from './commands/download.js';

const program = new Command()
  .name('sweepq-demo')
  .description('run a demo sweep on this machine with embedded Redis/S3 defaults')
  .option('--spec <file>', 'sweep spec to run', 'examples/quick-sweep.yaml')
  .option('--workers <n>', 'worker processes (default: number of CPUs)', String(availableParallelism()))
  .option('--dir <dir>', 'folder for the local bucket, logs and results', '.sweepq')
  .parse();

const opts = program.opts<{ spec: string; workers: string; dir: string }>();

async function main(): Promise<number> {
  const workers = Number.parseInt(opts.workers, 10);
  if (!Number.isInteger(workers) || workers < 1) throw new CliError(`--workers: expected a positive integer, got "${opts.workers}"`, 2);
  const { text, spec } = await readSpecFile(opts.spec);
  // Before starting anything; an s3:// dataset can only be read once the local S3 server runs (submitSweep checks it).
  const datasetChecked = !spec.dataset.uri.startsWith('s3://') && (await checkSpecDataset(spec.dataset)).checked;
  const base = loadCliEnv({ ...process.env, S3_BUCKET: process.env.S3_BUCKET ?? 'sweepq' });
  const t0 = Date.now();
  console.log(`sweepq demo: ${spec.name ?? opts.spec} (${spec.method}) with ${workers} worker process(es)`);
  const stack = await startLocalStack({
    dir: opts.dir,
    redisUrl: base.REDIS_URL,
    bucket: base.S3_BUCKET,
    workers,
    queuePrefix: base.SWEEPQ_QUEUE_PREFIX,
  });
  console.log(`  redis ${base.REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}, S3 ${stack.s3.endpoint} (data in ${join(opts.dir, 's3')}), logs in ${relative(process.cwd(), stack.logDir)}`);
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const env = loadCliEnv({ ...process.env, ...stack.env });
  const ctx = await openContext(env);
  try {
    const sweepId = await submitSweep(ctx, text, spec, { checkDataset: !datasetChecked });
    console.log(`  submitted sweep ${sweepId}\n`);
    const final = await followSweep(ctx, sweepId, { signal: interrupted.signal });
    if (interrupted.signal.aborted) {
      console.log(`\ninterrupted; the sweep stays queued in Redis and resumes with the next coordinator. Status: npm run sweepq -- status ${sweepId}`);
      return 130;
    }
    const lb = await readLeaderboard(ctx, final);
    const out = resolve(opts.dir, 'results', sweepId);
    const files = await downloadSweep(ctx, sweepId, out);
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    const backend = lb.rows[0]?.result.backend ?? 'unknown';
    console.log(`\n${leaderboardTable(lb)}\n`);
    if (final.dataset) {
      console.log(`dataset: ${final.dataset.rows} rows, classes ${final.dataset.classes.join('/')}, majority-class rate ${(final.dataset.majorityRate * 100).toFixed(1)}%`);
    }
    console.log(`sweep ${sweepId}: ${final.state} in ${secs} s on backend ${backend}`);
    console.log(`results: ${ctx.store.uri(`sweeps/${sweepId}/`)} (copied to ${relative(process.cwd(), out)}/, ${files} files)`);
    console.log(`  report: ${relative(process.cwd(), join(out, 'report.html'))} (open it in a browser; it works offline)`);
    console.log(`  leaderboard: ${relative(process.cwd(), join(out, 'leaderboard.csv'))}; best model: ${relative(process.cwd(), join(out, 'best'))}/ (see its README.md)`);
    console.log(`  open ${relative(process.cwd(), join(out, 'leaderboard.csv'))} or read ${relative(process.cwd(), join(out, 'trials'))}/<trial>/ (params, metrics.jsonl, model/, result.json)`);
    return final.state === 'completed' ? 0 : 1;
  } finally {
    await ctx.close();
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`sweepq demo: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof CliError ? err.exitCode : 1);
  },
);
