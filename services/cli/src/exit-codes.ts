import { CommanderError } from 'commander';
import { LifecycleError, LifecycleErrorCode } from '@sweepq/lifecycle';
import { RedisUnavailableError } from '@sweepq/queue';
import { ConfigError } from '@sweepq/runtime';
import { StorageError } from '@sweepq/storage';
import { CliError, ExitCode } from './errors.js';

/**
 * The exit code for an error a command threw, and what to print for it on stderr (nothing for commander's own
 * errors: it printed them already). Errors raised on purpose print their message; anything else is a bug and
 * prints its stack.
 */
export function exitCodeFor(err: unknown): { code: number; message?: string } {
  if (err instanceof CommanderError) return { code: err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage };
  if (err instanceof CliError) return { code: err.exitCode, message: err.message };
  if (err instanceof ConfigError) return { code: ExitCode.Usage, message: err.message };
  if (err instanceof LifecycleError) {
    const usage = err.code === LifecycleErrorCode.Refused || err.code === LifecycleErrorCode.Exists;
    return { code: usage ? ExitCode.Usage : ExitCode.Failure, message: err.message };
  }
  if (err instanceof RedisUnavailableError || err instanceof StorageError) return { code: ExitCode.Failure, message: err.message };
  return { code: ExitCode.Failure, message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}
