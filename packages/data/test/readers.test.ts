import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError, loadDataset } from '../src/index.js';
import type { DatasetSource, RawDataset } from '../src/index.js';
import { failure, tempFiles } from './helpers.js';

const file = tempFiles('sweepq-data-');
const src = (uri: string, extra: Partial<DatasetSource> = {}): DatasetSource => ({ uri, textField: 'text', labelField: 'label', ...extra });
const rows = (ds: RawDataset): { texts: string[]; labels: string[] } => ({ texts: ds.texts, labels: ds.labels });

describe('CSV', () => {
  it('reads quoted commas, multi-line quoted fields, a BOM, CRLF and three classes', async () => {
    const p = await file('a.csv', '\uFEFFid,text,label\r\n1,"hello, world",greeting\r\n2,"line one\r\nline two",multi\r\n\r\n3,"say ""hi""",quote\r\n4,plain,greeting\r\n');
    const ds = await loadDataset(src(p));
    expect(ds.texts).toEqual(['hello, world', 'line one\r\nline two', 'say "hi"', 'plain']);
    expect(ds.labels).toEqual(['greeting', 'multi', 'quote', 'greeting']);
  });
  it('stringifies numeric labels and trims label whitespace', async () => {
    const p = await file('n.csv', 'text,label\na,1\nb, 0\nc,2\n');
    expect((await loadDataset(src(p))).labels).toEqual(['1', '0', '2']);
  });
  it('accepts file:// URLs, custom columns and maxRows', async () => {
    const p = await file('c.csv', 'body,category\nx,a\ny,b\nz,c\n');
    const ds = await loadDataset(src(pathToFileURL(p).href, { textField: 'body', labelField: 'category', maxRows: 2 }));
    expect(rows(ds)).toEqual({ texts: ['x', 'y'], labels: ['a', 'b'] });
  });
  it('cuts texts longer than maxTextChars', async () => {
    const p = await file('long.csv', `text,label\n${'a'.repeat(50)},x\nb,y\n`);
    expect((await loadDataset(src(p, { maxTextChars: 10 }))).texts[0]).toBe('a'.repeat(10));
  });
});

