import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseShardManifest, prepareDatasetFile, shardManifestBytes, shardManifestSha256, shardPreparedFile } from '@sweepq/data';
import type { Logger } from '@sweepq/runtime';
import type { DatasetSpec } from '@sweepq/sweep-config';
import { layout, type ArtifactStore } from '@sweepq/storage';
import type { PreparationProgress, SweepRecord } from '@sweepq/results';

/** Settings of {@link prepareSweepDataset} (from the coordinator's environment). */
export interface DatasetPreparerOptions {
  /** Refuse source files larger than this many bytes (stored and decompressed); default the data package's 64 GiB. */
  maxBytes?: number;
  /** Folder for the temporary files of a preparation; default the OS temporary folder. */
  tmpDir?: string;
  /** Stops the preparation (shutdown, lock lost). */
  signal?: AbortSignal;
  /** Rows per shard of the prepared data (workers fetch shards); default the data package's 65,536. */
  shardRows?: number;
  /** Called about every `progressMs` while preparing, and once with phase `done` (the sweep shows it in `status`). */
  onProgress?: (p: PreparationProgress) => void;
  /** Default 5,000. */
  progressMs?: number;
}

/**
 * Read, check, tokenize, split and encode the sweep's dataset once, streamed in bounded memory and giving the event
 * loop a turn every few ms (the sweep's lock renewal and heartbeat keep running), and store it in the bucket under
 * its content hash. Trials apply their own max_words/max_len to these arrays (Keras' num_words only filters at
 * encoding). The checks are `sweepq submit`'s (one owner of the dataset rules), here over the whole file.
 */
