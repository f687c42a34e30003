// Rules the deploy files' third-party images must keep, shared by the Compose and the Kubernetes checks.

/** SeaweedFS makes conditional PutObject atomic from this release on (seaweedfs/seaweedfs#8802); sweepq relies on it. */
export const MIN_SEAWEEDFS: readonly [number, number] = [4, 18];

/** Redis 8, pinned to a release (`redis:8.10.2`, `redis:8.10.2-alpine`). */
export const REDIS_8_IMAGE = /^redis:8\.\d+\.\d+(-[\w.]+)?$/;

/** A release tag or a digest: not `:latest`, not a floating major such as `:8` or `:alpine`. */
export const RELEASE_TAG = /:v?\d+\.\d+(\.\d+)?([-.][\w.]+)?$|@sha256:[0-9a-f]{64}$/;

/** Whether `image` is chrislusf/seaweedfs at a release with atomic conditional writes (MIN_SEAWEEDFS or later). */
export function isSeaweedfsWithConditionalWrites(image: string | undefined): boolean {
  const m = /^chrislusf\/seaweedfs:(\d+)\.(\d+)$/.exec(image ?? '');
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > MIN_SEAWEEDFS[0] || (major === MIN_SEAWEEDFS[0] && minor >= MIN_SEAWEEDFS[1]);
}
