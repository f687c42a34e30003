import { SweepqError } from '@sweepq/runtime/errors';

/** One problem found in a sweep spec. */
export interface SpecIssue {
  /** Dotted path to the offending key (`parameters.learning_rate.min`, `parameters.batch_size.values[2]`); `''` for the whole document. */
  readonly path: string;
  /** What is wrong and what would be right. */
  readonly message: string;
}

/** Formats one issue as it appears in {@link SpecError.message}: `path: message`, or just `message` for the whole document. */
export function formatIssue(issue: SpecIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

/**
 * Thrown by `parseSpec`/`validateSpec` for any invalid spec. The message lists every issue, one per line,
 * each prefixed with `source: ` when a source name was given.
 */
export class SpecError extends SweepqError {
  declare readonly code: 'SPEC_INVALID';
  readonly issues: readonly SpecIssue[];
  /** Where the spec came from (file name), when the caller said so. */
  readonly source: string | undefined;

  constructor(issues: readonly SpecIssue[], options?: { source?: string | undefined }) {
    const source = options?.source;
    const lines = issues.map((issue) => (source === undefined ? formatIssue(issue) : `${source}: ${formatIssue(issue)}`));
    super('SPEC_INVALID', lines.join('\n'));
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ path: issue.path, message: issue.message })));
    this.source = source;
  }
}
