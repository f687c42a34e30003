import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DatasetError,
  DatasetErrorCode,
  deserializeShard,
  encodeForTrial,
  manifestMeta,
  parseShardManifest,
  shardManifestSha256,
  type PreparedMeta,
  type PreparedSplit,
  type ShardManifest,
  type SplitName,
  type TrialEncoding,
} from '@sweepq/data';
import type { BlockSource } from '@sweepq/model';
import type { ArtifactStore } from '@sweepq/storage';
import { layout } from '@sweepq/storage';
import type { Logger } from '@sweepq/runtime';

/** A manifest as read from the bucket, with the SHA-256 of its bytes. */
interface LoadedManifest {
  manifest: ShardManifest;
  sha256: string;
}

function parseJson(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new DatasetError(DatasetErrorCode.CORRUPT, `${where}: not valid JSON (${(err as Error).message}); expected a shard manifest`);
  }
}

/**
 * Prepared datasets as shards, by content hash: the manifest (meta and every shard's SHA-256) is read from the bucket
 * once and kept in memory; each shard is fetched when first needed, checked against its hash and kept on local disk
 * under its own hash (so sweeps on the same data share it). A local copy is checked again on every read: a torn or
 * tampered file is fetched again, never trained on. Only the shards a trial is working on are in memory.
 */
export class DatasetCache {
  readonly #manifests = new Map<string, Promise<LoadedManifest>>();
  /** Fetches under way (or done, while the map entry lives), by shard hash: one download per shard at a time. */
  readonly #fetches = new Map<string, Promise<void>>();
  /** Shards whose local copy passed its check in this process (a prefetch skips them; a load checks again). */
  readonly #verified = new Set<string>();
  readonly #dir: string;
  readonly #store: ArtifactStore;
  readonly #log: Logger;

  constructor(opts: { dir: string; store: ArtifactStore; logger: Logger }) {
    this.#dir = join(opts.dir, 'shards');
    this.#store = opts.store;
    this.#log = opts.logger;
  }

  /**
   * The prepared dataset with content hash `hash`: its meta and its splits as shard sources. With `manifestSha256`
   * (the trial job's), the manifest's bytes must have that SHA-256: a manifest that does not match is fetched once
   * more (it may have been read while being replaced), then refused.
   */
  async open(hash: string, manifestSha256?: string): Promise<ShardedDataset> {
    let m = this.#manifests.get(hash);
    if (m !== undefined && manifestSha256 !== undefined) {
      const known = await m.catch(() => undefined);
      if (known?.sha256 !== manifestSha256) m = undefined;
    }
    if (m === undefined) {
      const loading = this.#loadManifest(hash, manifestSha256);
      m = loading;
      this.#manifests.set(hash, loading);
      // A failed read is not remembered: the next trial asks the bucket again.
      loading.catch(() => {
        if (this.#manifests.get(hash) === loading) this.#manifests.delete(hash);
      });
    }
    return new ShardedDataset(this, hash, (await m).manifest);
  }

  async #loadManifest(hash: string, expected: string | undefined): Promise<LoadedManifest> {
    const key = layout.datasetShardManifest(hash);
    const where = this.#store.uri(key);
    for (let attempt = 1; ; attempt++) {
      const bytes = await this.#store.get(key);
      // Written by the coordinator after every shard; a trial is only queued once it is there.
      if (bytes === undefined) throw new Error(`shard manifest ${where} is missing; the dataset ${hash} was not sharded`);
      const sha256 = shardManifestSha256(bytes);
      if (expected === undefined || sha256 === expected) {
        const parsed = parseShardManifest(parseJson(bytes, where), where);
        if (parsed.prepared !== hash) throw new Error(`shard manifest ${where} is for dataset ${parsed.prepared}, expected ${hash}`);
        return { manifest: parsed, sha256 };
      }
      const message = `shard manifest ${where} has SHA-256 ${sha256}, but the trial expects ${expected} (the manifest stored when the dataset was prepared)`;
      if (attempt >= 2) {
        throw new DatasetError(DatasetErrorCode.CORRUPT, `${message}; it was replaced or damaged in the bucket: prepare the dataset again (a new sweep) or restore the manifest`);
      }
      this.#log.warn({ key, sha256, expected }, 'shard manifest does not match the trial; fetching it again');
    }
  }

