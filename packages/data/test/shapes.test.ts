import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { DatasetSpec } from '@sweepq/sweep-config';
import { describeDataset, loadCheckedDataset, loadDataset } from '../src/index.js';
import type { DatasetSource, RawDataset } from '../src/index.js';
import { failure, tempFiles } from './helpers.js';

/** A file shaped like the UCI SMS Spam Collection: `label<TAB>message`, no header, bare quotes in messages. */
const SMS_FIXTURE = join(import.meta.dirname, 'fixtures', 'SMSSpamCollection');

const file = tempFiles('sweepq-shapes-');
/** A dataset block as the spec resolves it when only `uri` is written. */
const block = (uri: string, extra: Partial<DatasetSpec> = {}): DatasetSpec => ({
  uri,
  text_field: 'text',
  label_field: 'label',
  validation_split: 0.2,
  test_split: 0.1,
  seed: 42,
  ...extra,
});
const read = (uri: string, extra: Partial<DatasetSource> = {}): Promise<RawDataset> => loadDataset({ uri, ...extra });
const rows = (ds: RawDataset): [string, string][] => ds.texts.map((t, i) => [ds.labels[i] as string, t]);

describe('the SMS Spam Collection shape (TSV, no header, label first, no extension)', () => {
  it('reads with only the uri: format from the content, no header (the first label recurs), label column 0', async () => {
    const { raw, summary } = await loadCheckedDataset(block(SMS_FIXTURE));
    expect(summary.rows).toBe(96);
    expect(summary.classCounts).toEqual({ ham: 71, spam: 25 });
    expect(summary.layout).toEqual({ format: 'tsv', formatFrom: 'content', gzip: false, header: false, headerFrom: 'labels', text: '1', label: '0' });
    expect(raw.texts[0]).toBe('Go until jurong point, crazy.. Available only in bugis n great world la e buffet... Cine there got amore wat...');
    expect(summary.sizes.train + summary.sizes.validation + summary.sizes.test).toBe(96);
    expect(describeDataset(summary)).toBe('96 rows, 2 classes (ham 71, spam 25); TSV by content; no header row; text column 1, label column 0; split 67/19/10');
  });
  it('keeps bare quotes as text: a message that opens a quote never swallows the lines after it', async () => {
    const raw = await read(SMS_FIXTURE);
    expect(raw.texts).toHaveLength(96);
    expect(raw.texts[5]).toBe('"Hey babe, I saw you came online for a second and then you disappeared, what happened?');
    expect(raw.texts[9]).toBe('He said "ok" and left');
    expect(raw.texts[10]).toBe('My phone says 5" screen is too small');
    expect(raw.texts[13]).toBe('"Wow" is all I can say');
    expect(raw.texts[21]).toBe('Tell him I said hi"');
    expect(new Set(raw.labels)).toEqual(new Set(['ham', 'spam']));
  });
  it('a quote opened on one line and closed at the end of a later one stays two rows (pandas would merge them)', async () => {
    const p = await file('swallow.tsv', 'ham\t"Hi there\nham\tsee you"\nspam\twin now\nham\tok\n');
    expect(rows(await read(p))).toEqual([
      ['ham', '"Hi there'],
      ['ham', 'see you"'],
      ['spam', 'win now'],
      ['ham', 'ok'],
    ]);
  });
  it('reads the same rows gzip-compressed, with or without a .gz name', async () => {
    const plain = await read(SMS_FIXTURE);
    const gz = gzipSync(await readFile(SMS_FIXTURE));
    for (const name of ['SMSSpamCollection.gz', 'sms.tsv.gz', 'sms-no-extension']) {
      const ds = await read(await file(name, gz));
      expect(rows(ds)).toEqual(rows(plain));
      expect(ds.layout?.gzip).toBe(true);
    }
  });
  it('takes explicit columns and header: false as the same reading', async () => {
    const auto = await read(SMS_FIXTURE);
    const explicit = await read(SMS_FIXTURE, { format: 'tsv', header: false, textField: 1, labelField: 0 });
    expect(rows(explicit)).toEqual(rows(auto));
    expect(explicit.layout?.headerFrom).toBe('option');
  });
});

