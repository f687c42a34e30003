#!/usr/bin/env node
import { Command } from 'commander';
import { registerCancelCommand } from './commands/cancel.js';
import { registerCoordinatorCommand } from './commands/coordinator.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDownloadCommand } from './commands/download.js';
import { registerExtendCommand } from './commands/extend.js';
import { registerListCommand } from './commands/list.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerReportCommand } from './commands/report.js';
import { registerResultsCommand } from './commands/results.js';
import { registerResumeCommand } from './commands/resume.js';
import { registerRetryCommand } from './commands/retry.js';
import { registerStatusCommand } from './commands/status.js';
import { registerSubmitCommand } from './commands/submit.js';
import { registerWatchCommand } from './commands/watch.js';
import { registerWorkerCommand } from './commands/worker.js';
import { silenceSdkNodeVersionWarning } from './env.js';
import { ExitCode } from './errors.js';
import { exitCodeFor } from './exit-codes.js';
import { cliVersion } from './version.js';

/** Every command, in the order `sweepq --help` lists them. */
const COMMANDS: readonly ((program: Command) => void)[] = [
  registerDemoCommand,
  registerSubmitCommand,
  registerStatusCommand,
  registerExtendCommand,
  registerResumeCommand,
  registerResultsCommand,
  registerWatchCommand,
  registerCancelCommand,
  registerRetryCommand,
  registerDownloadCommand,
  registerReportCommand,
  registerPredictCommand,
  registerListCommand,
  registerWorkerCommand,
  registerCoordinatorCommand,
];

/** The `sweepq` program with every command registered. */
export function buildProgram(): Command {
  const program = new Command()
    .name('sweepq')
    .description('Hyperparameter sweeps of text classifiers on a job queue. Configure with REDIS_URL, S3_ENDPOINT, S3_BUCKET and the AWS_* credentials.')
    .version(cliVersion(), '-V, --version', 'print the sweepq version')
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Run the CLI; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  silenceSdkNodeVersionWarning();
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    const { code, message } = exitCodeFor(err);
    if (message !== undefined) process.stderr.write(`sweepq: ${message}\n`);
    return code;
  }
}

// Run when executed directly (not when imported by tests).
const invoked = process.argv[1] ?? '';
if (/[\\/]cli[\\/](src|dist)[\\/]main\.(ts|js)$/.test(invoked)) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
