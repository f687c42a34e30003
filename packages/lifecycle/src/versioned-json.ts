import { randomBytes } from 'node:crypto';
import type { ArtifactStore } from '@sweepq/storage';

/** A JSON object in the bucket that carries the id of the write that produced it. */
export interface Versioned {
  /** Unique per write: tells a writer whose response was lost that the object in the bucket is its own write. */
  writeId?: string;
}

/** A fresh write id. */
export const newWriteId = (): string => randomBytes(8).toString('hex');

/**
 * One JSON object in the bucket, written only by compare-and-set: every write is conditional on the ETag this
 * holder last read or wrote (`If-Match`), or on there being no object (`If-None-Match: *`) when it saw none. A
 * write that finds the object changed by someone else does not land; {@link write} returns false and the holder
 * re-reads ({@link refresh}) and decides again. This is the fencing primitive: whoever wrote since wins, and the
 * writer that lost hears so instead of overwriting (S3 conditional writes; see `ArtifactStore.putIfMatch`).
 *
 * Requests are retried, so a write whose response was lost comes back as a conflict on the retry: each write
 * carries a fresh `writeId`, and a conflict whose object holds our own write id counts as success.
 */
export class VersionedJson<T extends Versioned> {
  readonly #store: ArtifactStore;
  readonly key: string;
  /** Validates what another process wrote, on every read. */
  readonly #parse: (raw: unknown) => T;
  #value: T | undefined;
  #etag: string | undefined;

  private constructor(store: ArtifactStore, key: string, parse: (raw: unknown) => T) {
    this.#store = store;
    this.key = key;
    this.#parse = parse;
  }

  /** Read the object (undefined value when missing). `parse` validates what another process wrote. */
  static async read<T extends Versioned>(store: ArtifactStore, key: string, parse: (raw: unknown) => T): Promise<VersionedJson<T>> {
    const holder = new VersionedJson<T>(store, key, parse);
    await holder.refresh();
    return holder;
  }

  /** A holder of an object that is known not to exist yet (its first write is `If-None-Match: *`). */
  static absent<T extends Versioned>(store: ArtifactStore, key: string, parse: (raw: unknown) => T): VersionedJson<T> {
    return new VersionedJson<T>(store, key, parse);
  }

  get store(): ArtifactStore {
    return this.#store;
  }

  get value(): T | undefined {
    return this.#value;
  }

  get etag(): string | undefined {
    return this.#etag;
  }

  /**
   * Write `next` if the object is still what this holder last saw. True when it landed (`next` is then the value);
   * false when someone else wrote (or deleted) it since: call {@link refresh} and decide again.
   */
  async write(next: T): Promise<boolean> {
    const value = { ...next, writeId: newWriteId() };
    const put =
      this.#etag === undefined ? await this.#store.putJsonIfAbsent(this.key, value) : await this.#store.putJsonIfMatch(this.key, value, this.#etag);
    if (put) {
      this.#value = value;
      this.#etag = put.etag;
      return true;
    }
    // A conflict: someone else's write, or our own whose response was lost and whose retry then found it there.
    await this.refresh();
    if (this.#value?.writeId === value.writeId) return true;
    return false;
  }

  /** Read the object again (after a conflict). */
  async refresh(): Promise<void> {
    const got = await this.#store.getJsonWithEtag(this.key);
    this.#value = got ? this.#parse(got.value) : undefined;
    this.#etag = got?.etag;
  }

  /** Whether the object in the bucket is still the version this holder last read or wrote (one HEAD request). */
  async unchanged(): Promise<boolean> {
    const h = await this.#store.head(this.key);
    return h?.etag === this.#etag;
  }
}
