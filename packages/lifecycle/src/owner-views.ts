import type { ArtifactStore } from '@sweepq/storage';
import { LifecycleError, LifecycleErrorCode } from './errors.js';
import type { SweepDoc } from './sweep-lifecycle.js';

type Body = Parameters<ArtifactStore['put']>[1];

/**
 * The store as the owner of a sweep writes its views through it (leaderboard, report, `best/`): every `put` is a
 * compare-and-set on the view's ETag as this owner last wrote or read it, made only while `doc` still owns the sweep.
 * A writer that was taken over either finds the view changed (its write is refused, and it then learns it is fenced)
 * or lands a write that the new owner, which writes every view again when it finishes, then replaces: the views in
 * the bucket end up the last owner's. `delete` and `deletePrefix` (a front's stale `best/` folders) run only while
 * `doc` still owns the sweep, checked before each. Reads pass through unchanged.
 *
 * A Proxy rather than a subclass: the store's other methods (and its private state) stay the one instance's, and the
 * report package keeps taking a plain `ArtifactStore`.
 */
export function ownerViews(store: ArtifactStore, doc: SweepDoc): ArtifactStore {
  const etags = new Map<string, string | null>();
  const put = async (key: string, body: Body, contentType?: string): Promise<{ etag: string }> => {
    for (let conflicts = 0; conflicts < 5; conflicts++) {
      const known = etags.has(key) ? etags.get(key)! : ((await store.head(key))?.etag ?? null);
      // Checked after the ETag was read: a successor that took the sweep before this read is seen here.
      await doc.assertOwner();
      const done = known === null ? await store.putIfAbsent(key, body, contentType) : await store.putIfMatch(key, body, known, contentType);
      if (done) {
        etags.set(key, done.etag);
        return done;
      }
      // Someone else wrote it since: read it again (and check ownership again) before writing.
      etags.delete(key);
    }
    throw new LifecycleError(LifecycleErrorCode.Conflict, `${store.uri(key)} kept changing while the owner of sweep ${doc.record.sweepId} wrote it; try again`, {
      sweepId: doc.record.sweepId,
    });
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'put') return put;
      if (prop === 'putJson') return (key: string, value: unknown) => put(key, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
      if (prop === 'delete') {
        return async (key: string): Promise<void> => {
          await doc.assertOwner();
          etags.delete(key);
          await target.delete(key);
        };
      }
      if (prop === 'deletePrefix') {
        return async (prefix: string): Promise<number> => {
          await doc.assertOwner();
          for (const key of etags.keys()) if (key.startsWith(prefix)) etags.delete(key);
          return target.deletePrefix(prefix);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
