/** What a service checks before it says it is ready; each check returns a reason when it is not. */
export interface ReadinessInputs {
  redisStatus: string;
  bucket: { ok: boolean; since: string; error?: string };
  shuttingDown: boolean;
}

/** The reasons a service is not ready (empty when it is), in the words `/readyz` shows an operator. */
export function readinessReasons(r: ReadinessInputs): string[] {
  const out: string[] = [];
  if (r.shuttingDown) out.push('shutting down');
  if (r.redisStatus !== 'ready') out.push(`redis ${r.redisStatus}: not connected; reconnecting`);
  if (!r.bucket.ok) out.push(`bucket unreachable since ${r.bucket.since}: ${r.bucket.error ?? 'unknown error'}; retrying`);
  return out;
}
