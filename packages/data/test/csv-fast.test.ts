import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { describe, expect, it } from 'vitest';
import { CsvFastReader } from '../src/csv-fast.js';
import { DatasetError } from '../src/errors.js';
import { csvRecords, readDataset } from '../src/readers.js';
import type { TableRecord } from '../src/tsv.js';
import { seededRandom } from '@sweepq/runtime/random';

type Outcome = { records: TableRecord[]; error?: { lines: number | undefined; text: string } };

/** csv-parse alone over the whole text, lines numbered as `csvRecords` did before the fast reader (the reference). */
async function reference(text: string): Promise<Outcome> {
  const parser = parse({ delimiter: ',', info: true, skip_empty_lines: true, relax_quotes: true });
  Readable.from([text]).pipe(parser);
  const records: TableRecord[] = [];
  let prevEnd = 0;
  let prevEmpty = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; empty_lines: number } }>) {
      records.push({ fields: record, line: prevEnd + 1 + (info.empty_lines - prevEmpty) });
      prevEnd = info.lines;
      prevEmpty = info.empty_lines;
    }
  } catch (e) {
    const err = e as { code?: string; lines?: number; message: string };
    const m = /expect (\d+), got (\d+)/.exec(err.message);
    const text =
      err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH'
        ? `the record ending at line ${err.lines}: expected ${m?.[1]} fields (like the first row), found ${m?.[2]}; quote fields that contain commas`
        : `not valid CSV: ${err.message}`;
    return { records, error: { lines: err.lines, text } };
  }
  return { records };
}

/** `csvRecords` fed `text` in chunks of random sizes (so records, `""` and `\r\n` are cut anywhere). */
async function viaReader(text: string, rand: () => number, most = 200): Promise<Outcome> {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; ) {
    const k = 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : most));
    chunks.push(text.slice(i, i + k));
    i += k;
  }
  const records: TableRecord[] = [];
  try {
    for await (const b of csvRecords(Readable.from(chunks), { uri: 'x.csv' })) records.push(...b);
  } catch (e) {
    if (!(e instanceof DatasetError)) throw e;
    return { records, error: { lines: e.line, text: e.message.slice('x.csv: '.length) } };
  }
  return { records };
}

/** A random CSV: mostly well-formed records of `width` fields, with quotes, commas, line breaks, empty lines, odd rows. */
function randomCsv(rand: () => number): string {
  const pick = <T,>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;
  const crlf = rand() < 0.4;
  const eol = (): string => (rand() < 0.03 ? pick(['\n', '\r\n', '\r']) : crlf ? '\r\n' : '\n');
  const width = 1 + Math.floor(rand() * 3);
  const plain = ['a', 'bc', ' ', 'x y', 'é', 'say 5" tv', '', 'Zz'];
  const field = (): string => {
    const r = rand();
    if (r < 0.5) return pick(plain);
    const inner = Array.from({ length: Math.floor(rand() * 4) }, () => pick(['w', ',', '""', '\n', '\r\n', ' ', 'q', '\r'])).join('');
    if (r < 0.97) return `"${inner}"`;
    // Odd quoting: csv-parse's relax_quotes reading (or its error).
    return pick([`"${inner}"x`, `"${inner}`, `a"${inner}"`, `"${inner}" `]);
  };
  const lines: string[] = [];
  const rows = Math.floor(rand() * 12);
  for (let r = 0; r < rows; r++) {
    if (rand() < 0.1) {
      lines.push(eol());
      continue;
    }
    const w = rand() < 0.04 ? width + pick([-1, 1]) : width;
    lines.push(Array.from({ length: Math.max(1, w) }, field).join(',') + (r < rows - 1 || rand() < 0.7 ? eol() : ''));
  }
  return lines.join('');
}

