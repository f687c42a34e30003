import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { ClaimOutcome, QueueName, claimResult, redisKeys } from '@sweepq/queue';
import { TrialState, type TrialResult } from '@sweepq/results';
import type { Logger } from '@sweepq/runtime';
import type { TrialParams } from '@sweepq/spec';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { readTrialResult } from './records.js';
import { cancelRequested } from './sweep-lifecycle.js';

/** What the trial side of the life cycle needs. */
export interface TrialLifecycleDeps {
  store: ArtifactStore;
  redis: Redis;
  prefix: string;
  logger?: Logger;
}

/** The BullMQ job attempt that runs a trial: its id and lock token (absent when run outside a worker, in tests). */
export interface JobLease {
  jobId: string | undefined;
  token: string | undefined;
  attempt: number;
}

/** Thrown when this attempt lost its job lock before committing: another worker owns the trial now. */
export class LockLostError extends Error {
  constructor(trialId: string) {
    super(`lost the job lock of trial ${trialId} before committing its result; another worker owns it now`);
  }
}

const DONE_TTL_SEC = 30 * 24 * 3600;
/** How long a final result waits for a worker that claimed the commit first to write its own (20 × 250 ms). */
const FINAL_WAIT_POLLS = 20;
const FINAL_WAIT_MS = 250;

/**
 * Every trial state change: claim, commit (`result.json` is the commit point), final results written for trials that
 * could not write their own. Nothing else writes `result.json` or the done hash.
 */
export class TrialLifecycle {
  readonly #deps: TrialLifecycleDeps;
  readonly #keys: ReturnType<typeof redisKeys>;

  constructor(deps: TrialLifecycleDeps) {
    this.#deps = deps;
    this.#keys = redisKeys(deps.prefix);
  }

