/** Exit codes: 0 ok, 1 failure, 2 usage or validation error. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;

/** An error the CLI reports as one message and an exit code, without a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.Failure) {
    super(message);
    this.exitCode = exitCode;
  }
}
