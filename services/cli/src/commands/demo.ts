import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';

/**
 * Register `sweepq demo` (`npm start` in a checkout runs it too): a sweep on this machine with nothing configured.
 * Imported only when run, like `worker`: the demo starts the services and loads the dataset.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run a demo sweep on this machine with nothing configured: local Redis (redis-server started if none answers), an embedded S3 server, ' +
        'a coordinator and workers; later commands read its data through <dir>/local.json',
    )
    .option('--spec <file>', 'sweep spec to run (default: the built-in quick sweep, examples/quick-sweep.yaml in the repository)')
    .option('--workers <n>', 'worker processes (default: one per CPU)')
    .option('--dir <dir>', 'folder for the local bucket, logs and results', '.sweepq')
    .action(async (opts: { spec?: string; workers?: string; dir: string }) => {
      const workers = opts.workers === undefined ? availableParallelism() : Number(opts.workers);
      if (!Number.isInteger(workers) || workers < 1) throw new CliError(`--workers: expected a positive integer, got "${opts.workers}"`, ExitCode.Usage);
      const { runDemo } = await import('../demo/run-demo.js');
      process.exitCode = await runDemo({ spec: opts.spec, workers, dir: opts.dir });
    });
}
