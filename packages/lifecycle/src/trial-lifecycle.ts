import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ClaimOutcome, QueueName, claimResult, redisKeys } from '@sweepq/queue';
import { TrialState, type ReopenedTrial, type TrialResult } from '@sweepq/results';
import type { Logger } from '@sweepq/runtime';
import type { TrialParams } from '@sweepq/sweep-config';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { LifecycleError, LifecycleErrorCode, LockLostError } from './errors.js';
import { readResultSlot, readTrialResult } from './records.js';
import { cancelRequested } from './cancel-flag.js';

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

const DONE_TTL_SEC = 30 * 24 * 3600;

/**
 * Every trial state change: claim, commit (`result.json` is the commit point), final results written for trials that
 * could not write their own, trials reopened by `sweepq retry`. Nothing else writes `result.json` or the done hash.
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
   * Write result.json once per run of the trial: claim it (unless `claimed`), write it with `If-None-Match: *` (the
   * bucket refuses a second result whoever asks, a late attempt included; over a trial `sweepq retry` reopened, see
   * {@link reopen}), drop the checkpoint, then record the state. The checkpoint goes before the state so that a worker killed in between leaves a trial that is not yet
   * done (its job runs again and finds the result) rather than a done trial with a checkpoint nobody removes. An
   * attempt that finds a result already there gets that result back, and its own is not written.
   */
  async commit(result: TrialResult, lease: JobLease, opts: { claimed?: boolean; dropCheckpoint?: boolean } = {}): Promise<TrialResult> {
    const { sweepId, trialId } = result;
    if (!opts.claimed) {
      const existing = await this.claim(sweepId, trialId, lease);
      if (existing) return existing;
    }
    const kept = await this.#writeOnce(result, { lease });
    if (kept !== result) {
      this.#deps.logger?.info({ sweepId, trialId, attemptKey: kept.attemptKey }, 'another attempt committed this trial first; keeping its result');
      await this.markDone(sweepId, trialId, kept.state);
      return kept;
    }
    if (opts.dropCheckpoint !== false) await this.#dropCheckpoint(sweepId, trialId);
    await this.markDone(sweepId, trialId, result.state);
    return result;
  }

  /**
   * `result.json` written only if no result is there: `result` when it landed, else the result that was there first.
   * A conflict on a retried request whose first try landed finds our own result (same `attemptKey` and time).
   *
   * Over a trial `sweepq retry` reopened ({@link reopen}) it writes with `If-Match` on the reopened record it read,
   * and only if its writer still has the right: an attempt (`lease`) that still holds its job's lock after reading
   * the record, an owner (`ownerEpoch`) whose epoch is newer than the retry's. Retry reopens a trial only once its
   * job's lock is gone (and a lost BullMQ lock is never regained), so a record read while the lock is held is from
   * before any retry that could follow: an attempt paused after its claim and woken after a retry finds the record
   * (or the retried run's result) changed, and gives up. The common case costs one request: the `If-None-Match` PUT.
   */
  async #writeOnce(result: TrialResult, writer: { lease: JobLease } | { ownerEpoch: number | undefined }): Promise<TrialResult> {
    const { sweepId, trialId } = result;
    const key = layout.result(sweepId, trialId);
    let over: string | undefined;
    for (let tries = 1; ; tries++) {
      const landed = over === undefined ? await this.#deps.store.putJsonIfAbsent(key, result) : await this.#deps.store.putJsonIfMatch(key, result, over);
      if (landed) return result;
      const slot = await readResultSlot(this.#deps.store, sweepId, trialId);
      if (slot && 'result' in slot) {
        const there = slot.result;
        return there.attemptKey === result.attemptKey && there.finishedAt === result.finishedAt ? result : there;
      }
      if (!slot) {
        if (over === undefined) throw new Error(`result.json of trial ${trialId} was refused as existing but cannot be read; try again`);
        // Deleted since it was read reopened (by a sweepq before reopened records): the trial was retried again.
        throw this.#stale(result, 'its result.json was removed after this attempt read it');
      }
      if (slot.etag === over) {
        throw new Error(`the S3 server refused a PUT of ${this.#deps.store.uri(key)} with If-Match on its current ETag ${over}; a proxy in front of it may change ETags`);
      }
      if ('lease' in writer) {
        if (!(await this.ownsLock(writer.lease))) throw this.#stale(result, 'the trial was reopened by a retry after this attempt claimed it; its result is not written');
      } else if (writer.ownerEpoch === undefined || writer.ownerEpoch <= (slot.reopened.reopened.epoch)) {
        throw new LifecycleError(
          LifecycleErrorCode.Fenced,
          `trial ${trialId} of sweep ${sweepId} was reopened by a retry at epoch ${slot.reopened.reopened.epoch}; this owner (epoch ${writer.ownerEpoch ?? 'none'}) no longer owns the sweep`,
          { sweepId },
        );
      }
      if (tries >= 3) throw new Error(`result.json of trial ${trialId} changed under every write (${tries} tries); try again`);
      over = slot.etag;
    }
  }

  #stale(result: TrialResult, why: string): LockLostError {
    this.#deps.logger?.warn({ sweepId: result.sweepId, trialId: result.trialId, attemptKey: result.attemptKey }, why);
    return new LockLostError(result.trialId);
  }

  /**
   * Reopen a finished trial for `sweepq retry` (which owns the sweep at `epoch`): its result (`expected`, read with
   * that ETag) is replaced by a {@link ReopenedTrial}, compare-and-set, so that `result.json` is never absent again
   * and an attempt from before the retry cannot commit (see {@link #writeOnce}). False when the result changed since
   * it was read (nothing written).
   */
  async reopen(expected: { result: TrialResult; etag: string }, previous: string, epoch: number): Promise<boolean> {
    const { sweepId, trialId, index, params } = expected.result;
    const nonce = randomBytes(8).toString('hex');
    const record: ReopenedTrial = { sweepId, trialId, index, params, reopened: { at: new Date().toISOString(), previous, epoch, nonce } };
    if (await this.#deps.store.putJsonIfMatch(layout.result(sweepId, trialId), record, expected.etag)) return true;
    // A retried request whose first try landed is refused as changed: it is ours if the nonce is.
    const slot = await readResultSlot(this.#deps.store, sweepId, trialId);
    return slot !== undefined && 'reopened' in slot && slot.reopened.reopened.nonce === nonce;
  }

  /**
   * A trial that ended without writing its own result (its job failed for good, or it was cancelled before it
   * started) gets a result.json saying why, so the bucket tells the whole story. Written once, like a worker's: if a
   * worker's result is there first it stands, and a worker finishing later finds this one. Over a trial a retry
   * reopened only by an owner newer than the retry; an older one gets `LIFECYCLE_FENCED`.
   */
  async recordFinal(
    sweepId: string,
    t: { trialId: string; index: number; params: TrialParams },
    metric: { name: string; goal: 'maximize' | 'minimize' },
    state: typeof TrialState.Failed | typeof TrialState.Cancelled,
    reason: string,
    attempts: number,
    /** The caller's epoch as the sweep's owner: a trial a retry reopened at a newer epoch is not the caller's. */
    ownerEpoch: number | undefined,
  ): Promise<TrialResult> {
    const result: TrialResult = {
      attemptKey: `final-${randomBytes(4).toString('hex')}`,
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
    // Claimed in Redis too, so a worker that takes the trial now learns before training that it is decided.
    await this.#deps.redis.set(this.#keys.resultClaim(sweepId, t.trialId), `final:${state}`, 'EX', DONE_TTL_SEC, 'NX');
    const kept = await this.#writeOnce(result, { ownerEpoch });
    await this.markDone(sweepId, t.trialId, kept.state);
    if (kept === result) await this.#dropCheckpoint(sweepId, t.trialId);
    return kept;
  }

  /**
   * Remove the checkpoint pointer and every attempt's checkpoint folder (the models stay: a result names one). An
   * attempt paused past its lock may still add files under its own folder later; no record ever points at them.
   */
  async #dropCheckpoint(sweepId: string, trialId: string): Promise<void> {
    const { store } = this.#deps;
    try {
      await store.deletePrefix(layout.checkpointPrefix(sweepId, trialId));
      const folders = new Set<string>();
      for (const k of await store.list(layout.trialOutputsPrefix(sweepId, trialId))) {
        const at = k.indexOf('/checkpoint/');
        if (at >= 0) folders.add(k.slice(0, at + '/checkpoint/'.length));
      }
      await Promise.all([...folders].map((f) => store.deletePrefix(f)));
    } catch (err) {
      this.#deps.logger?.warn({ sweepId, trialId, err: (err as Error).message }, 'could not remove the checkpoint');
    }
  }
}