describe('TSV and JSONL', () => {
  it('reads TSV, inferring the format from .tsv', async () => {
    const p = await file('d.tsv', 'text\tlabel\nhas, commas\tpos\nsays 5" screen\tneg\n');
    expect(rows(await loadDataset(src(p)))).toEqual({ texts: ['has, commas', 'says 5" screen'], labels: ['pos', 'neg'] });
  });
  it('reads JSONL with numeric labels and blank lines; format may be explicit', async () => {
    const p = await file('d.data', '{"text":"one","label":1}\n\n{"text":"two\\nlines","label":2,"extra":true}\r\n{"text":"three","label":3}\n');
    expect(rows(await loadDataset(src(p, { format: 'jsonl' })))).toEqual({ texts: ['one', 'two\nlines', 'three'], labels: ['1', '2', '3'] });
  });
  it('reads s3:// URIs through the fetcher', async () => {
    const seen: string[] = [];
    const fetcher = async (uri: string): Promise<Uint8Array> => {
      seen.push(uri);
      return new TextEncoder().encode('text,label\na,x\nb,y\n');
    };
    expect(rows(await loadDataset(src('s3://bucket/path/data.csv'), fetcher))).toEqual({ texts: ['a', 'b'], labels: ['x', 'y'] });
    expect(seen).toEqual(['s3://bucket/path/data.csv']);
  });
  it('reads UTF-16 files with a BOM', async () => {
    const body = Buffer.from('text,label\ncafé,x\nb,y\n', 'utf16le');
    const p = await file('u16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), body]));
    expect((await loadDataset(src(p))).texts).toEqual(['café', 'b']);
  });
});

describe('errors name the file, row, column, what was expected and what was found', () => {
  it('DATASET_NOT_FOUND', async () => {
    const e = await failure(loadDataset(src(join(import.meta.dirname, 'no-such-dir', 'missing.csv'))));
    expect(e.code).toBe('DATASET_NOT_FOUND');
    expect(e.message).toMatch(/missing\.csv: file not found \(resolved to .*missing\.csv\)/);
    const b = await failure(loadDataset(src('builtin:imdb')));
    expect(b.message).toBe('builtin:imdb: unknown built-in dataset "imdb"; available: builtin:spam-assassin');
  });
  it('DATASET_COLUMN_MISSING lists the columns and the option to set', async () => {
    const p = await file('data.csv', 'text,category\na,x\n');
    const e = await failure(loadDataset(src(p, { labelField: 'class' })));
    expect(e.code).toBe('DATASET_COLUMN_MISSING');
    expect(e.message).toBe(
      `${p}: column "class" not found; columns are: text, category (set dataset.label_field; if the file has no header row, give 0-based column indices, e.g. text_field: 1, label_field: 0)`,
    );
    expect(e.column).toBe('class');
    const t = await file('tabs.csv', 'text\tlabel\na\tx\n');
    expect((await failure(loadDataset(src(t)))).message).toMatch(/one column \(it contains tabs: is this a TSV file\? set dataset\.format: tsv\)/);
    const j = await file('k.jsonl', '{"body":"a","label":"x"}\n');
    expect((await failure(loadDataset(src(j)))).message).toBe(`${j}: field "text" not found in the first object (line 1); fields are: body, label (set dataset.text_field)`);
  });
  it('DATASET_EMPTY for an empty file and for a header without rows', async () => {
    const a = await failure(loadDataset(src(await file('empty.csv', ''))));
    expect(a.code).toBe('DATASET_EMPTY');
    expect(a.message).toMatch(/the file is empty; expected rows of text and label \(with or without a header row\)/);
    const b = await failure(loadDataset(src(await file('header.csv', 'text,label\n'))));
    expect(b.code).toBe('DATASET_EMPTY');
    expect(b.message).toMatch(/no data rows/);
  });
  it('DATASET_ONE_CLASS', async () => {
    const e = await failure(loadDataset(src(await file('one.csv', 'text,label\na,spam\nb,spam\n'))));
    expect(e.code).toBe('DATASET_ONE_CLASS');
    expect(e.message).toMatch(/one\.csv: column "label" has only one class \("spam", 2 rows\); expected at least 2 classes$/);
  });
  it('DATASET_BAD_ROW for empty text, missing label, wrong field count, bad JSON and non-objects', async () => {
    const p1 = await file('e1.csv', 'text,label\nok,a\n"multi\nline",b\n  ,a\n');
    const e1 = await failure(loadDataset(src(p1)));
    expect(e1.code).toBe('DATASET_BAD_ROW');
    expect(e1.message).toBe(`${p1}: row 3 (line 5): column "text" is empty; expected some text (rows are never dropped silently: fix or remove the row)`);
    expect([e1.row, e1.line, e1.column]).toEqual([3, 5, 'text']);
    const p2 = await file('e2.csv', 'text,label\nok,a\nno label,\n');
    expect((await failure(loadDataset(src(p2)))).message).toBe(`${p2}: row 2 (line 3): column "label" is empty; expected a class label`);
    const p3 = await file('e3.csv', 'text,label\nok,a\nhello, world,b\n');
    const e3 = await failure(loadDataset(src(p3)));
    expect(e3.code).toBe('DATASET_BAD_ROW');
    expect(e3.message).toBe(`${p3}: the record ending at line 3: expected 2 fields (like the first row), found 3; quote fields that contain commas`);
    const p4 = await file('e4.jsonl', '{"text":"a","label":"x"}\n{"text":"b",\n');
    expect((await failure(loadDataset(src(p4)))).message).toMatch(/e4\.jsonl: row 2 \(line 2\): not valid JSON \(.*\); expected one JSON object per line$/);
    const p5 = await file('e5.jsonl', '{"text":"a","label":"x"}\n["b","y"]\n');
    expect((await failure(loadDataset(src(p5)))).message).toBe(`${p5}: row 2 (line 2): expected a JSON object, found an array`);
    const p6 = await file('e6.jsonl', '{"text":"a","label":"x"}\n{"text":"b"}\n');
    expect((await failure(loadDataset(src(p6)))).message).toBe(`${p6}: row 2 (line 2): field "label" is missing; expected a class label (fields are: text)`);
    const p7 = await file('e7.jsonl', '{"text":"a","label":"x"}\n{"text":5,"label":"y"}\n');
    expect((await failure(loadDataset(src(p7)))).message).toBe(`${p7}: row 2 (line 2): field "text" expected a string, found number 5`);
  });
  it('DATASET_TOO_LARGE', async () => {
    const p = await file('big.csv', 'text,label\na,x\nb,y\n');
    const e = await failure(loadDataset(src(p, { maxBytes: 10 })));
    expect(e.code).toBe('DATASET_TOO_LARGE');
    expect(e.message).toBe(`${p}: 19 bytes is larger than the limit of 10 bytes; use a smaller file (a sample of the rows), or raise the limit (DATASET_MAX_BYTES on the coordinator)`);
    const s3 = await failure(loadDataset(src('s3://b/k.csv', { maxBytes: 3 }), async () => new Uint8Array(4)));
    expect(s3.code).toBe('DATASET_TOO_LARGE');
    // A streamed object is counted as it arrives, and so is a decompressed one.
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 10; i++) yield new TextEncoder().encode('text,label\na,x\nb,y\n');
    };
    const streamed = await failure(loadDataset(src('s3://b/k.csv', { maxBytes: 100 }), async () => chunks()));
    expect(streamed.message).toBe('s3://b/k.csv: more than the limit of 100 bytes; use a smaller file (a sample of the rows), or raise the limit (DATASET_MAX_BYTES on the coordinator)');
    const bomb = await file('bomb.csv.gz', gzipSync(`text,label\n${'a,x\n'.repeat(10_000)}`));
    const unzipped = await failure(loadDataset(src(bomb, { maxBytes: 1000 })));
    expect(unzipped.message).toMatch(/bomb\.csv\.gz: decompressed, the file is larger than the limit of 1000 bytes/);
  });
  it('DATASET_FORMAT for content of no known format and unparseable CSV', async () => {
    const a = await failure(loadDataset(src(await file('data.txt', 'x'))));
    expect(a.code).toBe('DATASET_FORMAT');
    expect(a.message).toMatch(/data\.txt: cannot tell the format from the content \(the first line has no tab, no comma and is not a JSON object\); set dataset\.format to csv, tsv or jsonl$/);
    const j = await failure(loadDataset(src(await file('array.json', '[{"text":"a","label":"x"}]\n'))));
    expect(j.message).toMatch(/array\.json: the file starts with "\[" \(a JSON array\?\); expected JSON Lines/);
    const b = await failure(loadDataset(src(await file('q.csv', 'text,label\n"unclosed,x\n'))));
    expect(b.code).toBe('DATASET_FORMAT');
    expect(b.message).toMatch(/q\.csv: not valid CSV: Quote Not Closed/);
  });
  it('DATASET_SOURCE for s3:// without a fetcher and unsupported schemes; DATASET_OPTIONS for bad limits', async () => {
    const a = await failure(loadDataset(src('s3://bucket/data.csv')));
    expect(a.code).toBe('DATASET_SOURCE');
    expect(a.message).toBe('s3://bucket/data.csv: an s3:// dataset needs an object fetcher, and none was given');
    expect((await failure(loadDataset(src('ftp://example.com/d.csv')))).code).toBe('DATASET_SOURCE');
    const c = await failure(loadDataset(src('x.csv', { maxRows: 0 })));
    expect(c.message).toBe('dataset.max_rows: expected an integer >= 1, got 0');
  });
  it('lets fetcher errors through unchanged (so transient S3 failures stay retryable)', async () => {
    const boom = new Error('503 Slow Down');
    await expect(loadDataset(src('s3://b/k.csv'), () => Promise.reject(boom))).rejects.toBe(boom);
  });
});