  /** Shard `index` of `split`, read from the local copy or fetched, verified either way. */
  async shard(hash: string, manifest: ShardManifest, split: SplitName, index: number): Promise<PreparedSplit> {
    const ref = manifest.splits[split].shards[index];
    if (ref === undefined) throw new Error(`dataset ${hash}: ${split} has no shard ${index}`);
    const file = join(this.#dir, `${ref.sha256}.bin`);
    const nClasses = manifest.classes.length;
    const nWords = manifest.words.length;
    const local = await readFile(file).then(
      (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
      () => undefined,
    );
    if (local !== undefined) {
      try {
        return deserializeShard(local, ref, nClasses, nWords);
      } catch (err) {
        this.#verified.delete(ref.sha256);
        this.#log.warn({ file, err: (err as Error).message }, 'cached shard failed its check; fetching it again');
        await rm(file, { force: true });
      }
    }
    await this.fetch(hash, manifest, split, index);
    const b = await readFile(file);
    return deserializeShard(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), ref, nClasses, nWords);
  }

  /** Make sure shard `index` of `split` is on local disk, verified (one download per shard at a time). */
  fetch(hash: string, manifest: ShardManifest, split: SplitName, index: number): Promise<void> {
    const ref = manifest.splits[split].shards[index];
    if (ref === undefined) return Promise.reject(new Error(`dataset ${hash}: ${split} has no shard ${index}`));
    if (this.#verified.has(ref.sha256)) return Promise.resolve();
    let f = this.#fetches.get(ref.sha256);
    if (f === undefined) {
      f = this.#download(hash, manifest, split, index).finally(() => this.#fetches.delete(ref.sha256));
      this.#fetches.set(ref.sha256, f);
    }
    return f;
  }

  async #download(hash: string, manifest: ShardManifest, split: SplitName, index: number): Promise<void> {
    const ref = manifest.splits[split].shards[index] as ShardManifest['splits']['train']['shards'][number];
    const file = join(this.#dir, `${ref.sha256}.bin`);
    const ok = await readFile(file).then(
      (b) => {
        deserializeShard(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), ref, manifest.classes.length, manifest.words.length);
        return true;
      },
      () => false,
    ).catch(() => false);
    if (ok) {
      this.#verified.add(ref.sha256);
      return;
    }
    const t0 = Date.now();
    const key = layout.datasetShard(hash, ref.name);
    const bytes = await this.#store.getRequired(key);
    // Checked before it is stored: a bad copy in the bucket fails here (and the job is retried), not in training.
    deserializeShard(bytes, ref, manifest.classes.length, manifest.words.length);
    await mkdir(this.#dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
    this.#verified.add(ref.sha256);
    this.#log.debug({ key, bytes: bytes.length, ms: Date.now() - t0 }, 'shard downloaded');
  }
}

/** One prepared dataset, opened through {@link DatasetCache.open}. */
export class ShardedDataset {
  constructor(
    private readonly cache: DatasetCache,
    readonly hash: string,
    readonly manifest: ShardManifest,
  ) {}

  /** Classes, vocabulary, tokenizer and source (what `trialVocabulary` needs). */
  get meta(): PreparedMeta {
    return manifestMeta(this.manifest);
  }

  /** Rows of `split`. */
  rows(split: SplitName): number {
    return this.manifest.splits[split].rows;
  }

  /**
   * The first `count` documents of `split`'s first shard as text again: their words (the dataset's vocabulary, which
   * holds every word of the training split) joined by the tokenizer's separator, so tokenizing one gives back its
   * words (words the training split never had are not in the shard). Empty when the split has no rows.
   */
  async sampleTexts(split: SplitName, count: number): Promise<string[]> {
    if (this.manifest.splits[split].shards.length === 0) return [];
    const shard = await this.cache.shard(this.hash, this.manifest, split, 0);
    const { words, tokenizer } = this.manifest;
    const texts: string[] = [];
    for (let i = 0; i < Math.min(count, shard.labels.length); i++) {
      const ids = shard.tokens.subarray(shard.offsets[i], shard.offsets[i + 1]);
      texts.push(Array.from(ids, (id) => words[id - 1] ?? '').join(tokenizer.split));
    }
    return texts;
  }

  /**
   * The whole of `split` in memory: its shards, each verified, joined in row order. For small datasets and tests
   * (the prepared data is stored only as shards); training reads shard by shard through {@link ShardedDataset.source}.
   */
  async readSplit(split: SplitName): Promise<PreparedSplit> {
    const { rows, tokens, shards } = this.manifest.splits[split];
    const out: PreparedSplit = { labels: new Int32Array(rows), offsets: new Int32Array(rows + 1), tokens: new Int32Array(tokens) };
    let r = 0;
    let t = 0;
    for (let i = 0; i < shards.length; i++) {
      const part = await this.cache.shard(this.hash, this.manifest, split, i);
      out.labels.set(part.labels, r);
      for (let k = 1; k <= part.labels.length; k++) out.offsets[r + k] = t + (part.offsets[k] as number);
      out.tokens.set(part.tokens, t);
      r += part.labels.length;
      t += part.tokens.length;
    }
    return out;
  }

  /**
   * `split` encoded for a trial, a shard per block: shards are fetched as training asks for them (one at a time, in
   * the order asked, a prefetch never waiting for a block being loaded) and encoded when loaded.
   */
  source(split: SplitName, enc: TrialEncoding): BlockSource {
    const shards = this.manifest.splits[split].shards;
    let queue = Promise.resolve();
    return {
      blockRows: shards.map((s) => s.rows),
      maxLen: enc.maxLen,
      load: async (b) => {
        const e = encodeForTrial(await this.cache.shard(this.hash, this.manifest, split, b), enc);
        return { x: e.x, y: e.y };
      },
      prefetch: (blocks) => {
        // Sequential, so the blocks needed first arrive first; errors surface when the block is loaded.
        for (const b of blocks) queue = queue.then(() => this.cache.fetch(this.hash, this.manifest, split, b)).catch(() => undefined);
      },
    };
  }
}
