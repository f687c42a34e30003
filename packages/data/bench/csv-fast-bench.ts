#!/usr/bin/env node
// `npm run bench:csv`: a benchmark, not a test. Times CsvFastReader on one record of almost 4 MiB (its longest) fed
// in 1 KiB chunks, unquoted and quoted, and on a file of short rows in 64 KiB chunks (the common case, which must not
// get slower). Prints the times; asserts nothing. Before the reader went on from where the last chunk ended (it
// rescanned the record from its start), the two long records took about 5.5 s and 35 s; after, tens of ms.
import { CsvFastReader } from '../src/csv-fast.js';
import type { TableRecord } from '../src/tsv.js';

function time(text: string, chunk: number): { ms: number; records: number; stopped: boolean } {
  const t0 = performance.now();
  const r = new CsvFastReader();
  const out: TableRecord[] = [];
  for (let i = 0; i < text.length; i += chunk) r.push(text.slice(i, i + chunk), out);
  r.end(out);
  return { ms: Math.round(performance.now() - t0), records: out.length, stopped: r.stopped };
}

const len = CsvFastReader.MAX_RECORD_CHARS - 1024;
const rows = Array.from({ length: 400_000 }, (_, i) => `"row ${i}, with ""quotes""",label${i % 3}\n`).join('');
const cases: [string, string, number][] = [
  ['one unquoted record of ~4 MiB, 1 KiB chunks', `text,label\n${'y'.repeat(len)},x\nlast,z\n`, 1024],
  ['one quoted record of ~4 MiB (with "" and line breaks), 1 KiB chunks', `text,label\n"${'ab""c\nde,'.repeat(len / 10)}",x\nlast,z\n`, 1024],
  [`${(rows.length / 2 ** 20).toFixed(0)} MiB of short rows, 64 KiB chunks`, `text,label\n${rows}`, 64 * 1024],
];
for (const [name, text, chunk] of cases) {
  time(text, chunk); // warm-up
  const runs = [time(text, chunk), time(text, chunk), time(text, chunk)];
  const best = Math.min(...runs.map((r) => r.ms));
  console.log(`${name}: ${best} ms (best of 3; ${runs[0]?.records} records${runs[0]?.stopped ? ', handed to csv-parse' : ''})`);
}
