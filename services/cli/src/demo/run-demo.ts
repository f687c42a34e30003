// `sweepq demo` (and `npm start` in a checkout): a demo sweep on embedded defaults — local Redis (started if needed),
// an in-process S3-compatible server, a coordinator and N worker processes, the built-in dataset.
import { access } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { specNotices } from '@sweepq/sweep-config';
import { openContext } from '../context.js';
import { checkSpecDataset } from '../dataset-check.js';
import { downloadSweep } from '../download-sweep.js';
import { loadCliEnv } from '../env.js';
import { followSweep } from '../follow-sweep.js';
import { describeOutcome, type SweepFiles } from '../outcome.js';
import { submitSweep, readSpecFile } from '../submit-sweep.js';
import { readLeaderboard } from '../sweep-reads.js';
import { defaultDemoSpecPath } from './default-spec.js';
import { writeLocalSettings } from './local-settings.js';
import { startLocalStack } from './local-stack.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Sweep spec file; default the built-in quick sweep ({@link defaultDemoSpecPath}). */
  spec?: string;
  /** Worker processes to start. */
  workers: number;
  /** Folder for the local bucket, logs, results and `local.json`. */
  dir: string;
}

/** The demo's local copy of a sweep's files. */
function localFiles(dir: string): SweepFiles {
  return {
    exists: (path) => access(join(dir, path)).then(() => true, () => false),
    show: (path) => `${relative(process.cwd(), join(dir, path))}${path.endsWith('/') ? '/' : ''}`,
  };
}

/**
 * Run the demo sweep to its end and print the leaderboard; the sweep's files are copied to `<dir>/results/<id>/` and
 * `<dir>/local.json` lets later commands read them. Returns the exit code: 0 completed, 1 otherwise, 130 interrupted.
 */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const specPath = opts.spec ?? defaultDemoSpecPath();
  const shownSpec = opts.spec ?? 'the built-in quick sweep';
  const { text, spec } = await readSpecFile(specPath);
  for (const notice of specNotices(spec)) console.log(`${shownSpec}: ${notice}`);
  // Before starting anything; an s3:// dataset can only be read once the local S3 server runs (submitSweep checks it).
  const datasetChecked = !spec.dataset.uri.startsWith('s3://') && (await checkSpecDataset(spec.dataset)).checked;
  const base = loadCliEnv({ ...process.env, S3_BUCKET: process.env.S3_BUCKET ?? 'sweepq' });
  const t0 = Date.now();
  console.log(`sweepq demo: ${spec.name ?? specPath} (${spec.method}) with ${opts.workers} worker process(es)`);
  const stack = await startLocalStack({
    dir: opts.dir,
    redisUrl: base.REDIS_URL,
    bucket: base.S3_BUCKET,
    workers: opts.workers,
    queuePrefix: base.SWEEPQ_QUEUE_PREFIX,
    s3Prefix: base.S3_PREFIX,
  });
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort();
  // SIGHUP too: a closed terminal must stop the demo's processes the same way, not leave them running.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of signals) process.once(sig, onSignal);
  try {
    // Later commands (sweepq status/results/report/predict …) find this sweep's data through it, with no set-up.
    await writeLocalSettings(opts.dir, stack.settings);
    console.log(`  redis ${base.REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}, S3 ${stack.s3.endpoint} (data in ${join(opts.dir, 's3')}), logs in ${relative(process.cwd(), stack.logDir)}`);
    const env = loadCliEnv({ ...process.env, ...stack.env });
    const ctx = await openContext(env);
    try {
      const sweepId = await submitSweep(ctx, text, spec, { checkDataset: !datasetChecked });
      console.log(`  submitted sweep ${sweepId}\n`);
      const final = await followSweep(ctx, sweepId, { signal: interrupted.signal });
      if (interrupted.signal.aborted) {
        console.log(`\ninterrupted; the sweep stays queued in Redis and resumes with the next coordinator. Status: npx sweepq status ${sweepId}`);
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
      console.log(`next: npx sweepq results|status|report|download|predict ${sweepId} (they read ${join(opts.dir, 'local.json')}; see README)`);
      return final.state === 'completed' ? 0 : 1;
    } finally {
      await ctx.close();
    }
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
    await stack.stop();
  }
}
