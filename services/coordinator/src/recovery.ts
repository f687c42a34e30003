import { randomBytes } from 'node:crypto';
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

// Compare-and-set on the recovery lock's token: extend, or delete, only while it is this pass's own.
const EXTEND_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end return 0`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

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
  const lockTtlMs = Math.max(opts.everyMs, 30_000);
  const runOnce = async (): Promise<number> => {
    // One coordinator at a time, holding a token of its own; the lock expires on its own if this one dies mid-pass,
    // is extended before each sweep it handles (a slow pass keeps it), and is released only while it is still ours.
    const token = `${process.pid}-${randomBytes(6).toString('hex')}`;
    if ((await redis.set(lockKey, token, 'PX', lockTtlMs, 'NX')) !== 'OK') return 0;
    let acted = 0;
    try {
      for (const { record, jobState, failedReason } of await lifecycle.findStranded()) {
        const { sweepId } = record;
        if ((await redis.eval(EXTEND_SCRIPT, 1, lockKey, token, String(lockTtlMs))) !== 1) {
          log.warn('recovery lock lost mid-pass (another coordinator holds it now); stopping this pass');
          break;
        }
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
      await redis.eval(RELEASE_SCRIPT, 1, lockKey, token).catch(() => undefined);
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
