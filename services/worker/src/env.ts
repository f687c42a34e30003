import { z } from 'zod';
import { commonEnvShape, parseEnv } from '@sweepq/runtime';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const workerEnvSchema = z.object({
  ...commonEnvShape,
  /** auto = tfjs-node if it loads, else WASM, else CPU. */
  SWEEPQ_BACKEND: z.enum(['auto', 'node', 'wasm', 'cpu']).default('auto'),
  SWEEPQ_CACHE_DIR: z.string().default(join(tmpdir(), 'sweepq-cache')),
  /** Trials trained at once by this process. Training is CPU-bound: scale processes, not this. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** A worker whose lock is not renewed within this many ms is considered dead and its trial handed on. */
  WORKER_LOCK_MS: z.coerce.number().int().min(5000).default(30_000),
  /** Times a trial may be recovered from a dead worker before it is failed (a crash loop guard). */
  WORKER_MAX_STALLS: z.coerce.number().int().min(1).default(5),
  /** Deadline for graceful shutdown (below Kubernetes' default 30 s grace period). */
  SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(1000).default(25_000),
  /** Worker-wide per-trial timeout in seconds (a spec's trial_timeout wins); 0 = none. */
  TRIAL_TIMEOUT_SEC: z.coerce.number().min(0).default(0),
  WORKER_ID: z.string().max(128).optional(),
  /** Process exactly one trial, then exit 0 (KEDA ScaledJob: one trial per pod). */
  WORKER_ONE_SHOT: z.enum(['true', 'false', '1', '0', '']).default('false').transform((v) => v === 'true' || v === '1'),
  /** In one-shot mode, exit 0 after this many seconds without a trial to take. */
  WORKER_ONE_SHOT_IDLE_SEC: z.coerce.number().min(1).default(60),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/** Parse the worker's environment once at start-up. */
export function loadWorkerEnv(env: Record<string, string | undefined> = process.env): WorkerEnv {
  return parseEnv(workerEnvSchema, env);
}
