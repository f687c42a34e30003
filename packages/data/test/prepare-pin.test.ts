import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DatasetSpec } from '@sweepq/sweep-config';
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { deserializePrepared, loadCheckedDataset, prepareDataset, prepareDatasetFile, preparedHash, serializePrepared, type PreparedDataset } from '../src/index.js';
import { csvField, syntheticRows } from '../src/synthetic.js';
import { tempFiles } from './helpers.js';

// Hashes of today's (whole-file, in-memory) preparation, recorded at 725da8a before the streaming rewrite: the
// same split and the same token ids for the same file and seed. The URI is replaced by a fixed one before hashing
// (it is recorded in the prepared data, and the test's temporary folder differs per run).
const PINNED: Record<string, string> = {
  'sms-tsv': '1517eead0c753de018f8498db68310a0ce7938195a73e06ca9e57442878c59af',
  'sms-tsv-seed7': '08e0d6a67dfcb86d6fd50d286b80097d62bd57400492d38df93c6c063500eac8',
  'gen-csv': 'd7a7bd3d4ceaa3a7ed09ef76c87ccfb1cae940db6dc2aa05b7759ae211b87aef',
  'gen-csv-gz': 'd7a7bd3d4ceaa3a7ed09ef76c87ccfb1cae940db6dc2aa05b7759ae211b87aef',
  'gen-csv-max-rows': '2fce6661cf0ba2c8351221020c489152178006e7723451df0ba45cc68e8e426a',
  'gen-jsonl': '228ba3cc9566e0efa5a6eb8d726f7c2bf4fba2c9cb0f5b38bf6a87cb19270415',
  'builtin': 'b5a4b1f665d707294e0be464105c2e40fe013d31b46861a296925e9123078150',
};

const file = tempFiles('sweepq-pin-');
const fixture = join(import.meta.dirname, 'fixtures', 'SMSSpamCollection');

function spec(uri: string, extra: Partial<DatasetSpec> = {}): DatasetSpec {
  return { uri, text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 42, ...extra };
}

function pinnedHash(p: PreparedDataset): string {
  return createHash('sha256')
    .update(serializePrepared({ ...p, source: { ...p.source, uri: 'pinned' } }))
    .digest('hex');
}

/** Today's path: the whole file in memory, then prepareDataset. */
async function inMemory(s: DatasetSpec): Promise<PreparedDataset> {
  const { raw } = await loadCheckedDataset(s);
  return prepareDataset(raw, { validationSplit: s.validation_split, testSplit: s.test_split, seed: s.seed, uri: s.uri });
}

const rows = [...syntheticRows({ rows: 4000, classes: 4, vocabulary: 3000, words: [1, 40], seed: 5 })];
const csv = `text,label\r\n${rows.map(([t, l]) => `${csvField(t)},${l}`).join('\r\n')}\r\n`;
const jsonl = rows.map(([text, label]) => JSON.stringify({ label, text })).join('\n');

async function cases(): Promise<[string, DatasetSpec][]> {
  const c = await file('gen.csv', csv);
  return [
    ['sms-tsv', spec(fixture, { text_field: 1, label_field: 0, header: false, format: 'tsv' })],
    ['sms-tsv-seed7', spec(fixture, { text_field: 1, label_field: 0, header: false, format: 'tsv', seed: 7, validation_split: 0.3, test_split: 0 })],
    ['gen-csv', spec(c)],
    ['gen-csv-gz', spec(await file('gen.csv.gz', gzipSync(csv)))],
    ['gen-csv-max-rows', spec(c, { max_rows: 1234, seed: 3 })],
    ['gen-jsonl', spec(await file('gen.jsonl', jsonl), { validation_split: 0.15, test_split: 0.15 })],
    ['builtin', spec('builtin:spam-assassin')],
  ];
}

