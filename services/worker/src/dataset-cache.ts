import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserializePrepared, preparedHash, type PreparedDataset } from '@sweepq/data';
import type { ArtifactStore } from '@sweepq/storage';
import type { Logger } from '@sweepq/runtime';

/**
 * Prepared datasets by content hash: memory first, then a local file, then the bucket. The hash is
 * checked on every load from disk or bucket, so a torn or tampered file is refetched, never used.
 */
export class DatasetCache {
  readonly #memory = new Map<string, PreparedDataset>();
  readonly #dir: string;
  readonly #store: ArtifactStore;
  readonly #log: Logger;
  /** Keep at most this many datasets in memory (sweeps rarely share a worker with more). */
  readonly #maxInMemory = 4;

  constructor(opts: { dir: string; store: ArtifactStore; logger: Logger }) {
    this.#dir = opts.dir;
    this.#store = opts.store;
    this.#log = opts.logger;
  }

  async get(key: string, hash: string): Promise<PreparedDataset> {
    const hit = this.#memory.get(hash);
    if (hit) return hit;
    const file = join(this.#dir, `${hash}.bin`);
    let bytes: Uint8Array | undefined;
    try {
      bytes = new Uint8Array(await readFile(file));
      if (preparedHash(bytes) !== hash) bytes = undefined;
    } catch {
      bytes = undefined;
    }
    if (!bytes) {
      const t0 = Date.now();
      bytes = await this.#store.getRequired(key);
      const got = preparedHash(bytes);
      if (got !== hash) {
        throw new Error(`prepared dataset ${this.#store.uri(key)} has hash ${got}, expected ${hash}; it was modified after the sweep started`);
      }
      await mkdir(this.#dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, bytes);
      await rename(tmp, file);
      this.#log.info({ key, hash, bytes: bytes.length, ms: Date.now() - t0 }, 'prepared dataset downloaded');
    }
    const prepared = deserializePrepared(bytes);
    if (this.#memory.size >= this.#maxInMemory) {
      const oldest = this.#memory.keys().next().value;
      if (oldest !== undefined) this.#memory.delete(oldest);
    }
    this.#memory.set(hash, prepared);
    return prepared;
  }
}
