import { createHash } from 'node:crypto';
import { z } from 'zod';
import { formatZodIssues } from '@sweepq/runtime/zod-issues';
import { DatasetError, DatasetErrorCode } from './errors.js';
import type { PreparedDataset, PreparedSplit } from './prepared.js';

// Layout: 8-byte magic | u32 LE header length | UTF-8 JSON header | zero padding to a multiple of 4 |
// int32 LE payload: for train, validation, test in turn: labels[n], offsets[n+1], tokens[m].
const MAGIC = new TextEncoder().encode('SWPQDATA');
const SPLITS = ['train', 'validation', 'test'] as const;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const splitCounts = z.object({ rows: z.number().int().min(0), tokens: z.number().int().min(0) }).strict();
const headerSchema = z
  .object({
    format: z.literal('sweepq-prepared'),
    version: z.literal(1),
    classes: z.array(z.string()).min(2),
    words: z.array(z.string()),
    tokenizer: z.object({ filters: z.string(), lower: z.boolean(), split: z.string().min(1) }).strict(),
    source: z.object({ uri: z.string(), rows: z.number().int().min(0), classCounts: z.record(z.string(), z.number().int().min(0)) }).strict(),
    splits: z.object({ train: splitCounts, validation: splitCounts, test: splitCounts }).strict(),
    payloadSha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
type Header = z.infer<typeof headerSchema>;

function corrupt(message: string, cause?: unknown): DatasetError {
  return new DatasetError(DatasetErrorCode.CORRUPT, `prepared dataset: ${message}`, {}, cause === undefined ? undefined : { cause });
}

/** The little-endian bytes of `a` (a view of it on little-endian machines). */
export function int32Bytes(a: Int32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setInt32(i * 4, a[i] as number, true);
  return out;
}

export function readInt32(b: Uint8Array, offset: number, count: number): Int32Array {
  // A view where alignment allows (no second copy of a large dataset in memory), a copy otherwise.
  if (LITTLE_ENDIAN && (b.byteOffset + offset) % 4 === 0) return new Int32Array(b.buffer, b.byteOffset + offset, count);
  if (LITTLE_ENDIAN) return new Int32Array(b.buffer.slice(b.byteOffset + offset, b.byteOffset + offset + count * 4));
  const dv = new DataView(b.buffer, b.byteOffset + offset, count * 4);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, true);
  return out;
}

/** What the header says besides the arrays: {@link PreparedDataset} without its splits. */
export type PreparedMeta = Omit<PreparedDataset, 'splits'>;

/** Rows and tokens per split, as the header records them. */
export type SplitCounts = Record<(typeof SPLITS)[number], { rows: number; tokens: number }>;

/**
 * The bytes before the payload: magic, header length, the JSON header and zero padding to a multiple of 4. The
 * streaming preparation writes the same bytes as {@link serializePrepared}, through this one function.
 */
export function preparedPrefix(p: PreparedMeta, counts: SplitCounts, payloadSha256: string): Uint8Array {
  const header: Header = {
    format: 'sweepq-prepared',
    version: p.version,
    classes: p.classes,
    words: p.words,
    tokenizer: { filters: p.tokenizer.filters, lower: p.tokenizer.lower, split: p.tokenizer.split },
    source: { uri: p.source.uri, rows: p.source.rows, classCounts: p.source.classCounts },
    splits: {
      train: { rows: counts.train.rows, tokens: counts.train.tokens },
      validation: { rows: counts.validation.rows, tokens: counts.validation.tokens },
      test: { rows: counts.test.rows, tokens: counts.test.tokens },
    },
    payloadSha256,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = (MAGIC.length + 4 + json.length + 3) & ~3;
  const out = new Uint8Array(start);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.length, true);
  out.set(json, MAGIC.length + 4);
  return out;
}

/**
 * A compact, deterministic binary form of a prepared dataset: a JSON header (classes, vocabulary, tokenizer
 * settings, source, array lengths, payload SHA-256) followed by little-endian int32 arrays. Equal datasets give
 * equal bytes, so {@link preparedHash} works as a content address.
 */
export function serializePrepared(p: PreparedDataset): Uint8Array {
  const arrays: Int32Array[] = [];
  for (const s of SPLITS) {
    const sp = p.splits[s];
    arrays.push(sp.labels, sp.offsets, sp.tokens);
  }
  const payloadBytes = arrays.reduce((a, x) => a + x.byteLength, 0);
  const hash = createHash('sha256');
  for (const a of arrays) hash.update(int32Bytes(a));
  const count = (sp: PreparedSplit): { rows: number; tokens: number } => ({ rows: sp.labels.length, tokens: sp.tokens.length });
  const prefix = preparedPrefix(p, { train: count(p.splits.train), validation: count(p.splits.validation), test: count(p.splits.test) }, hash.digest('hex'));
  const out = new Uint8Array(prefix.length + payloadBytes);
  out.set(prefix, 0);
  let pos = prefix.length;
  for (const a of arrays) {
    out.set(int32Bytes(a), pos);
    pos += a.byteLength;
  }
  return out;
}

/** Check a split's arrays: offsets start at 0, never decrease and end at the token count; labels and tokens in range. */
export function checkSplit(name: string, s: PreparedSplit, nClasses: number, nWords: number): void {
  const { labels, offsets, tokens } = s;
  if (offsets[0] !== 0) throw corrupt(`${name}.offsets[0]: expected 0, got ${offsets[0]}`);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (l < 0 || l >= nClasses) throw corrupt(`${name}.labels[${i}]: expected a class index in [0, ${nClasses}), got ${l}`);
    if ((offsets[i + 1] as number) < (offsets[i] as number)) throw corrupt(`${name}.offsets[${i + 1}]: offsets must not decrease`);
  }
  if (offsets[labels.length] !== tokens.length) {
    throw corrupt(`${name}.offsets[${labels.length}]: expected ${tokens.length} (the token count), got ${offsets[labels.length]}`);
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as number;
    if (t < 1 || t > nWords) throw corrupt(`${name}.tokens[${i}]: expected a word index in [1, ${nWords}], got ${t}`);
  }
}

