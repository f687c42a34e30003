import { z } from 'zod';
import { commonEnvShape, parseEnv } from '@sweepq/runtime';

const coordinatorEnvSchema = z.object({
  ...commonEnvShape,
  /** This coordinator's name in sweep heartbeats and logs; default `<hostname>-<pid>`. */
  COORDINATOR_ID: z.string().min(1).max(128).optional(),
  /** Sweeps one coordinator process follows at once. */
  COORDINATOR_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /** How often a sweep's trial states are polled, in ms. */
  COORDINATOR_POLL_MS: z.coerce.number().int().min(100).default(1000),
  /**
   * A coordinator whose sweep lock is not renewed within this many ms is considered dead; another takes over within
   * about 1.5 times this (the stalled check runs every half of it).
   */
  COORDINATOR_LOCK_MS: z.coerce.number().int().min(2000).default(8000),
  /**
   * How many times a sweep's job may stall (its coordinator died, or paused past its lock: a stopped container, a
   * starved CPU, a GC pause) before BullMQ fails the sweep. A stall only hands the sweep to another coordinator, which
   * the owner epoch in sweep.json makes safe, so the limit is high: it stops only a sweep that kills every coordinator
   * that takes it.
   */
  COORDINATOR_MAX_STALLS: z.coerce.number().int().min(1).default(1000),
  /** How often a coordinator looks in the bucket for sweeps whose queue state Redis lost (and rebuilds them), in ms. */
  COORDINATOR_RECOVERY_MS: z.coerce.number().int().min(1000).default(20_000),
  /**
   * Refuse dataset files larger than this many bytes (as stored, and again decompressed). A guard against a wrong
   * URI, not a memory limit: preparation streams. Default 64 GiB.
   */
  DATASET_MAX_BYTES: z.coerce.number().int().min(1).optional(),
  /** Folder for the temporary files of dataset preparation (about twice the prepared size); default the OS's. */
  DATASET_TMP_DIR: z.string().min(1).optional(),
  SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(1000).default(25_000),
  /** Create the bucket at start when it does not exist (local set-ups; off for production). */
  S3_CREATE_BUCKET: z.enum(['true', 'false', '1', '0', '']).default('false').transform((v) => v === 'true' || v === '1'),
});

export type CoordinatorEnv = z.infer<typeof coordinatorEnvSchema>;

/** Parse the coordinator's environment once at start-up. */
export function loadCoordinatorEnv(env: Record<string, string | undefined> = process.env): CoordinatorEnv {
  return parseEnv(coordinatorEnvSchema, env);
}
