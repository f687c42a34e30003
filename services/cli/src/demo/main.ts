#!/usr/bin/env node
// `npm start`: a demo sweep on embedded defaults — local Redis (started if needed), an in-process
// S3-compatible server, a coordinator and N worker processes, the built-in dataset.
import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { specNotices } from '@sweepq/sweep-config';
import { openContext } from '../context.js';
import { checkSpecDataset } from '../dataset-check.js';
import { downloadSweep } from '../download-sweep.js';
import { loadCliEnv, silenceSdkNodeVersionWarning } from '../env.js';
import { CliError } from '../errors.js';
import { followSweep } from '../follow-sweep.js';
import { describeOutcome, type SweepFiles } from '../outcome.js';
import { submitSweep, readSpecFile } from '../submit-sweep.js';
import { readLeaderboard } from '../sweep-reads.js';
import { writeLocalSettings } from './local-settings.js';
import { startLocalStack } from './local-stack.js';

const program = new Command()
  .name('sweepq-demo')
  .description('run a demo sweep on this machine with embedded Redis/S3 defaults')
  .option('--spec <file>', 'sweep spec to run', 'examples/quick-sweep.yaml')
  .option('--workers <n>', 'worker processes (default: number of CPUs)', String(availableParallelism()))
  .option('--dir <dir>', 'folder for the local bucket, logs and results', '.sweepq')
  .parse();

const opts = program.opts<{ spec: string; workers: string; dir: string }>();

/** The demo's local copy of a sweep's files. */
function localFiles(dir: string): SweepFiles {
  return {
    exists: (path) => access(join(dir, path)).then(() => true, () => false),
    show: (path) => `${relative(process.cwd(), join(dir, path))}${path.endsWith('/') ? '/' : ''}`,
  };
}

async function main(): Promise<number> {
  silenceSdkNodeVersionWarning();
  const workers = Number.parseInt(opts.workers, 10);
  if (!Number.isInteger(workers) || workers < 1) throw new CliError(`--workers: expected a positive integer, got "${opts.workers}"`, 2);
  const { text, spec } = await readSpecFile(opts.spec);
  for (const notice of specNotices(spec)) console.log(`${opts.spec}: ${notice}`);
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
    s3Prefix: base.S3_PREFIX,
  });
  // Later commands (sweepq status/results/report/predict …) find this sweep's data through it, with no set-up.
  await writeLocalSettings(opts.dir, stack.settings);
  console.log(`  redis ${base.REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}, S3 ${stack.s3.endpoint} (data in ${join(opts.dir, 's3')}), logs in ${relative(process.cwd(), stack.logDir)}`);
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort();
  // SIGHUP too: a closed terminal must stop the demo's processes the same way, not leave them running.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, onSignal);
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
    console.log('');
    const lines = await describeOutcome(final, lb, { seconds: (Date.now() - t0) / 1000, files: localFiles(out) });
    console.log(lines.join('\n'));
    console.log(`results: ${ctx.store.uri(`sweeps/${sweepId}/`)} (copied to ${relative(process.cwd(), out)}/, ${files} files)`);
    if (files > 0) console.log(`  read ${relative(process.cwd(), join(out, 'trials'))}/<trial>/ for params.json, metrics.jsonl, result.json and the model (outputs/<attempt>/model/, named by result.json's attemptKey)`);
    console.log(`next: npm run sweepq -- results|status|report|download|predict ${sweepId} (they read ${join(opts.dir, 'local.json')}; see README)`);
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