describe('https:// (here http:// on loopback)', () => {
  let server: Server;
  let base = '';
  const body = `text,label\n${'one,a\ntwo,b\n'.repeat(2000)}`;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/data.csv') {
        // Two chunks with a pause between them: the reader takes them as they come.
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.write(body.slice(0, 1000));
        setTimeout(() => res.end(body.slice(1000)), 50);
      } else if (req.url === '/stalls.csv') {
        res.writeHead(200);
        res.write('text,label\n');
      } else if (req.url === '/big.csv') {
        res.writeHead(200, { 'content-length': '5000' });
        res.end('x'.repeat(5000));
      } else if (req.url === '/down.csv') {
        res.writeHead(503);
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  it('streams the file; 404 is DATASET_NOT_FOUND, a size over the guard DATASET_TOO_LARGE, 503 and silence are retryable errors', async () => {
    expect((await loadDataset(src(`${base}/data.csv`))).texts).toHaveLength(4000);
    const missing = await failure(loadDataset(src(`${base}/nope.csv`)));
    expect([missing.code, missing.message]).toEqual(['DATASET_NOT_FOUND', `${base}/nope.csv: HTTP 404 Not Found; check dataset.uri`]);
    expect((await failure(loadDataset(src(`${base}/big.csv`, { maxBytes: 1000 })))).code).toBe('DATASET_TOO_LARGE');
    const down = await loadDataset(src(`${base}/down.csv`)).catch((e: unknown) => e as Error);
    expect(down).not.toBeInstanceOf(DatasetError);
    expect((down as Error).message).toBe(`${base}/down.csv: HTTP 503 Service Unavailable; will be retried`);
    const stalled = await loadDataset(src(`${base}/stalls.csv`, { timeoutMs: 300 })).catch((e: unknown) => e as Error);
    expect(stalled).not.toBeInstanceOf(DatasetError);
    expect((stalled as Error).message).toMatch(/stalls\.csv: reading failed \(.*no data for 300 ms\); will be retried$/);
  });
});

