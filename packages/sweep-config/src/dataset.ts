import { z } from 'zod';
import { describeValue, suggestName, unknownKeyMessage } from './describe.js';
import type { SpecIssue } from './errors.js';
import { isPlainMapping } from './normalize-parameter.js';
import { DATASET_FORMATS } from './types.js';
import type { DatasetFormat, DatasetSpec } from './types.js';
import { fromZodIssues } from './zod-issues.js';

/** Dataset used when a spec has no `dataset` block. */
export const DEFAULT_DATASET_URI = 'builtin:spam-assassin';

/** Names accepted after `builtin:` (the data package holds their loaders). */
export const BUILTIN_DATASETS = ['spam-assassin'] as const;

const EXTENSIONS: Readonly<Record<string, DatasetFormat>> = { '.csv': 'csv', '.tsv': 'tsv', '.tab': 'tsv', '.jsonl': 'jsonl', '.ndjson': 'jsonl' };

/** A header name, or a 0-based column index (CSV/TSV without a header). */
const fieldRef = z.union([z.string().min(1).max(200), z.number().int().min(0).max(100_000)]);

const datasetSchema = z
  .object({
    uri: z.string().min(1).max(4096).default(DEFAULT_DATASET_URI),
    format: z.enum(DATASET_FORMATS).optional(),
    header: z.boolean().optional(),
    // Soft defaults: when no column has this name, the data package infers the column (docs/datasets.md).
    text_field: fieldRef.default('text'),
    label_field: fieldRef.default('label'),
    validation_split: z.number().min(0).lt(1).default(0.2),
    test_split: z.number().min(0).lt(1).default(0.1),
    seed: z.number().int().min(0).max(0xffff_ffff).default(42),
    max_rows: z.number().int().positive().optional(),
  })
  .superRefine((d, ctx) => {
    if (d.validation_split + d.test_split >= 1) {
      ctx.addIssue({ code: 'custom', path: ['test_split'], message: `validation_split + test_split must be < 1 to leave training rows, got ${d.validation_split} + ${d.test_split}` });
    }
    if (d.text_field === d.label_field) {
      ctx.addIssue({ code: 'custom', path: ['label_field'], message: `must differ from text_field (both are ${JSON.stringify(d.text_field)})` });
    }
  });

const DATASET_KEYS = ['uri', 'format', 'header', 'text_field', 'label_field', 'validation_split', 'test_split', 'seed', 'max_rows'] as const;

type UriKind = 'builtin' | 's3' | 'file' | 'https';

/** Classifies a dataset URI or returns a message saying what is wrong with it. */
function classifyUri(uri: string): { kind: UriKind; path: string } | { error: string } {
  if (uri.includes('\0')) return { error: 'must not contain NUL characters' };
  if (uri.startsWith('builtin:')) {
    const name = uri.slice('builtin:'.length);
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) return { error: `expected builtin:<name> with a name of [a-z0-9_-], got ${JSON.stringify(uri)}` };
    if (!(BUILTIN_DATASETS as readonly string[]).includes(name)) {
      const guess = suggestName(name.replace(/_/g, '-'), BUILTIN_DATASETS);
      const available = BUILTIN_DATASETS.map((b) => `builtin:${b}`).join(', ');
      return { error: `unknown built-in dataset ${JSON.stringify(uri)}${guess === undefined ? '' : `; did you mean builtin:${guess}?`} Available: ${available}, or a file (local path, file:// or s3://)` };
    }
    return { kind: 'builtin', path: name };
  }
  if (uri.startsWith('s3://')) {
    const rest = uri.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const key = slash < 0 ? '' : rest.slice(slash + 1);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) return { error: `expected s3://bucket/key with a valid bucket name (3-63 characters of a-z 0-9 . -), got ${JSON.stringify(uri)}` };
    if (key === '' || key.endsWith('/')) return { error: `expected s3://bucket/key naming one object, got ${JSON.stringify(uri)}` };
    return { kind: 's3', path: key };
  }
  if (uri.startsWith('file:')) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return { error: `expected a file URL such as file:///data/train.csv, got ${JSON.stringify(uri)}` };
    }
    if (url.host !== '' || url.pathname === '/' || url.pathname === '') return { error: `expected a file URL such as file:///data/train.csv, got ${JSON.stringify(uri)}` };
    return { kind: 'file', path: decodeURIComponent(url.pathname) };
  }
  if (uri.startsWith('https://')) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return { error: `expected a URL such as https://example.com/data/train.csv, got ${JSON.stringify(uri)}` };
    }
    if (url.pathname === '/' || url.pathname === '') return { error: `expected https://host/path naming one file, got ${JSON.stringify(uri)}` };
    return { kind: 'https', path: url.pathname };
  }
  // A scheme other than ours (http:, gs:, …); a Windows drive letter (C:\) is a local path.
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(uri);
  if (scheme !== null) return { error: `unsupported scheme ${JSON.stringify(`${scheme[1] ?? ''}:`)}; use builtin:<name>, s3://bucket/key, https://… or a local path` };
  return { kind: 'file', path: uri };
}

/**
 * The format a file name's extension names (`.csv`; `.tsv`, `.tab`; `.jsonl`, `.ndjson`; each optionally followed
 * by `.gz`), or undefined: the data package then tells the format from the content.
 */
export function formatFromExtension(path: string): DatasetFormat | undefined {
  const match = /(\.[a-z0-9]+)(\.gz)?$/i.exec(path.replace(/[?#].*$/, ''));
  return match === null ? undefined : EXTENSIONS[(match[1] ?? '').toLowerCase()];
}

/**
 * Validates the `dataset` block (absent means all defaults), resolving `format` from a file's extension when it
 * names one. Header and columns are checked against the file by the data package (`loadCheckedDataset`).
 */
export function normalizeDataset(raw: unknown, issues: SpecIssue[]): DatasetSpec | undefined {
  const value = raw === undefined || raw === null ? {} : raw;
  if (!isPlainMapping(value)) {
    issues.push({ path: 'dataset', message: `expected a mapping, got ${describeValue(value)}` });
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(value)) {
    if (!(DATASET_KEYS as readonly string[]).includes(key)) {
      issues.push({ path: `dataset.${key}`, message: unknownKeyMessage('key', key, DATASET_KEYS) });
      ok = false;
    }
  }
  const parsed = datasetSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    issues.push(...fromZodIssues(parsed.error.issues, ['dataset']));
    return undefined;
  }
  const d = parsed.data;
  const where = classifyUri(d.uri);
  if ('error' in where) {
    issues.push({ path: 'dataset.uri', message: where.error });
    return undefined;
  }
  let format = d.format;
  if (where.kind === 'builtin') {
    if (format !== undefined) {
      issues.push({ path: 'dataset.format', message: `builtin datasets have a fixed format; remove format (got ${format})` });
      ok = false;
    }
  } else {
    format ??= formatFromExtension(where.path);
  }
  if (!ok) return undefined;
  const out: DatasetSpec = {
    uri: d.uri,
    text_field: d.text_field,
    label_field: d.label_field,
    validation_split: d.validation_split,
    test_split: d.test_split,
    seed: d.seed,
  };
  if (format !== undefined) out.format = format;
  if (d.header !== undefined) out.header = d.header;
  if (d.max_rows !== undefined) out.max_rows = d.max_rows;
  return out;
}
