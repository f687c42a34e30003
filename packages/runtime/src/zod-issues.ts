// How sweepq words a failed zod parse, in one place (subpath `@sweepq/runtime/zod-issues`, zod imported for its types
// only): a spec, an environment, a job payload, a record in the bucket and a prepared dataset's header all report a
// bad value as `path: expected X, got Y`, with paths written as in the spec (`parameters.batch_size.values[2]`).
import type { z } from 'zod';

/** One problem found by a schema: where and what is wrong. */
export interface ZodIssueText {
  /** Dotted path to the offending key (`parameters.learning_rate.min`, `values[2]`); `''` for the whole value. */
  readonly path: string;
  /** What is wrong and what would be right. */
  readonly message: string;
}

/** Options of {@link zodIssues} and {@link formatZodIssues}. */
export interface ZodIssueOptions {
  /** Path segments put before each issue's own path (the schema parsed a part of a larger document); default none. */
  readonly prefix?: readonly PropertyKey[];
  /**
   * Say what was received (`got "fast"`); default true. Off where the caller shows the raw input itself, or where
   * the input may be a secret.
   */
  readonly showInput?: boolean;
}

/** Renders a received value for "got …" in messages: strings quoted, containers by kind, long text cut. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** Path string from path segments: `parameters.batch_size.values[2]`. */
export function joinPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

const EXPECTED: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function bound(kind: 'min' | 'max', value: number | bigint, inclusive: boolean): string {
  return `${kind === 'min' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<'} ${String(value)}`;
}

/** "expected X, got Y" for the issue codes whose zod wording names types rather than what a user writes. */
function zodIssueMessage(issue: z.core.$ZodIssue, showInput: boolean): string {
  // zod reports the input only when parsing with `{ reportInput: true }`: without it, neither "got" nor "required".
  const known = 'input' in issue;
  const missing = known && issue.input === undefined;
  const withInput = (text: string): string => (showInput && known ? `${text}, ${missing ? 'required, missing' : `got ${describeValue(issue.input)}`}` : text);
  const count = (what: string): string => (known ? `, got ${what}` : '');
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return missing ? `required: expected ${expected}` : withInput(`expected ${expected}`);
    }
    case 'invalid_value': {
      const values = issue.values.map(String).join(', ');
      return missing ? `required: expected one of ${values}` : withInput(`expected one of ${values}`);
    }
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `expected at least ${String(issue.minimum)} characters`;
      if (issue.origin === 'array') return `expected at least ${String(issue.minimum)} item(s)${count(String((issue.input as unknown[] | undefined)?.length ?? 0))}`;
      return withInput(`expected a number ${bound('min', issue.minimum, issue.inclusive ?? true)}`);
    case 'too_big':
      if (issue.origin === 'string') return `expected at most ${String(issue.maximum)} characters${count(String((issue.input as string | undefined)?.length ?? '?'))}`;
      if (issue.origin === 'array') return `expected at most ${String(issue.maximum)} items`;
      return withInput(`expected a number ${bound('max', issue.maximum, issue.inclusive ?? true)}`);
    default:
      return issue.message;
  }
}

/**
 * Zod issues as sweepq words them: the path as in a spec, and "expected X, got Y". Parse with
 * `schema.safeParse(value, { reportInput: true })` so the issues carry what was received.
 */
export function zodIssues(issues: readonly z.core.$ZodIssue[], options: ZodIssueOptions = {}): ZodIssueText[] {
  const prefix = options.prefix ?? [];
  const showInput = options.showInput ?? true;
  return issues.map((issue) => ({ path: joinPath([...prefix, ...issue.path]), message: zodIssueMessage(issue, showInput) }));
}

/** {@link zodIssues} as lines `path: message` (`(root)` for the whole value), for an error message or a list of them. */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[], options: ZodIssueOptions = {}): string[] {
  return zodIssues(issues, options).map((issue) => `${issue.path || '(root)'}: ${issue.message}`);
}
