import type { z } from 'zod';
import { describeValue, joinPath } from './describe.js';
import type { SpecIssue } from './errors.js';

const EXPECTED: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function got(input: unknown): string {
  return input === undefined ? 'required, missing' : `got ${describeValue(input)}`;
}

function bound(kind: 'min' | 'max', value: number | bigint, inclusive: boolean): string {
  return `${kind === 'min' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<'} ${String(value)}`;
}

function messageFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (issue.input === undefined) return `required: expected ${expected}`;
      return `expected ${expected}, ${got(issue.input)}`;
    }
    case 'invalid_value':
      if (issue.input === undefined) return `required: expected one of ${issue.values.map(String).join(', ')}`;
      return `expected one of ${issue.values.map(String).join(', ')}, ${got(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `expected at least ${String(issue.minimum)} characters`;
      if (issue.origin === 'array') return `expected at least ${String(issue.minimum)} item(s), got ${(issue.input as unknown[] | undefined)?.length ?? 0}`;
      return `expected a number ${bound('min', issue.minimum, issue.inclusive ?? true)}, ${got(issue.input)}`;
    case 'too_big':
      if (issue.origin === 'string') return `expected at most ${String(issue.maximum)} characters, got ${(issue.input as string | undefined)?.length ?? '?'}`;
      if (issue.origin === 'array') return `expected at most ${String(issue.maximum)} items`;
      return `expected a number ${bound('max', issue.maximum, issue.inclusive ?? true)}, ${got(issue.input)}`;
    default:
      return issue.message;
  }
}

/** Turns zod issues into spec issues with our path format and "expected X, got Y" messages. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): SpecIssue[] {
  return issues.map((issue) => ({ path: joinPath([...prefix, ...issue.path]), message: messageFor(issue) }));
}