/** The JSON header's length, from the first 12 bytes of a prepared file (checks the magic). */
export function preparedHeaderLength(b: Uint8Array): number {
  if (b.length < MAGIC.length + 4 || MAGIC.some((m, i) => b[i] !== m)) {
    throw corrupt(`bad magic: expected the bytes to start with "SWPQDATA" (${b.length} bytes given)`);
  }
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(MAGIC.length, true);
}

/** Bytes of a prepared file before its JSON header (magic and length). */
export const PREPARED_LEAD = MAGIC.length + 4;

/**
 * Parse the header of a prepared file from its first `PREPARED_LEAD + headerLength` bytes; `start` is where the
 * payload begins. The meta of {@link PreparedDataset}, the splits' lengths and the payload checksum.
 */
export function parsePreparedHeader(b: Uint8Array): { header: Header; meta: PreparedMeta; counts: SplitCounts; start: number } {
  const headerLen = preparedHeaderLength(b);
  if (MAGIC.length + 4 + headerLen > b.length) throw corrupt(`header length ${headerLen} runs past the end (${b.length} bytes)`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLen)));
  } catch (e) {
    throw corrupt(`header is not valid UTF-8 JSON (${(e as Error).message})`, e);
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (version !== 1) throw corrupt(`unsupported version ${JSON.stringify(version)}; expected 1`);
  const parsed = headerSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw corrupt(`bad header: ${formatZodIssues(parsed.error.issues).join('; ')}`);
  }
  const h = parsed.data;
  const meta: PreparedMeta = { version: 1, classes: h.classes, words: h.words, tokenizer: h.tokenizer, source: h.source };
  return { header: h, meta, counts: h.splits, start: (MAGIC.length + 4 + headerLen + 3) & ~3 };
}

/**
 * Parse {@link serializePrepared} output, checking magic, version, lengths, payload checksum and every index.
 * Throws {@link DatasetError} `DATASET_CORRUPT` on any mismatch. The arrays are views of `b` when it is 4-byte
 * aligned (so `b` must not be changed afterwards), copies otherwise.
 */
export function deserializePrepared(b: Uint8Array): PreparedDataset {
  if (!(b instanceof Uint8Array)) throw corrupt(`expected a Uint8Array, got ${typeof b}`);
  const headerLen = preparedHeaderLength(b);
  if (MAGIC.length + 4 + headerLen > b.length) throw corrupt(`header length ${headerLen} runs past the end (${b.length} bytes)`);
  const { header: h, start } = parsePreparedHeader(b.subarray(0, MAGIC.length + 4 + headerLen));
  let expected = start;
  for (const s of SPLITS) expected += (2 * h.splits[s].rows + 1 + h.splits[s].tokens) * 4;
  if (b.length !== expected) throw corrupt(`expected ${expected} bytes from the header's lengths, got ${b.length}`);
  const digest = createHash('sha256').update(b.subarray(start)).digest('hex');
  if (digest !== h.payloadSha256) throw corrupt(`payload checksum mismatch (expected sha256 ${h.payloadSha256}, got ${digest})`);
  if (new Set(h.words).size !== h.words.length) throw corrupt('words: duplicate entries');
  let pos = start;
  const take = (count: number): Int32Array => {
    const a = readInt32(b, pos, count);
    pos += count * 4;
    return a;
  };
  const splits = {} as PreparedDataset['splits'];
  for (const s of SPLITS) {
    const { rows, tokens } = h.splits[s];
    const split: PreparedSplit = { labels: take(rows), offsets: take(rows + 1), tokens: take(tokens) };
    checkSplit(s, split, h.classes.length, h.words.length);
    splits[s] = split;
  }
  return { version: 1, classes: h.classes, words: h.words, tokenizer: h.tokenizer, splits, source: h.source };
}

/** SHA-256 (hex) of serialized bytes: the content address under `datasets/<hash>/`. */
export function preparedHash(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
