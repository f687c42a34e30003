import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  deserializeShard,
  encodeForTrial,
  manifestMeta,
  parseShardManifest,
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

/**
 * Prepared datasets as shards, by content hash: the manifest (meta and every shard's SHA-256) is read from the bucket
 * once and kept in memory; each shard is fetched when first needed, checked against its hash and kept on local disk
 * under its own hash (so sweeps on the same data share it). A local copy is checked again on every read: a torn or
 * tampered file is fetched again, never trained on. Only the shards a trial is working on are in memory.
 */
export class DatasetCache {
  readonly #manifests = new Map<string, Promise<ShardManifest>>();
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

  /** The prepared dataset with content hash `hash`: its meta and its splits as shard sources. */
  async open(hash: string): Promise<ShardedDataset> {
    let m = this.#manifests.get(hash);
    if (m === undefined) {
      const key = layout.datasetShardManifest(hash);
      m = this.#store.getJson(key).then((raw) => {
        // Written by the coordinator after every shard; a trial is only queued once it is there.
        if (raw === undefined) throw new Error(`shard manifest ${this.#store.uri(key)} is missing; the dataset ${hash} was not sharded`);
        const parsed = parseShardManifest(raw, this.#store.uri(key));
        if (parsed.prepared !== hash) throw new Error(`shard manifest ${this.#store.uri(key)} is for dataset ${parsed.prepared}, expected ${hash}`);
        return parsed;
      });
      this.#manifests.set(hash, m);
      // A failed read is not remembered: the next trial asks the bucket again.
      m.catch(() => this.#manifests.delete(hash));
    }
    return new ShardedDataset(this, hash, await m);
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
