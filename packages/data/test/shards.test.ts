import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DatasetSpec } from '@sweepq/sweep-config';
import {
  deserializePrepared,
  deserializeShard,
  manifestMeta,
  parseShardManifest,
  prepareDatasetFile,
  preparedHash,
  shardPreparedFile,
  syntheticRows,
  csvField,
  type PreparedSplit,
} from '../src/index.js';
import { tempFiles } from './helpers.js';

const file = tempFiles('sweepq-shards-');
const spec = (uri: string): DatasetSpec => ({ uri, text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 42 });

async function prepared(rows: number): Promise<{ path: string; bytes: Uint8Array; hash: string }> {
  const lines = ['text,label', ...[...syntheticRows({ rows, seed: 5 })].map(([text, label]) => `${csvField(text)},${label}`)];
  const csv = await file(`d-${rows}.csv`, `${lines.join('\n')}\n`);
  const path = `${csv}.bin`;
  const info = await prepareDatasetFile(spec(csv), { tmpDir: join(csv, '..'), outFile: path });
  const bytes = new Uint8Array(await readFile(path));
  return { path, bytes, hash: info.hash };
}

function concat(parts: PreparedSplit[]): PreparedSplit {
  const labels = parts.flatMap((p) => Array.from(p.labels));
  const tokens = parts.flatMap((p) => Array.from(p.tokens));
  const offsets = [0];
  for (const p of parts) for (let i = 1; i < p.offsets.length; i++) offsets.push((offsets.at(-1) as number) + (p.offsets[i] as number) - (p.offsets[i - 1] as number));
  return { labels: Int32Array.from(labels), offsets: Int32Array.from(offsets), tokens: Int32Array.from(tokens) };
}

describe('shardPreparedFile', () => {
  it('cuts every split into shards of whole rows that put back together give the prepared arrays, the meta in the manifest', async () => {
    const { path, bytes, hash } = await prepared(1000);
    const whole = deserializePrepared(bytes);
    const stored = new Map<string, Uint8Array>();
    const manifest = await shardPreparedFile(path, hash, { rowsPerShard: 64, write: async (name, b) => void stored.set(name, b) });
    expect(parseShardManifest(JSON.parse(JSON.stringify(manifest)), 'test')).toEqual(manifest);
    expect(manifest.prepared).toBe(preparedHash(bytes));
    expect(manifestMeta(manifest)).toEqual({ version: 1, classes: whole.classes, words: whole.words, tokenizer: whole.tokenizer, source: whole.source });
    for (const s of ['train', 'validation', 'test'] as const) {
      const refs = manifest.splits[s].shards;
      expect(refs.length).toBe(Math.ceil(whole.splits[s].labels.length / 64));
      expect(refs.slice(0, -1).every((r) => r.rows === 64)).toBe(true);
      const parts = refs.map((r) => deserializeShard(stored.get(r.name) as Uint8Array, r, whole.classes.length, whole.words.length));
      expect(concat(parts)).toEqual({ labels: whole.splits[s].labels, offsets: whole.splits[s].offsets, tokens: whole.splits[s].tokens });
    }
    // Deterministic: the same file and shard size give the same shards.
    const again = await shardPreparedFile(path, hash, { rowsPerShard: 64, write: async () => undefined });
    expect(again).toEqual(manifest);
  });

  it('a shard that does not match its hash, size or indices is refused as DATASET_CORRUPT', async () => {
    const { path, hash } = await prepared(300);
    const stored = new Map<string, Uint8Array>();
    const manifest = await shardPreparedFile(path, hash, { rowsPerShard: 50, write: async (name, b) => void stored.set(name, b) });
    const ref = manifest.splits.train.shards[1]!;
    const good = stored.get(ref.name)!;
    const flipped = good.slice();
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    expect(() => deserializeShard(flipped, ref, manifest.classes.length, manifest.words.length)).toThrow(/DATASET_CORRUPT|checksum mismatch/);
    expect(() => deserializeShard(good.subarray(1), ref, manifest.classes.length, manifest.words.length)).toThrow(/expected \d+ bytes/);
    // Right bytes, wrong vocabulary: the indices are checked too.
    expect(() => deserializeShard(good, ref, manifest.classes.length, 1)).toThrow(/word index/);
    expect(() => parseShardManifest({ ...manifest, splits: { ...manifest.splits, train: { ...manifest.splits.train, rows: 1 } } }, 'm.json')).toThrow(
      /m\.json: splits\.train: its shards hold \d+ rows/,
    );
  });
});
