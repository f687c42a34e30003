import { isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { SpecError } from './errors.js';
import type { SpecIssue } from './errors.js';
import type { SweepSpec } from './types.js';
import { validateSpec } from './validate.js';

/** Default limit on spec text size: 1 MiB. */
export const DEFAULT_MAX_SPEC_BYTES = 1024 * 1024;

/** Aliases allowed per document; far above what a hand-written spec uses, far below a "billion laughs" bomb. */
export const MAX_YAML_ALIASES = 100;

export interface ParseSpecOptions {
  /** Name of the file or stream, prefixed to every line of a SpecError message. */
  source?: string;
  /** Reject text longer than this many UTF-8 bytes. Default 1 MiB. */
  maxBytes?: number;
}

function yamlIssue(error: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }): SpecIssue {
  const first = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').trim();
  const pos = error.linePos?.[0];
  return { path: '', message: pos === undefined ? `YAML syntax error: ${first}` : `YAML syntax error at line ${pos.line}, column ${pos.col}: ${first}` };
}

function fail(issues: SpecIssue[], source: string | undefined): never {
  throw new SpecError(issues, { source });
}

/** Parses spec text to plain data, rejecting oversize input, syntax errors, alias bombs and anything but one mapping. */
export function parseSpecDocument(text: string, opts: ParseSpecOptions = {}): Record<string, unknown> {
  const source = opts.source;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_SPEC_BYTES;
  if (typeof text !== 'string') fail([{ path: '', message: `expected the spec as text, got ${typeof text}` }], source);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) fail([{ path: '', message: `the spec is ${bytes} bytes, more than the ${maxBytes} allowed` }], source);

  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true, merge: false, schema: 'core' });
  if (docs.length === 0) fail([{ path: '', message: 'the spec is empty; expected a mapping with method, metric and parameters' }], source);
  if (docs.length > 1) fail([{ path: '', message: `found ${docs.length} YAML documents; a spec is a single document (remove the --- separators)` }], source);
  const doc = docs[0];
  if (doc === undefined) fail([{ path: '', message: 'the spec is empty' }], source);
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) fail(problems.map(yamlIssue), source);

  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === undefined))) {
    fail([{ path: '', message: 'the spec is empty; expected a mapping with method, metric and parameters' }], source);
  }
  if (!isMap(contents)) {
    const got = isSeq(contents) ? 'a list' : 'a single value';
    fail([{ path: '', message: `expected a mapping at the top level (method:, metric:, parameters:, …), got ${got}` }], source);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/alias/i.test(message)) {
      fail([{ path: '', message: `too many YAML aliases (over ${MAX_YAML_ALIASES} expansions); a spec needs few or none` }], source);
    }
    fail([{ path: '', message: `cannot read the YAML: ${message}` }], source);
  }
  return data as Record<string, unknown>;
}

/**
 * Parses and validates a sweep spec written in YAML (or JSON, which is YAML) in the W&B sweep-config dialect.
 * @param text the file content.
 * @param opts `source` names the file in messages; `maxBytes` (default 1 MiB) caps the input size.
 * @returns the resolved spec (see `validateSpec`).
 * @throws SpecError listing every problem: size, YAML syntax (with line and column), alias bombs, more than one
 *   document, a non-mapping document, and every validation issue.
 */
export function parseSpec(text: string, opts: ParseSpecOptions = {}): SweepSpec {
  const data = parseSpecDocument(text, opts);
  try {
    return validateSpec(data);
  } catch (error) {
    if (error instanceof SpecError && opts.source !== undefined) throw new SpecError(error.issues, { source: opts.source });
    throw error;
  }
}