describe('CSV and TSV with and without a header', () => {
  const body = ['spam,"Free entry, call now"', 'ham,see you at 7', 'ham,"ok, bring it"', 'spam,WIN a prize', 'ham,on my way'];
  it('no header, label first', async () => {
    const ds = await read(await file('lf.csv', `${body.join('\n')}\n`));
    expect(ds.layout).toMatchObject({ header: false, text: '1', label: '0' });
    expect(rows(ds)[0]).toEqual(['spam', 'Free entry, call now']);
  });
  it('no header, text first', async () => {
    const swapped = body.map((l) => {
      const i = l.indexOf(',');
      return `${l.slice(i + 1)},${l.slice(0, i)}`;
    });
    const ds = await read(await file('tf.csv', `${swapped.join('\n')}\n`));
    expect(ds.layout).toMatchObject({ header: false, text: '0', label: '1' });
    expect(rows(ds)).toEqual(rows(await read(await file('lf2.csv', `${body.join('\n')}\n`))));
  });
  it('a header of other names: detected because its label cell does not recur among the labels', async () => {
    const ds = await read(await file('named.csv', `category,message\n${body.join('\n')}\n`));
    expect(ds.layout).toMatchObject({ header: true, headerFrom: 'labels', text: '"message"', label: '"category"' });
    expect(ds.texts).toHaveLength(5);
  });
  it('a header over numeric labels; columns by index with a header', async () => {
    const p = await file('num.tsv', 'review\tsentiment\ngreat film\t1\nawful\t0\nfine\t1\n');
    const ds = await read(p, { textField: 0, labelField: 1 });
    expect(ds.layout).toMatchObject({ header: true, headerFrom: 'labels' });
    expect(ds.labels).toEqual(['1', '0', '1']);
  });
  it('named columns make the first row the header; header: true with indices', async () => {
    const p = await file('three.csv', 'id,body,cls\n1,hello there,a\n2,bye now,b\n3,hi again,a\n');
    expect(rows(await read(p, { textField: 'body', labelField: 'cls' }))).toEqual([
      ['a', 'hello there'],
      ['b', 'bye now'],
      ['a', 'hi again'],
    ]);
    expect((await read(p, { header: true, textField: 1, labelField: 2 })).labels).toEqual(['a', 'b', 'a']);
  });
  it('empty trailing columns do not count (v1,v2,,, exports): two filled columns are enough', async () => {
    const p = await file('v1v2.csv', 'v1,v2,,,\nham,"Go until jurong point, crazy..",,,\nspam,Free entry in 2 a wkly comp,,,\nham,Ok lar...,,,\nham,U dun say so early hor,, ,\n');
    const ds = await read(p);
    expect(ds.layout).toMatchObject({ header: true, headerFrom: 'labels', text: '"v2"', label: '"v1"' });
    expect(rows(ds)[0]).toEqual(['ham', 'Go until jurong point, crazy..']);
    const wide = await file('wide-empty.csv', 'a,b,c,d\nx,,1,p\ny,,2,q\n');
    expect((await failure(read(wide))).message).toMatch(/the first row has 4 columns, 3 of them filled in most rows/);
  });
  it('multi-line quoted CSV fields, a BOM and CRLF line ends, without a header', async () => {
    const p = await file('crlf.csv', '\uFEFFspam,"line one\r\nline two"\r\nham,"say ""hi"""\r\nham,plain\r\nspam,"a, b"\r\n');
    const ds = await read(p);
    expect(rows(ds)).toEqual([
      ['spam', 'line one\r\nline two'],
      ['ham', 'say "hi"'],
      ['ham', 'plain'],
      ['spam', 'a, b'],
    ]);
    expect(ds.layout?.header).toBe(false);
  });
  it('TSV as pandas writes it: quoted fields with doubled quotes and line breaks, CRLF', async () => {
    const p = await file('pd.tsv', 'text\tlabel\r\n"He said ""hi"""\tham\r\n"two\r\nlines"\tspam\r\nplain\tham\r\n');
    expect(rows(await read(p))).toEqual([
      ['ham', 'He said "hi"'],
      ['spam', 'two\r\nlines'],
      ['ham', 'plain'],
    ]);
  });
  it('CSV and JSONL gzip-compressed', async () => {
    const csv = await file('d.csv.gz', gzipSync('text,label\na b,x\nc d,y\n'));
    expect(rows(await read(csv))).toEqual([
      ['x', 'a b'],
      ['y', 'c d'],
    ]);
    const jl = await file('d.jsonl.gz', gzipSync('{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n'));
    const ds = await read(jl);
    expect(ds.layout).toMatchObject({ format: 'jsonl', formatFrom: 'extension', gzip: true });
    expect(ds.texts).toEqual(['a', 'b']);
  });
  it('tells CSV and JSONL from the content when the name has no extension', async () => {
    expect((await read(await file('csvdata', 'text,label\na,x\nb,y\n'))).layout).toMatchObject({ format: 'csv', formatFrom: 'content', header: true });
    expect((await read(await file('jsondata', '{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n'))).layout?.format).toBe('jsonl');
  });
});

