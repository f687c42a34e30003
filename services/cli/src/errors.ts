import { SweepqError } from '@sweepq/runtime';

/** Exit codes: 0 ok, 1 failure, 2 usage or validation error. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;

/** Codes of {@link CliError}: which exit code the CLI ends with. */
export const CliErrorCode = {
  /** A usage or validation error: bad flag value, invalid spec or dataset (exit 2). */
  Usage: 'CLI_USAGE',
  /** The command failed: no such sweep, unreadable model, a service that does not answer (exit 1). */
  Failure: 'CLI_FAILURE',
} as const;
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/** An error the CLI reports as one message and an exit code, without a stack trace. */
export class CliError extends SweepqError {
  declare readonly code: CliErrorCode;
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.Failure) {
    super(exitCode === ExitCode.Usage ? CliErrorCode.Usage : CliErrorCode.Failure, message);
    this.exitCode = exitCode;
  }
}
