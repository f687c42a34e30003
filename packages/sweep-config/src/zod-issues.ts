import type { z } from 'zod';
import { zodIssues } from '@sweepq/runtime/zod-issues';
import type { SpecIssue } from './errors.js';

/** Turns zod issues into spec issues with sweepq's one wording of them (`@sweepq/runtime/zod-issues`). */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): SpecIssue[] {
  return zodIssues(issues, { prefix });
}