export async function prepareSweepDataset(
  spec: DatasetSpec,
  store: ArtifactStore,
  log: Logger,
  opts: DatasetPreparerOptions = {},
): Promise<NonNullable<SweepRecord['dataset']>> {
  const t0 = Date.now();
  // Prepared once per source content and settings, whichever sweep asks first.
  const fingerprint = await sourceFingerprint(spec, store);
  const sourceKey = fingerprint === undefined ? undefined : `datasets/sources/${fingerprint}.json`;
  if (sourceKey !== undefined) {
    const known = await store.getJson<NonNullable<SweepRecord['dataset']>>(sourceKey).catch(() => undefined);
    // `key`: the shard manifest, or for data prepared by older versions their prepared.bin.
    if (known !== undefined && typeof known.key === 'string' && (await store.exists(known.key))) {
      // Prepared by a version that wrote no shards: cut them now from the stored file.
      await ensureShards(store, known.key, known.hash, log, opts);
      log.info({ ...known, uri: spec.uri, ms: Date.now() - t0 }, 'dataset prepared before; reused');
      return { ...known, uri: spec.uri };
    }
  }
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'sweepq-dataset-'));
  try {
    const outFile = join(dir, 'prepared.bin');
    let lastLog = t0;
    // The first report comes with the first megabyte, so even a short preparation shows in `status`.
    let lastReport = Number.NEGATIVE_INFINITY;
    let last: PreparationProgress = { phase: 'read', rows: 0, bytes: 0, mbPerSec: 0, seconds: 0, at: new Date(t0).toISOString() };
    // Bytes read as of the latest progress (reports are throttled: the last one sent can be well behind).
    let bytesRead = 0;
    const report = (phase: PreparationProgress['phase'], now: number, rows = last.rows, bytes = last.bytes): void => {
      const seconds = (now - t0) / 1000;
      last = { phase, rows, bytes, mbPerSec: seconds > 0 ? Math.round((10 * bytes) / 1e6 / seconds) / 10 : 0, seconds: Math.round(seconds), at: new Date(now).toISOString() };
      lastReport = now;
      opts.onProgress?.(last);
    };
    const prepared = await prepareDatasetFile(spec, {
      tmpDir: dir,
      outFile,
      fetcher: (uri) => store.getUriStream(uri),
      ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      onProgress: (p) => {
        const now = Date.now();
        bytesRead = p.bytes;
        if (now - lastReport >= (opts.progressMs ?? 5000)) report(p.phase, now, p.rows, p.bytes);
        if (now - lastLog < 10_000) return;
        lastLog = now;
        const mb = p.bytes / 1e6;
        log.info({ phase: p.phase, rows: p.rows, mb: Math.round(mb), mbPerS: Math.round((10 * mb) / ((now - t0) / 1000)) / 10 }, 'preparing dataset');
      },
    });
    // The shards are the stored form (no copy of the whole file beside them): the dataset's key is its manifest.
    const key = layout.datasetShardManifest(prepared.hash);
    report('shard', Date.now(), prepared.summary.rows, bytesRead);
    await writeShards(store, outFile, prepared.hash, log, opts);
    report('done', Date.now());
    const counts = Object.values(prepared.classCounts);
    const total = counts.reduce((a, b) => a + b, 0);
    const info = {
      uri: spec.uri,
      key,
      hash: prepared.hash,
      classes: prepared.classes,
      rows: prepared.summary.rows,
      classCounts: prepared.classCounts,
      sizes: prepared.summary.sizes,
      vocabulary: prepared.vocabulary,
      majorityRate: total > 0 ? Math.max(...counts) / total : 0,
    };
    if (sourceKey !== undefined) await store.putJson(sourceKey, info);
    log.info({ ...info, bytes: prepared.bytes, ms: Date.now() - t0 }, 'dataset prepared');
    return info;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What a preparation depends on, hashed: the source's content identity and every setting that changes the output.
 * An upload's key holds its SHA-256 and a built-in dataset is fixed; another `s3://` object counts by ETag and
 * size. Local paths and `https://` URLs have no cheap identity here: undefined, prepared every time.
 */
async function sourceFingerprint(spec: DatasetSpec, store: ArtifactStore): Promise<string | undefined> {
  let identity: string;
  if (spec.uri.startsWith('builtin:') || /^s3:\/\/[^/]+\/(.+\/)?datasets\/uploads\/[0-9a-f]{64}\//.test(spec.uri)) identity = spec.uri;
  else if (spec.uri.startsWith('s3://')) {
    const st = await store.statUri(spec.uri).catch(() => undefined);
    if (st === undefined || st.etag === '') return undefined;
    identity = `${spec.uri} ${st.etag} ${st.size}`;
  } else return undefined;
  const settings = [spec.format, spec.header, spec.text_field, spec.label_field, spec.max_rows, spec.validation_split, spec.test_split, spec.seed];
  return createHash('sha256').update(JSON.stringify({ format: 'sweepq-prepared/1', identity, settings })).digest('hex');
}

/** Cut the local prepared file into shards and store them, the manifest last (unless it is already there). */
async function writeShards(store: ArtifactStore, file: string, hash: string, log: Logger, opts: DatasetPreparerOptions): Promise<void> {
  const manifestKey = layout.datasetShardManifest(hash);
  if (await store.exists(manifestKey)) return;
  const t0 = Date.now();
  let bytes = 0;
  const manifest = await shardPreparedFile(file, hash, {
    ...(opts.shardRows !== undefined ? { rowsPerShard: opts.shardRows } : {}),
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    write: async (name, b) => {
      bytes += b.length;
      await store.put(layout.datasetShard(hash, name), b);
    },
  });
  await store.put(manifestKey, shardManifestBytes(manifest), 'application/json');
  const shards = Object.values(manifest.splits).reduce((a, s) => a + s.shards.length, 0);
  log.info({ hash, shards, rowsPerShard: manifest.rowsPerShard, bytes, ms: Date.now() - t0 }, 'prepared dataset sharded');
}

/**
 * The shards of a prepared dataset already in the bucket: cut from a downloaded copy when its manifest is missing
 * (data prepared by a version without shards, e.g. a sweep taken over across an upgrade).
 */
export async function ensureShards(store: ArtifactStore, key: string, hash: string, log: Logger, opts: DatasetPreparerOptions): Promise<void> {
  if (await store.exists(layout.datasetShardManifest(hash))) return;
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'sweepq-shards-'));
  try {
    const file = join(dir, 'prepared.bin');
    await pipeline(Readable.from(await store.getUriStream(store.uri(key))), createWriteStream(file), opts.signal ? { signal: opts.signal } : {});
    await writeShards(store, file, hash, log, opts);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * SHA-256 of the dataset's shard manifest as stored (after a check that it parses and is this dataset's): trial jobs
 * carry it, and workers refuse a manifest with other bytes.
 */
export async function shardManifestSha256Of(store: ArtifactStore, hash: string): Promise<string> {
  const key = layout.datasetShardManifest(hash);
  const bytes = await store.getRequired(key);
  const manifest = parseShardManifest(JSON.parse(new TextDecoder().decode(bytes)), store.uri(key));
  if (manifest.prepared !== hash) throw new Error(`shard manifest ${store.uri(key)} is for dataset ${manifest.prepared}, expected ${hash}`);
  return shardManifestSha256(bytes);
}