describe('streaming', () => {
  const inPieces = (bytes: Uint8Array, size: number) =>
    async function* (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    };
  it('reads the same rows whatever the chunk boundaries (multi-line quoted TSV and CSV records, CRLF, UTF-8, UTF-16, gzip)', async () => {
    const sms = new Uint8Array(await readFile(join(import.meta.dirname, 'fixtures', 'SMSSpamCollection')));
    const tsv = new TextEncoder().encode('text\tlabel\n"two\nlines"\tx\nsays 5" screen\ty\n\n"a ""quoted""\r\nrecord"\tx\nplain\ty\n');
    const csv = new TextEncoder().encode('\uFEFFid,text,label\r\n1,"hello, world",greeting\r\n2,"line one\r\nline two",multi\r\n\r\n3,"say ""hi""",quote\r\n4,plain,greeting\r\n');
    const jsonl = new TextEncoder().encode('{"text":"one","label":1}\n\n{"text":"two\\nlines","label":2}\r\n{"text":"thré","label":3}');
    const u16 = new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('text,label\ncafé,x\nb,y\n', 'utf16le')]));
    const cases: [string, Uint8Array, Partial<DatasetSource>][] = [
      ['s3://b/sms.tsv', sms, { textField: 1, labelField: 0, header: false }],
      ['s3://b/q.tsv', tsv, {}],
      ['s3://b/a.csv', csv, {}],
      ['s3://b/a.csv.gz', new Uint8Array(gzipSync(csv)), {}],
      ['s3://b/d.jsonl', jsonl, {}],
      ['s3://b/u16.csv', u16, {}],
    ];
    for (const [uri, bytes, extra] of cases) {
      const whole = rows(await loadDataset(src(uri, extra), async () => bytes));
      expect(whole.texts.length, uri).toBeGreaterThan(1);
      for (const size of [1, 2, 3, 7, 64]) {
        expect(rows(await loadDataset(src(uri, extra), async () => inPieces(bytes, size)())), `${uri} in pieces of ${size}`).toEqual(whole);
      }
    }
    expect(rows(await loadDataset(src('s3://b/q.tsv'), async () => tsv)).texts).toEqual(['two\nlines', 'says 5" screen', 'a "quoted"\r\nrecord', 'plain']);
  });
  it('stops reading at maxRows', async () => {
    let pulled = 0;
    const body = new TextEncoder().encode(`text,label\n${'a,x\nb,y\n'.repeat(100_000)}`);
    const pieces = async function* (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < body.length; i += 4096, pulled++) yield body.subarray(i, i + 4096);
    };
    expect((await loadDataset(src('s3://b/big.csv', { maxRows: 10 }), async () => pieces())).texts).toHaveLength(10);
    expect(pulled).toBeLessThan(Math.ceil(body.length / 4096) / 2);
  });
});