describe('preparation keeps the split and the token ids of 725da8a', () => {
  it('in memory', async () => {
    for (const [name, s] of await cases()) {
      expect(pinnedHash(await inMemory(s)), name).toBe(PINNED[name]);
    }
  });
  it('streamed in bounded memory: the same bytes as in memory, and the pinned hashes', async () => {
    for (const [name, s] of await cases()) {
      const out = await file(`${name}.bin`, '');
      // Small buckets and reads, so rows are scattered over many buckets and read across refills.
      const info = await prepareDatasetFile(s, { tmpDir: tmpdir(), outFile: out, sliceMs: 0, chunkValues: name === 'builtin' ? 50_000 : 997 });
      const bytes = new Uint8Array(await readFile(out));
      const expected = serializePrepared(await inMemory(s));
      expect(Buffer.compare(bytes, expected), name).toBe(0);
      expect(info.hash, name).toBe(preparedHash(expected));
      expect(info.bytes, name).toBe(expected.length);
      expect(pinnedHash(deserializePrepared(bytes)), name).toBe(PINNED[name]);
    }
  });
  it('the fixture is unchanged', async () => {
    expect(createHash('sha256').update(await readFile(fixture)).digest('hex')).toMatchInlineSnapshot(`"eaebe32036c8964276369c27238b31fd2aafb0739615e3a96cc42dfe9ce5c5ec"`);
  });
});

describe('streamed preparation fails as the in-memory check does', () => {
  it('same codes and messages for one class, an empty validation split and a bad row', async () => {
    const bad = [
      await file('one.csv', 'text,label\na,x\nb,x\nc,x\n'),
      await file('two.csv', 'text,label\na,x\nb,y\n'),
      await file('row.csv', 'text,label\na,x\n ,y\n'),
    ];
    for (const p of bad) {
      const s = spec(p);
      const expected = await inMemory(s).then(
        () => undefined,
        (e: unknown) => e as Error & { code: string },
      );
      const got = await prepareDatasetFile(s, { tmpDir: tmpdir(), outFile: `${p}.bin` }).then(
        () => undefined,
        (e: unknown) => e as Error & { code: string },
      );
      expect(expected, p).toBeDefined();
      expect({ code: got?.code, message: got?.message }, p).toEqual({ code: expected?.code, message: expected?.message });
    }
  });
});

/** Paths under `dir` that this process holds open (Linux: /proc/self/fd), deleted files included. */
async function openUnder(dir: string): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((t) => t.startsWith(dir));
}

describe('a streamed preparation that fails', () => {
  // Before, these left their temporary files open until a garbage collection closed them (Node's DEP0137 warning).
  it.skipIf(process.platform !== 'linux')('closes its temporary files, whichever pass it fails in', async () => {
    const c = await file('gen-close.csv', csv);
    const all = rows.length;
    const failures: [string, DatasetSpec, (p: { phase: string; rows: number }) => boolean][] = [
      // Read and tokenize: the token file is open.
      ['a bad row', spec(await file('row-close.csv', `${csv}a, \r\n`)), () => false],
      // Counting and scattering: the token file is read, the buckets are open.
      ['aborted in pass B', spec(c), (p) => p.phase === 'encode' && p.rows < all],
      // Renumbering: the first split's output file is open.
      ['aborted in pass C', spec(c), (p) => p.phase === 'encode' && p.rows === all],
    ];
    for (const [name, s, abortAt] of failures) {
      const tmp = await mkdtemp(join(tmpdir(), 'sweepq-close-'));
      try {
        const ac = new AbortController();
        const err = await prepareDatasetFile(s, {
          tmpDir: tmp,
          outFile: join(tmp, 'out.bin'),
          sliceMs: 0,
          chunkValues: 997,
          signal: ac.signal,
          onProgress: (p) => {
            if (abortAt(p)) ac.abort(new Error(`stop: ${name}`));
          },
        }).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(err?.message, name).toMatch(name === 'a bad row' ? /row-close\.csv/ : `stop: ${name}`);
        expect(await openUnder(tmp), name).toEqual([]);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
  });
});