describe('CSV fast reader vs csv-parse', () => {
  it('gives the same records, lines and errors on random files', async () => {
    const rand = seededRandom(7);
    let fastErrors = 0;
    for (let k = 0; k < 4000; k++) {
      const text = randomCsv(rand);
      const want = await reference(text);
      const got = await viaReader(text, rand);
      expect({ text, ...got }).toEqual({ text, ...want });
      if (want.error !== undefined) fastErrors++;
    }
    // The generator makes both kinds: files read to the end and files csv-parse refuses.
    expect(fastErrors).toBeGreaterThan(100);
    expect(fastErrors).toBeLessThan(3000);
  });

  it('reads a file the fast reader takes whole, and one it hands over after its first records', async () => {
    const rand = seededRandom(3);
    const body = Array.from({ length: 3000 }, (_, i) => `"row ${i}, ""q""\nmore",c${i % 3}`).join('\r\n');
    // The last: a record longer than the fast reader buffers, handed over whole.
    const long = `"${'ab\n'.repeat(CsvFastReader.MAX_RECORD_CHARS / 3 + 10)}",c1`;
    for (const text of [`text,label\r\n${body}\r\n`, `text,label\r\n${body}\r\n"bad"x,c1\r\nlast,c2\r\n\r\n`, `text,label\r\n${body}\r\nlone\rcr,c1\r\n`, `text,label\r\n${body}\r\n${long}\r\nlast,c2\r\n`]) {
      const want = await reference(text);
      expect(await viaReader(text, rand, 256 * 1024)).toEqual(want);
      expect(want.records.length).toBeGreaterThan(3000);
    }
  });

  it('hands over a record longer than it buffers instead of rescanning it', () => {
    const r = new CsvFastReader();
    const out: TableRecord[] = [];
    r.push('text,label\n"', out);
    const piece = 'x'.repeat(1 << 20);
    for (let i = 0; i < 3; i++) r.push(piece, out);
    expect(r.stopped).toBe(false);
    r.push(piece + piece, out);
    expect(r.stopped).toBe(true);
    expect(out).toEqual([{ fields: ['text', 'label'], line: 1 }]);
    expect(r.rest()).toMatchObject({ primed: true, lineOffset: 0, emptyOffset: 0 });
  });

  it('reads a record cut into tiny pieces on from where the last piece ended: each character is scanned once', async () => {
    // Long records of every kind (quoted with "" and line breaks, unquoted, an empty field, a comma at the end).
    const long = (k: number): string => `"${'a""b\r\nc,'.repeat(k)}",${'x'.repeat(9 * k)}\r\n`;
    const text = `text,label\r\n${long(2500)}short,y\r\n,${'z'.repeat(20_000)}\r\n${long(1500)}${'w'.repeat(9000)},`;
    const want = await reference(text);
    expect(want.error).toBeUndefined();
    for (const size of [1, 2, 7, 1024]) {
      const r = new CsvFastReader();
      const out: TableRecord[] = [];
      let pushes = 0;
      for (let i = 0; i < text.length; i += size, pushes++) r.push(text.slice(i, i + size), out);
      r.end(out);
      expect(r.stopped).toBe(false);
      expect(out).toEqual(want.records);
      // Rescanning a record from its start on every piece (as before) handed the scans 1.5 * 10^9 characters here.
      expect(r.scanned, `pieces of ${size}`).toBeLessThanOrEqual(text.length + pushes);
    }
  });

  it('yields at most 2,000 records at a time, however many one chunk of text holds', async () => {
    const rows = Array.from({ length: 9999 }, (_, i) => `r${i},c${i % 2}\n`).join('');
    // The second file is handed over to csv-parse in its last record, with thousands of records read before.
    for (const text of [`text,label\n${rows}`, `text,label\n${rows}"odd"x,c1\n`]) {
      const sizes: number[] = [];
      const records: TableRecord[] = [];
      for await (const b of csvRecords(Readable.from([text]), { uri: 'x.csv' })) {
        sizes.push(b.length);
        records.push(...b);
      }
      expect(Math.max(...sizes)).toBe(2000);
      expect(records).toEqual((await reference(text)).records);
    }
  });
});


describe('a failed read of the source', () => {
  // 6,000 rows the fast reader takes, then (or not) a record it hands to csv-parse, then the connection drops.
  const head = 'text,label\n' + 'hello world,a\nbye now,b\n'.repeat(3000);
  for (const [reader, tail] of [
    ['the fast reader', ''],
    ['csv-parse', '"odd"x,b\n'],
  ] as const) {
    it(`stays the source's error, retryable, while ${reader} reads`, async () => {
      const fetcher = async (): Promise<AsyncIterable<Uint8Array>> =>
        (async function* () {
          yield new TextEncoder().encode(head + tail);
          yield new TextEncoder().encode('more,a\n');
          throw new Error('s3: connection reset; will be retried');
        })();
      const err = await readDataset({ uri: 's3://b/k.csv' }, { row: () => undefined }, fetcher).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(DatasetError);
      expect((err as Error).message).toBe('s3: connection reset; will be retried');
    });
  }
});
