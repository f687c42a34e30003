import type { Command } from 'commander';

/**
 * Register `sweepq worker`. The service runs in this process, so `npx sweepq worker` joins the pool from any machine
 * with Node and the package installed. Imported only when run: the other commands never load TensorFlow.
 */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker: takes trial jobs from Redis and trains them (configure with REDIS_URL, S3_*, WORKER_*; stops on SIGTERM)')
    .action(async () => {
      const { loadWorkerEnv, runWorkerProcess } = await import('@sweepq/worker');
      await runWorkerProcess(loadWorkerEnv());
    });
}
