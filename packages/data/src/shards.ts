import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { DatasetError, DatasetErrorCode } from './errors.js';
import type { PreparedSplit } from './prepared.js';
import { PREPARED_LEAD, checkSplit, int32Bytes, parsePreparedHeader, preparedHeaderLength, readInt32, type PreparedMeta } from './serialize.js';

// A shard: 8-byte magic | u32 LE header length | UTF-8 JSON header | zero padding to a multiple of 4 |
// int32 LE labels[rows], offsets[rows + 1] (starting at 0), tokens[offsets[rows]].
const MAGIC = new TextEncoder().encode('SWPQSHRD');
const SPLITS = ['train', 'validation', 'test'] as const;
/** A split of a prepared dataset. */
export type SplitName = (typeof SPLITS)[number];

/**
 * Rows per shard by default: 65,536 rows of 60 tokens are about 16 MB, small enough to fetch, verify and encode in
 * a few hundred ms, and few enough objects (about 40 for the 2.5M training rows of Amazon polarity).
 */
export const DEFAULT_SHARD_ROWS = 65_536;

const shardRef = z
  .object({
    name: z.string().regex(/^(train|validation|test)-\d{5,}\.bin$/),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().min(0),
    rows: z.number().int().min(1),
    tokens: z.number().int().min(0),
  })
  .strict();
const splitShards = z.object({ rows: z.number().int().min(0), tokens: z.number().int().min(0), shards: z.array(shardRef) }).strict();
const manifestSchema = z
  .object({
    format: z.literal('sweepq-shards'),
    version: z.literal(1),
    /** SHA-256 of the prepared file the shards were cut from. */
    prepared: z.string().regex(/^[0-9a-f]{64}$/),
    rowsPerShard: z.number().int().min(1),
    classes: z.array(z.string()).min(2),
    words: z.array(z.string()),
    tokenizer: z.object({ filters: z.string(), lower: z.boolean(), split: z.string().min(1) }).strict(),
    source: z.object({ uri: z.string(), rows: z.number().int().min(0), classCounts: z.record(z.string(), z.number().int().min(0)) }).strict(),
    splits: z.object({ train: splitShards, validation: splitShards, test: splitShards }).strict(),
  })
  .strict();

/** What a worker reads first: the dataset's meta and, per split, its shards in row order with their hashes. */
export type ShardManifest = z.infer<typeof manifestSchema>;
/** One shard as the manifest lists it. */
export type ShardRef = z.infer<typeof shardRef>;

function corrupt(message: string): DatasetError {
  return new DatasetError(DatasetErrorCode.CORRUPT, message);
}

/** The {@link PreparedMeta} of a manifest (classes, vocabulary, tokenizer, source): what `trialVocabulary` needs. */
export function manifestMeta(m: ShardManifest): PreparedMeta {
  return { version: 1, classes: m.classes, words: m.words, tokenizer: m.tokenizer, source: m.source };
}

/** The bytes a manifest is stored as (UTF-8 JSON): {@link shardManifestSha256} of these is what trial jobs carry. */
export function shardManifestBytes(m: ShardManifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(m, null, 2)}\n`);
}

/** SHA-256 (hex) of a stored manifest's bytes: the coordinator puts it in each trial job, the worker checks it. */
export function shardManifestSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Parse and check a manifest (schema, and rows and tokens adding up per split). Throws `DATASET_CORRUPT`. */
export function parseShardManifest(raw: unknown, where: string): ShardManifest {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw corrupt(`${where}: bad shard manifest: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const m = parsed.data;
  for (const s of SPLITS) {
    const sp = m.splits[s];
    const rows = sp.shards.reduce((a, x) => a + x.rows, 0);
    const tokens = sp.shards.reduce((a, x) => a + x.tokens, 0);
    if (rows !== sp.rows || tokens !== sp.tokens) {
      throw corrupt(`${where}: splits.${s}: its shards hold ${rows} rows and ${tokens} tokens, expected ${sp.rows} and ${sp.tokens}`);
    }
  }
  return m;
}

function serializeShard(split: SplitName, first: number, labels: Int32Array, offsets: Int32Array, tokens: Int32Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ format: 'sweepq-shard', version: 1, split, first, rows: labels.length, tokens: tokens.length }));
  const start = (MAGIC.length + 4 + json.length + 3) & ~3;
  const out = new Uint8Array(start + labels.byteLength + offsets.byteLength + tokens.byteLength);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.length, true);
  out.set(json, MAGIC.length + 4);
  let pos = start;
  for (const a of [labels, offsets, tokens]) {
    out.set(int32Bytes(a), pos);
    pos += a.byteLength;
  }
  return out;
}

/**
 * Parse a shard's bytes after checking them against the manifest's `ref` (SHA-256 and size) and every index
 * (labels below `classes`, tokens in `[1, words]`). Throws `DATASET_CORRUPT` naming the shard on any mismatch, so a
 * torn or tampered copy is refetched rather than trained on.
 */