describe('ambiguous and broken input: clear errors', () => {
  it('cannot tell whether the first row is a header when no label repeats', async () => {
    const p = await file('amb.csv', 'a,hello\nb,world\nc,again\n');
    const e = await failure(read(p, { textField: 1, labelField: 0 }));
    expect(e.code).toBe('DATASET_OPTIONS');
    expect(e.message).toBe(`${p}: cannot tell whether the first row ("a", "hello") is a header: no label repeats in the rows after it; set dataset.header: true or false`);
    expect((await read(p, { header: false, textField: 1, labelField: 0 })).texts).toEqual(['hello', 'world', 'again']);
  });
  it('cannot tell the label column of two alike columns', async () => {
    const p = await file('alike.csv', 'ab,cd\nef,gh\n');
    expect((await failure(read(p))).message).toMatch(/cannot tell which of the two columns is the label .* set dataset\.text_field and dataset\.label_field/);
  });
  it('more than two columns need the fields set', async () => {
    const p = await file('wide.csv', 'x,y,z\n1,2,3\n');
    expect((await failure(read(p))).message).toMatch(/the first row has 3 columns \("x", "y", "z"\); set dataset\.text_field and dataset\.label_field to header names or 0-based column indices/);
  });
  it('an index out of range, a name with header: false, an index for JSONL, header for JSONL', async () => {
    const p = await file('two.csv', 'spam,hi\nham,yo\nham,ok\n');
    const a = await failure(read(p, { textField: 2, labelField: 0 }));
    expect(a.code).toBe('DATASET_COLUMN_MISSING');
    expect(a.message).toBe(`${p}: dataset.text_field: column index 2 is out of range; the first row has 2 columns (indices 0-1): "spam", "hi"`);
    expect((await failure(read(p, { header: false, textField: 'body' }))).message).toMatch(/dataset\.text_field: "body" is a column name, but dataset\.header is false; give a 0-based column index instead/);
    const j = await file('j.jsonl', '{"text":"a","label":"x"}\n');
    expect((await failure(read(j, { textField: 0 }))).message).toMatch(/dataset\.text_field: 0 is a column index, but JSONL has named fields/);
    expect((await failure(read(j, { header: true }))).message).toMatch(/dataset\.header applies to CSV and TSV files; this file is JSONL/);
  });
  it('a TSV line with a stray tab names the line and the fix', async () => {
    const p = await file('tab.tsv', 'ham\thello\nspam\twin\tnow\nham\tok\n');
    const e = await failure(read(p));
    expect(e.code).toBe('DATASET_BAD_ROW');
    expect(e.message).toBe(`${p}: line 2: expected 2 tab-separated fields (like the first row), found 3; a tab or line break inside a text must be quoted ("…")`);
  });
  it('a broken or oversized gzip file', async () => {
    const gz = gzipSync('text,label\n' + 'aaaa,x\n'.repeat(1000));
    const cut = await failure(read(await file('cut.csv.gz', gz.subarray(0, gz.length - 10))));
    expect(cut.code).toBe('DATASET_FORMAT');
    expect(cut.message).toMatch(/cut\.csv\.gz: starts like a gzip file but does not decompress/);
    const big = await failure(read(await file('big.csv.gz', gz), { maxBytes: 2000 }));
    expect(big.code).toBe('DATASET_TOO_LARGE');
    expect(big.message).toMatch(/decompressed, the file is larger than the limit of 2000 bytes/);
  });
  it('too few rows for the validation split', async () => {
    const p = await file('few.csv', 'text,label\na,x\nb,y\nc,x\n');
    const e = await failure(loadCheckedDataset(block(p)));
    expect(e.code).toBe('DATASET_EMPTY');
    expect(e.message).toBe(
      `${p}: 3 rows (x: 2, y: 1) leave the validation split empty at validation_split 0.2; provide more rows (a class of 3 or more rows always gives one to validation) or raise dataset.validation_split`,
    );
    const ok = await loadCheckedDataset(block(p, { validation_split: 0.3, test_split: 0 }));
    expect(ok.summary.sizes).toEqual({ train: 2, validation: 1, test: 0 });
  });
});