  /** Whether the trial's sweep was cancelled (workers poll this between batches). */
  sweepCancelled(sweepId: string): Promise<boolean> {
    return cancelRequested(this.#deps.redis, this.#keys, sweepId);
  }

  /** Final states recorded so far, by trial id (one call; what the coordinator polls). */
  async doneTrials(sweepId: string): Promise<Map<string, TrialState>> {
    return new Map(Object.entries(await this.#deps.redis.hgetall(this.#keys.done(sweepId)))) as Map<string, TrialState>;
  }

  /** The final state recorded for a trial, if any. */
  async doneState(sweepId: string, trialId: string): Promise<TrialState | undefined> {
    return ((await this.#deps.redis.hget(this.#keys.done(sweepId), trialId)) ?? undefined) as TrialState | undefined;
  }

  /** Record a final state in Redis (after its result.json is in the bucket). */
  async markDone(sweepId: string, trialId: string, state: TrialState): Promise<void> {
    const key = this.#keys.done(sweepId);
    await this.#deps.redis.multi().hset(key, trialId, state).expire(key, DONE_TTL_SEC).exec();
  }

  /** A trial's committed result (validated), if it has one. */
  result(sweepId: string, trialId: string): Promise<TrialResult | undefined> {
    return readTrialResult(this.#deps.store, sweepId, trialId);
  }

  /** Whether this attempt still holds the trial's BullMQ job lock (always true when run without a token). */
  async ownsLock(lease: JobLease): Promise<boolean> {
    if (lease.token === undefined || lease.jobId === undefined) return true;
    return (await this.#deps.redis.get(this.#keys.jobLock(QueueName.Trials, lease.jobId))) === lease.token;
  }

  /**
   * Claim the right to commit this trial's result (atomically in Redis; only the job-lock holder can). Returns the
   * result an earlier attempt already committed, if there is one; throws {@link LockLostError} if the lock is gone.
   */
  async claim(sweepId: string, trialId: string, lease: JobLease): Promise<TrialResult | undefined> {
    if (lease.token === undefined || lease.jobId === undefined) return undefined;
    const claim = { prefix: this.#deps.prefix, jobId: lease.jobId, token: lease.token, sweepId, trialId };
    let outcome = await claimResult(this.#deps.redis, claim);
    if (outcome === ClaimOutcome.TakenByEarlierAttempt) {
      const existing = await this.result(sweepId, trialId);
      if (existing) {
        this.#deps.logger?.info({ sweepId, trialId }, 'an earlier attempt already committed this trial; keeping its result');
        await this.#dropCheckpoint(sweepId, trialId);
        await this.markDone(sweepId, trialId, existing.state);
        return existing;
      }
      // The earlier claimer died between claiming and writing; we hold the lock now.
      outcome = await claimResult(this.#deps.redis, { ...claim, force: true });
    }
    if (outcome === ClaimOutcome.LockLost) throw new LockLostError(trialId);
    return undefined;
  }

  /**
   * Write result.json exactly once per trial: claim it (unless `claimed`), write it, drop the checkpoint, then record
   * the state. The checkpoint goes before the state so that a worker killed in between leaves a trial that is not yet
   * done (its job runs again and finds the result) rather than a done trial with a checkpoint nobody removes. A
   * duplicate attempt gets the result that is already there.
   */
  async commit(result: TrialResult, lease: JobLease, opts: { claimed?: boolean; dropCheckpoint?: boolean } = {}): Promise<TrialResult> {
    const { sweepId, trialId } = result;
    if (!opts.claimed) {
      const existing = await this.claim(sweepId, trialId, lease);
      if (existing) return existing;
    }
    await this.#deps.store.putJson(layout.result(sweepId, trialId), result);
    if (opts.dropCheckpoint !== false) await this.#dropCheckpoint(sweepId, trialId);
    await this.markDone(sweepId, trialId, result.state);
    return result;
  }

  /**
   * A trial that ended without writing its own result (its job failed for good, or it was cancelled before it
   * started) gets a result.json saying why, so the bucket tells the whole story.
   */
  async recordFinal(
    sweepId: string,
    t: { trialId: string; index: number; params: TrialParams },
    metric: { name: string; goal: 'maximize' | 'minimize' },
    state: typeof TrialState.Failed | typeof TrialState.Cancelled,
    reason: string,
    attempts: number,
  ): Promise<TrialResult> {
    const result: TrialResult = {
      sweepId,
      trialId: t.trialId,
      index: t.index,
      state,
      reason: state === TrialState.Cancelled ? 'cancelled' : 'error',
      error: reason,
      params: t.params,
      metric: { ...metric, value: null },
      final: null,
      test: null,
      epochs: 0,
      durationSec: 0,
      samplesPerSec: null,
      backend: 'unknown',
      tfjsVersion: 'unknown',
      worker: 'unknown',
      attempt: attempts,
      finishedAt: new Date().toISOString(),
    };
    // Claim the commit like a worker does, so a worker that took the trial meanwhile (a race with the queue) cannot
    // overwrite this result later; if a worker claimed first, its result wins.
    const claimKey = this.#keys.resultClaim(sweepId, t.trialId);
    if ((await this.#deps.redis.set(claimKey, `final:${state}`, 'EX', DONE_TTL_SEC, 'NX')) !== 'OK') {
      for (let i = 0; i < FINAL_WAIT_POLLS; i++) {
        const theirs = await this.result(sweepId, t.trialId);
        if (theirs) {
          await this.markDone(sweepId, t.trialId, theirs.state);
          return theirs;
        }
        await sleep(FINAL_WAIT_MS);
      }
      // The claimer died before writing: this result stands.
      await this.#deps.redis.set(claimKey, `final:${state}`, 'EX', DONE_TTL_SEC);
    }
    await this.#deps.store.putJson(layout.result(sweepId, t.trialId), result);
    await this.markDone(sweepId, t.trialId, state);
    await this.#dropCheckpoint(sweepId, t.trialId);
    return result;
  }

  async #dropCheckpoint(sweepId: string, trialId: string): Promise<void> {
    await this.#deps.store.deletePrefix(layout.checkpointPrefix(sweepId, trialId)).catch((err: unknown) =>
      this.#deps.logger?.warn({ sweepId, trialId, err: (err as Error).message }, 'could not remove the checkpoint'),
    );
  }
}