export function deserializeShard(b: Uint8Array, ref: ShardRef, classes: number, words: number): PreparedSplit {
  if (b.length !== ref.bytes) throw corrupt(`shard ${ref.name}: expected ${ref.bytes} bytes, got ${b.length}`);
  const digest = createHash('sha256').update(b).digest('hex');
  if (digest !== ref.sha256) throw corrupt(`shard ${ref.name}: checksum mismatch (expected sha256 ${ref.sha256}, got ${digest})`);
  if (b.length < MAGIC.length + 4 || MAGIC.some((m, i) => b[i] !== m)) throw corrupt(`shard ${ref.name}: bad magic, expected "SWPQSHRD"`);
  const headerLen = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(MAGIC.length, true);
  const start = (MAGIC.length + 4 + headerLen + 3) & ~3;
  const expected = start + (2 * ref.rows + 1 + ref.tokens) * 4;
  if (b.length !== expected) throw corrupt(`shard ${ref.name}: expected ${expected} bytes from its rows and tokens, got ${b.length}`);
  const split: PreparedSplit = {
    labels: readInt32(b, start, ref.rows),
    offsets: readInt32(b, start + ref.rows * 4, ref.rows + 1),
    tokens: readInt32(b, start + (2 * ref.rows + 1) * 4, ref.tokens),
  };
  checkSplit(`shard ${ref.name}`, split, classes, words);
  return split;
}

/** Options of {@link shardPreparedFile}. */
export interface ShardOptions {
  /** Rows per shard (the last of a split may have fewer); default {@link DEFAULT_SHARD_ROWS}. */
  rowsPerShard?: number;
  /** Stores one shard (called in order, one at a time). */
  write: (name: string, bytes: Uint8Array) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Cut a prepared file (`sweepq-prepared` version 1, as `prepareDatasetFile` writes it) into shards of whole rows,
 * each split on its own, reading the file piecewise: memory is the labels and offsets of one split (8 bytes a row)
 * and one shard. The shards of a file are a function of its bytes and `rowsPerShard` alone. Returns the manifest
 * (store it after the shards: its presence says they are all there).
 */
export async function shardPreparedFile(file: string, preparedSha256: string, opts: ShardOptions): Promise<ShardManifest> {
  const rowsPerShard = opts.rowsPerShard ?? DEFAULT_SHARD_ROWS;
  if (!Number.isInteger(rowsPerShard) || rowsPerShard < 1) {
    throw new DatasetError(DatasetErrorCode.OPTIONS, `rowsPerShard: expected an integer >= 1, got ${rowsPerShard}`);
  }
  const fh = await open(file, 'r');
  try {
    const readAt = async (pos: number, length: number): Promise<Uint8Array> => {
      // Int32-aligned, so the typed-array views below need no copy.
      const out = new Uint8Array(new ArrayBuffer((length + 3) & ~3), 0, length);
      for (let got = 0; got < length; ) {
        const { bytesRead } = await fh.read(out, got, length - got, pos + got);
        if (bytesRead === 0) throw corrupt(`${file}: ended at byte ${pos + got}, expected ${pos + length}`);
        got += bytesRead;
      }
      return out;
    };
    const lead = await readAt(0, PREPARED_LEAD);
    const { meta, counts, start } = parsePreparedHeader(await readAt(0, PREPARED_LEAD + preparedHeaderLength(lead)));
    const manifest: ShardManifest = {
      format: 'sweepq-shards',
      version: 1,
      prepared: preparedSha256,
      rowsPerShard,
      classes: meta.classes,
      words: meta.words,
      tokenizer: meta.tokenizer,
      source: meta.source,
      splits: {
        train: { rows: 0, tokens: 0, shards: [] },
        validation: { rows: 0, tokens: 0, shards: [] },
        test: { rows: 0, tokens: 0, shards: [] },
      },
    };
    let pos = start;
    for (const s of SPLITS) {
      const { rows, tokens } = counts[s];
      const labels = readInt32(await readAt(pos, rows * 4), 0, rows);
      const offsets = readInt32(await readAt(pos + rows * 4, (rows + 1) * 4), 0, rows + 1);
      const tokensAt = pos + (2 * rows + 1) * 4;
      for (let first = 0, i = 0; first < rows; first += rowsPerShard, i++) {
        opts.signal?.throwIfAborted();
        const end = Math.min(rows, first + rowsPerShard);
        const t0 = offsets[first] as number;
        const t1 = offsets[end] as number;
        const local = offsets.slice(first, end + 1);
        for (let k = 0; k < local.length; k++) local[k] = (local[k] as number) - t0;
        const tok = readInt32(await readAt(tokensAt + t0 * 4, (t1 - t0) * 4), 0, t1 - t0);
        const bytes = serializeShard(s, first, labels.subarray(first, end), local, tok);
        const name = `${s}-${String(i).padStart(5, '0')}.bin`;
        await opts.write(name, bytes);
        manifest.splits[s].shards.push({ name, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, rows: end - first, tokens: t1 - t0 });
        // Hashing and copying a shard is a few ms of work: the caller's lock renewals get their turn between shards.
        await nextTurn();
      }
      manifest.splits[s].rows = rows;
      manifest.splits[s].tokens = tokens;
      pos = tokensAt + tokens * 4;
    }
    return manifest;
  } finally {
    await fh.close();
  }
}
