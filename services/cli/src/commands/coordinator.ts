import type { Command } from 'commander';

/** Register `sweepq coordinator`; like `worker`, the service runs in this process and is imported only when run. */
export function registerCoordinatorCommand(program: Command): void {
  program
    .command('coordinator')
    .description('run a coordinator: plans submitted sweeps, follows them and writes their results (configure with REDIS_URL, S3_*; stops on SIGTERM)')
    .action(async () => {
      const { loadCoordinatorEnv, runCoordinatorProcess } = await import('@sweepq/coordinator');
      await runCoordinatorProcess(loadCoordinatorEnv());
    });
}
