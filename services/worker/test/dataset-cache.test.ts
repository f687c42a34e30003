import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deserializePrepared, encodeForTrial, encodeTexts, prepareDatasetFile, shardManifestBytes, shardManifestSha256, shardPreparedFile, trialVocabulary, writeSyntheticCsv, type ShardManifest } from '@sweepq/data';
import { buildModel, initBackend, trainModel } from '@sweepq/model';
import { createLogger } from '@sweepq/runtime';
import { ArtifactStore, createS3Client, layout, startLocalS3, type LocalS3 } from '@sweepq/storage';
import { DatasetCache } from '../src/dataset-cache.js';
import { savedModelAndCosts } from '../src/model-costs.js';

let dir = '';
let s3: LocalS3;
let store: ArtifactStore;
let hash = '';
let manifest: ShardManifest;
let preparedBytes: Uint8Array;
const log = createLogger({ name: 'test', level: 'silent' });
const ENC = { maxWords: 200, maxLen: 12 };

/** Prepare a generated file and store its shards (20 rows each) the way the coordinator does. */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-shard-cache-'));
  s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['cache-test'] });
  store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket: 'cache-test', endpoint: s3.endpoint });
  const csv = join(dir, 'd.csv');
  await writeSyntheticCsv(csv, { rows: 600, classes: 2, vocabulary: 300, words: [3, 15], seed: 8 });
  const out = join(dir, 'prepared.bin');
  const info = await prepareDatasetFile({ uri: csv, text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 42 }, { tmpDir: dir, outFile: out });
  hash = info.hash;
  preparedBytes = new Uint8Array(await readFile(out));
  manifest = await shardPreparedFile(out, hash, { rowsPerShard: 20, write: async (name, b) => void (await store.put(layout.datasetShard(hash, name), b)) });
  await store.put(layout.datasetShardManifest(hash), shardManifestBytes(manifest), 'application/json');
  await initBackend({ prefer: 'wasm' });
});
afterAll(async () => {
  store?.client.destroy();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const shardFiles = async (cacheDir: string): Promise<string[]> => (await readdir(join(cacheDir, 'shards')).catch(() => [])).filter((f) => f.endsWith('.bin'));

describe('DatasetCache (shards)', () => {
  it('fetches shards when asked, verified, kept on disk by hash; a second cache on the same folder needs no bucket', async () => {
    const cacheDir = join(dir, 'c1');
    const cache = new DatasetCache({ dir: cacheDir, store, logger: log });
    const ds = await cache.open(hash);
    expect(ds.meta.classes).toEqual(manifest.classes);
    expect(await shardFiles(cacheDir)).toEqual([]);
    const whole = deserializePrepared(preparedBytes);
    const want = encodeForTrial(whole.splits.validation, ENC);
    const src = ds.source('validation', ENC);
    const parts = [];
    for (let b = 0; b < src.blockRows.length; b++) parts.push(await src.load(b));
    expect(Int32Array.from(parts.flatMap((p) => Array.from(p.x)))).toEqual(want.x);
    expect(Int32Array.from(parts.flatMap((p) => Array.from(p.y)))).toEqual(want.y);
    expect((await shardFiles(cacheDir)).sort()).toEqual(manifest.splits.validation.shards.map((s) => `${s.sha256}.bin`).sort());

    // Another process on the same folder: the manifest from the bucket, the shards from disk.
    const other = await new DatasetCache({ dir: cacheDir, store, logger: log }).open(hash);
    const ref = manifest.splits.validation.shards[0]!;
    const saved = await store.getRequired(layout.datasetShard(hash, ref.name));
    await store.delete(layout.datasetShard(hash, ref.name));
    try {
      expect(await other.source('validation', ENC).load(0)).toEqual(parts[0]);
    } finally {
      await store.put(layout.datasetShard(hash, ref.name), saved);
    }
  });

  it('a corrupt local copy is fetched again; a corrupt copy in the bucket is refused', async () => {
    const cacheDir = join(dir, 'c2');
    const ds = await new DatasetCache({ dir: cacheDir, store, logger: log }).open(hash);
    const src = ds.source('train', ENC);
    const good = await src.load(1);
    const ref = manifest.splits.train.shards[1]!;
    const file = join(cacheDir, 'shards', `${ref.sha256}.bin`);
    const bytes = new Uint8Array(await readFile(file));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x40;
    await writeFile(file, bytes);
    expect(await src.load(1)).toEqual(good);
    expect(new Uint8Array(await readFile(file))).toEqual(await store.getRequired(layout.datasetShard(hash, ref.name)));

    const key = layout.datasetShard(hash, manifest.splits.train.shards[2]!.name);
    const saved = await store.getRequired(key);
    const bad = saved.slice();
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0x40;
    await store.put(key, bad);
    try {
      await expect(src.load(2)).rejects.toThrow(/checksum mismatch/);
    } finally {
      await store.put(key, saved);
    }
    expect((await src.load(2)).y.length).toBe(manifest.splits.train.shards[2]!.rows);
  });

  it('training starts before the last shard is on disk', async () => {
    const cacheDir = join(dir, 'c3');
    const ds = await new DatasetCache({ dir: cacheDir, store, logger: log }).open(hash);
    const total = manifest.splits.train.shards.length;
    expect(total).toBeGreaterThan(8);
    let atFirstBatch: number | undefined;
    const model = buildModel({ maxWords: ENC.maxWords, maxLen: ENC.maxLen, embeddingDim: 4, lstmUnits: 4, dropout: 0, recurrentDropout: 0, learningRate: 0.01, optimizer: 'adam', numClasses: 2, seed: 1 });
    const run = await trainModel({
      model,
      train: ds.source('train', ENC),
      validation: ds.source('validation', ENC),
      epochs: 1,
      batchSize: 16,
      seed: 3,
      onBatchEnd: async () => {
        atFirstBatch ??= (await shardFiles(cacheDir)).length;
      },
    });
    model.dispose();
    // Training fetches the group it trains on and the next one (4 shards each), no further.
    expect(atFirstBatch).toBeLessThanOrEqual(8);
    expect(run.history).toHaveLength(1);
    expect(await shardFiles(cacheDir)).toHaveLength(total + manifest.splits.validation.shards.length);
  });

  it('sampleTexts: the first documents of a split as text that the vocabulary encodes back to their rows', async () => {
    const ds = await new DatasetCache({ dir: join(dir, 'c4'), store, logger: log }).open(hash);
    const texts = await ds.sampleTexts('validation', 5);
    expect(texts).toHaveLength(5);
    const want = encodeForTrial(deserializePrepared(preparedBytes).splits.validation, ENC);
    expect(encodeTexts(trialVocabulary(ds.meta, ENC), texts)).toEqual(want.x.slice(0, 5 * ENC.maxLen));
    // More than a shard holds: the first shard's documents.
    expect(await ds.sampleTexts('validation', 1000)).toHaveLength(manifest.splits.validation.shards[0]!.rows);
  });

  it("savedModelAndCosts: the model's files as uploaded, their bytes, its parameters and a latency", async () => {
    const ds = await new DatasetCache({ dir: join(dir, 'c5'), store, logger: log }).open(hash);
    const model = buildModel({ maxWords: ENC.maxWords, maxLen: ENC.maxLen, embeddingDim: 4, lstmUnits: 4, dropout: 0, recurrentDropout: 0, learningRate: 0.01, optimizer: 'adam', numClasses: 2, seed: 1 });
    try {
      const { files, costs } = await savedModelAndCosts(model, ds, { max_words: ENC.maxWords, max_len: ENC.maxLen });
      expect(files.map((f) => f.name)).toEqual(['model.json', 'weights.bin', 'vocab.json']);
      const bytes = files.map((f) => (typeof f.body === 'string' ? Buffer.byteLength(f.body) : f.body.byteLength));
      expect(costs.model_bytes).toBe(bytes[0]! + bytes[1]! + bytes[2]!);
      // float32 weights: 4 bytes a parameter.
      expect(bytes[1]).toBe(4 * costs.param_count);
      // Embedding 200 x 4, LSTM 4 gates x (4 x (4 + 4) + 4), Dense 4 x 2 + 2.
      expect(costs.param_count).toBe(200 * 4 + 4 * (4 * 8 + 4) + 10);
      expect(costs.latency_ms).toBeGreaterThan(0);
      expect(JSON.parse(files[2]!.body as string)).toEqual(trialVocabulary(ds.meta, ENC));
    } finally {
      model.dispose();
    }
  });

  it('reads a whole split back from its shards, the same rows as the prepared file', async () => {
    const ds = await new DatasetCache({ dir: join(dir, 'c6'), store, logger: log }).open(hash);
    const whole = deserializePrepared(preparedBytes);
    for (const split of ['train', 'validation', 'test'] as const) expect(await ds.readSplit(split)).toEqual(whole.splits[split]);
  });
});

/** The real store, counting the reads of shard manifests. */
class CountingStore extends ArtifactStore {
  manifestReads = 0;
  override async get(key: string): Promise<Uint8Array | undefined> {
    if (key.endsWith('/manifest.json')) this.manifestReads++;
    return super.get(key);
  }
}

describe('DatasetCache: the manifest checked against the trial job', () => {
  const key = (): string => layout.datasetShardManifest(hash);

  it('opens a manifest whose SHA-256 matches, and jobs without one (queued before it existed)', async () => {
    const sha = shardManifestSha256(await store.getRequired(key()));
    const cache = new DatasetCache({ dir: join(dir, 'm1'), store, logger: log });
    expect((await cache.open(hash, sha)).manifest).toEqual(manifest);
    expect((await new DatasetCache({ dir: join(dir, 'm1'), store, logger: log }).open(hash)).manifest).toEqual(manifest);
  });

  it('refuses a manifest replaced in the bucket, after fetching it once more', async () => {
    const saved = await store.getRequired(key());
    const sha = shardManifestSha256(saved);
    // Another manifest for the same hash: valid, but not the one the coordinator stored (here the test split dropped).
    const other: ShardManifest = { ...manifest, splits: { ...manifest.splits, test: { rows: 0, tokens: 0, shards: [] } } };
    const counting = new CountingStore({ client: store.client, bucket: 'cache-test', endpoint: s3.endpoint });
    const cache = new DatasetCache({ dir: join(dir, 'm2'), store: counting, logger: log });
    await store.put(key(), shardManifestBytes(other), 'application/json');
    counting.manifestReads = 0;
    try {
      const err = await cache.open(hash, sha).then(() => undefined, (e: unknown) => e as Error & { code?: string });
      expect(err?.code).toBe('DATASET_CORRUPT');
      expect(err?.message).toContain(`has SHA-256 ${shardManifestSha256(shardManifestBytes(other))}, but the trial expects ${sha}`);
      expect(err?.message).toContain(store.uri(key()));
      // Fetched once more before failing.
      expect(counting.manifestReads).toBe(2);
      // A job queued before the check existed takes what the bucket has.
      expect((await new DatasetCache({ dir: join(dir, 'm3'), store, logger: log }).open(hash)).rows('test')).toBe(0);
    } finally {
      await store.put(key(), saved, 'application/json');
    }
    // Restored: the same cache opens it now (a failed read is not remembered), and keeps it.
    expect((await cache.open(hash, sha)).manifest).toEqual(manifest);
    await store.put(key(), shardManifestBytes(other), 'application/json');
    try {
      expect((await cache.open(hash, sha)).manifest).toEqual(manifest);
      // A job that expects the new manifest makes the cache read the bucket again.
      expect((await cache.open(hash, shardManifestSha256(shardManifestBytes(other)))).rows('test')).toBe(0);
    } finally {
      await store.put(key(), saved, 'application/json');
    }
  });
});
