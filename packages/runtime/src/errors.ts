/** Base class of every error sweepq raises on purpose. `code` is stable and machine-readable. */
export class SweepqError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value (environment variable, option) is missing or malformed. */
export class ConfigError extends SweepqError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.issues = issues;
  }
}

/** Turn anything thrown into an Error, keeping the original as `cause`. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  let text: string;
  try {
    text = JSON.stringify(thrown);
  } catch {
    text = String(thrown);
  }
  return new Error(`non-Error thrown: ${text}`, { cause: thrown });
}
