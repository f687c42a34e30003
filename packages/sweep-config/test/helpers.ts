import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { SpecError, parseSpec, validateSpec } from '../src/index.js';

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

/** Runs fn, asserts it throws a SpecError, and returns it. */
export function specError(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SpecError);
    return error as SpecError;
  }
  throw new Error('expected a SpecError, nothing was thrown');
}

export function parseError(text: string, opts?: { source?: string; maxBytes?: number }): SpecError {
  return specError(() => parseSpec(text, opts));
}

export function validateError(obj: unknown): SpecError {
  return specError(() => validateSpec(obj));
}

/** A minimal valid spec object to vary in tests. */
export function base(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { method: 'grid', parameters: {}, ...extra };
}

/** The message of the issue a spec has at `path` (fails the test when there is none). */
export function issueFor(obj: unknown, path: string): string {
  const error = validateError(obj);
  const issue = error.issues.find((i) => i.path === path);
  if (issue === undefined) throw new Error(`no issue at ${path}; got:\n${error.message}`);
  return issue.message;
}
