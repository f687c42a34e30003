import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { SweepLifecycle } from '@sweepq/lifecycle';
import { redisKeys } from '@sweepq/queue';
import type { Logger } from '@sweepq/runtime';

/** Options for {@link startRecovery}. */
export interface RecoveryOptions {
  lifecycle: SweepLifecycle;
  redis: Redis;
  prefix: string;
  everyMs: number;
  logger: Logger;
  signal: AbortSignal;
}

/** A sweep whose job is missing this soon after its last write may be a submit still in progress: wait. */
const SUBMIT_GRACE_MS = 30_000;

/**
 * The bucket is the source of truth: every `everyMs` (and as soon as Redis is back after an outage) one coordinator
 * at a time looks for sweeps that are not finished but have no live sweep job — Redis restarted empty, or the job
 * failed for good without its failure reaching the bucket — and rebuilds or fails them through the life cycle.
 */
export function startRecovery(opts: RecoveryOptions): { stop(): Promise<void>; runOnce(): Promise<number> } {
  const { lifecycle, redis, logger: log } = opts;
  const lockKey = redisKeys(opts.prefix).recoveryLock();
  const runOnce = async (): Promise<number> => {
    // One coordinator at a time; the lock expires on its own if this one dies mid-pass.
    if ((await redis.set(lockKey, String(process.pid), 'PX', Math.max(opts.everyMs, 10_000), 'NX')) !== 'OK') return 0;
    let acted = 0;
    try {
      for (const { record, jobState, failedReason } of await lifecycle.findStranded()) {
        const { sweepId } = record;
        if (jobState === 'failed') {
          if (await lifecycle.fail(sweepId, `coordinator gave up: ${failedReason ?? 'the sweep job failed'}`)) {
            log.warn({ sweepId }, 'sweep job had failed for good; recorded the failure in sweep.json');
            acted += 1;
          }
          continue;
        }
        if (jobState !== 'completed' && Date.now() - Date.parse(record.updatedAt) < SUBMIT_GRACE_MS && record.trials === undefined) continue;
        const reason = jobState === 'completed' ? 'the sweep job ended but sweep.json was not final' : 'Redis lost the sweep job (restarted without its data?)';
        if (await lifecycle.resume(sweepId, reason)) acted += 1;
      }
    } finally {
      await redis.del(lockKey).catch(() => undefined);
    }
    return acted;
  };
  let wake: (() => void) | undefined;
  const onReady = () => wake?.();
  redis.on('ready', onReady);
  const loop = (async () => {
    while (!opts.signal.aborted) {
      try {
        await runOnce();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'recovery pass failed; trying again later');
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        void sleep(opts.everyMs, undefined, { signal: opts.signal }).then(resolve, resolve);
      });
      wake = undefined;
    }
  })();
  return {
    runOnce,
    async stop() {
      redis.off('ready', onReady);
      wake?.();
      await loop;
    },
  };
}
