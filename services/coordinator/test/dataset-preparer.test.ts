import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticCsv } from '@sweepq/data';
import { createLogger } from '@sweepq/runtime';
import type { DatasetSpec } from '@sweepq/sweep-config';
import { ArtifactStore, createS3Client, layout, startLocalS3, type LocalS3 } from '@sweepq/storage';
import { parseShardManifest, prepareDatasetFile, shardManifestSha256 } from '@sweepq/data';
import { prepareSweepDataset, shardManifestSha256Of } from '../src/dataset-preparer.js';

let dir = '';
let s3: LocalS3;
let store: ArtifactStore;
const log = createLogger({ name: 'test', level: 'silent' });
const spec = (uri: string): DatasetSpec => ({ uri, text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 42 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-preparer-'));
  s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['prep-test'] });
  store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket: 'prep-test', endpoint: s3.endpoint });
});
afterAll(async () => {
  store?.client.destroy();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('prepareSweepDataset', () => {

  it('prepares an uploaded file once: a second sweep on the same bytes and settings reuses it, even with the source gone', async () => {
    const csv = join(dir, 'd.csv');
    await writeSyntheticCsv(csv, { rows: 3000, seed: 3 });
    const key = `datasets/uploads/${'a'.repeat(64)}/d.csv`;
    await store.putFile(key, csv);
    const first = await prepareSweepDataset(spec(store.uri(key)), store, log, { shardRows: 500 });
    expect(first.rows).toBe(3000);
    expect(first.sizes.train + first.sizes.validation + first.sizes.test).toBe(3000);
    // Stored once, as shards: the dataset's key is its manifest, and no prepared.bin is written beside them.
    expect(first.key).toBe(layout.datasetShardManifest(first.hash));
    expect(await store.exists(layout.preparedDataset(first.hash))).toBe(false);
    // The file an older version would have stored (made now, while the upload is there).
    const local = join(dir, 'old-prepared.bin');
    const info = await prepareDatasetFile(spec(store.uri(key)), { tmpDir: dir, outFile: local, fetcher: (uri) => store.getUriStream(uri) });
    expect(info.hash).toBe(first.hash);
    await store.deletePrefix('datasets/uploads/');
    // Workers read shards: a manifest naming every shard of every split.
    const manifestBytes = await store.getRequired(first.key);
    const manifest = parseShardManifest(JSON.parse(new TextDecoder().decode(manifestBytes)), 'manifest');
    expect(manifest.prepared).toBe(first.hash);
    expect(manifest.splits.train.rows).toBe(first.sizes.train);
    expect(manifest.splits.train.shards.length).toBe(Math.ceil(first.sizes.train / 500));
    expect(manifest.words.length).toBe(first.vocabulary);
    for (const s of manifest.splits.test.shards) expect(await store.exists(layout.datasetShard(first.hash, s.name))).toBe(true);
    // What trial jobs carry: the SHA-256 of the manifest's bytes as stored.
    expect(await shardManifestSha256Of(store, first.hash)).toBe(shardManifestSha256(manifestBytes));
    // Reused while its shards are there: no new preparation (the source is gone).
    expect(await prepareSweepDataset(spec(store.uri(key)), store, log, { shardRows: 500 })).toEqual(first);

    // A dataset prepared by a version before shards: only prepared.bin (the same bytes). It is still read, and gets its shards when reused; the sweep keeps the key it recorded.
    const [sourceKey] = await store.list('datasets/sources/');
    const old = { ...first, key: layout.preparedDataset(first.hash) };
    await store.putFile(old.key, local);
    await store.putJson(sourceKey!, old);
    await store.deletePrefix(`${layout.datasetPrefix(first.hash)}shards/`);
    expect(await prepareSweepDataset(spec(store.uri(key)), store, log, { shardRows: 500 })).toEqual(old);
    expect(await store.getRequired(first.key)).toEqual(manifestBytes);
    // Other settings are another preparation (and here fail: the source is gone).
    await expect(prepareSweepDataset({ ...spec(store.uri(key)), seed: 7 }, store, log)).rejects.toThrow(/does not exist/);
  });

  it('an s3:// object elsewhere counts by ETag: changed content is prepared again', async () => {
    const key = 'inputs/e.csv';
    const csv = join(dir, 'e.csv');
    await writeSyntheticCsv(csv, { rows: 1000, seed: 4 });
    await store.putFile(key, csv);
    const a = await prepareSweepDataset(spec(store.uri(key)), store, log);
    expect(await prepareSweepDataset(spec(store.uri(key)), store, log)).toEqual(a);
    await writeSyntheticCsv(csv, { rows: 1200, seed: 4 });
    await store.putFile(key, csv);
    expect((await prepareSweepDataset(spec(store.uri(key)), store, log)).rows).toBe(1200);
  });

  it('reports every byte read with the shard and done phases, however the reports in between were throttled', async () => {
    const csv = join(dir, 'progress.csv');
    const size = await writeSyntheticCsv(csv, { rows: 10_000, seed: 5 });
    const key = 'inputs/progress.csv';
    await store.putFile(key, csv);
    const progress: { phase: string; rows: number; bytes: number }[] = [];
    // One report a minute: the first (with the first megabyte), then only the shard and done reports.
    await prepareSweepDataset(spec(store.uri(key)), store, log, { progressMs: 60_000, onProgress: (p) => progress.push(p) });
    expect(progress[0]!.bytes).toBeLessThan(size);
    expect(progress.slice(-2).map((p) => [p.phase, p.rows, p.bytes])).toEqual([
      ['shard', 10_000, size],
      ['done', 10_000, size],
    ]);
  });
});
