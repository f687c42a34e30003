import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ClaimOutcome, QueueName, claimResult, redisKeys } from '@sweepq/queue';
import { TrialState, type ReopenedTrial, type TrialResult } from '@sweepq/results';
import type { Logger } from '@sweepq/runtime';
import type { TrialParams } from '@sweepq/sweep-config';
import { layout, type ArtifactStore } from '@sweepq/storage';
import { LockLostError } from './errors.js';
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
 * What {@link TrialLifecycle.claim} found: the result already committed, or the right to commit over what
 * `result.json` held when the claim read it (`over`: the ETag of the reopened record a retry left; undefined: none).
 */
export type CommitClaim = { committed: TrialResult; over?: undefined } | { committed?: undefined; over: string | undefined };

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
   * result already committed, if there is one (`committed`); else what the commit must find in `result.json` to write
   * over it ({@link CommitClaim.over}). Throws {@link LockLostError} if the lock is gone.
   *
   * `result.json` is read before the claim: a claim succeeds only while this attempt holds the job's lock, and
   * `sweepq retry` reopens a trial only once its job's lock is gone (it then removes the job), so what was read here
   * is from before any retry that could follow. An attempt paused after its claim and woken after a retry therefore
   * expects what the retry replaced, and its write is refused at the bucket.
   */
  async claim(sweepId: string, trialId: string, lease: JobLease): Promise<CommitClaim> {
    const slot = await readResultSlot(this.#deps.store, sweepId, trialId);
    if (slot && 'result' in slot) return { committed: await this.#keepEarlier(slot.result) };
    const over = slot?.etag;
    if (lease.token === undefined || lease.jobId === undefined) return { over };
    const claim = { prefix: this.#deps.prefix, jobId: lease.jobId, token: lease.token, sweepId, trialId };
    let outcome = await claimResult(this.#deps.redis, claim);
    if (outcome === ClaimOutcome.TakenByEarlierAttempt) {
      const existing = await this.result(sweepId, trialId);
      if (existing) return { committed: await this.#keepEarlier(existing) };
      // The earlier claimer died between claiming and writing; we hold the lock now.
      outcome = await claimResult(this.#deps.redis, { ...claim, force: true });
    }
    if (outcome === ClaimOutcome.LockLost) throw new LockLostError(trialId);
    return { over };
  }

  async #keepEarlier(existing: TrialResult): Promise<TrialResult> {
    const { sweepId, trialId } = existing;
    this.#deps.logger?.info({ sweepId, trialId }, 'an earlier attempt already committed this trial; keeping its result');
    await this.#dropCheckpoint(sweepId, trialId);
    await this.markDone(sweepId, trialId, existing.state);
    return existing;
  }

  /**
   * Write result.json once per trial (per retry): claim it (unless `claim` is this attempt's {@link claim}), write it
   * on the condition the claim read (`If-None-Match: *`, or `If-Match` on the reopened record a retry left), drop the
   * checkpoint, then record the state. The bucket refuses a second result whoever asks, a late attempt included. The
   * checkpoint goes before the state so that a worker killed in between leaves a trial that is not yet done (its job
   * runs again and finds the result) rather than a done trial with a checkpoint nobody removes. An attempt that finds
   * a result already there gets that result back, and its own is not written; one that finds the trial reopened
   * since its claim (by `sweepq retry`) throws {@link LockLostError}: the trial is another attempt's now.
   */
  async commit(result: TrialResult, lease: JobLease, opts: { claim?: CommitClaim; dropCheckpoint?: boolean } = {}): Promise<TrialResult> {
    const { sweepId, trialId } = result;
    const claim = opts.claim ?? (await this.claim(sweepId, trialId, lease));
    if (claim.committed) return claim.committed;
    const kept = await this.#writeOnce(result, claim.over, 'refuse');
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
   * `result.json` written only if it holds what the writer expects (`over`: none, or the reopened record with that
   * ETag): `result` when it landed, else the result that was there first. A conflict on a retried request whose first
   * try landed finds our own result (same `attemptKey` and time). Finding a reopened record instead, an attempt
   * (`refuse`) gives the trial up; a final result of the owner (`replace`) writes over it, as over nothing.
   */
  async #writeOnce(result: TrialResult, over: string | undefined, onReopened: 'refuse' | 'replace'): Promise<TrialResult> {
    const { sweepId, trialId } = result;
    const key = layout.result(sweepId, trialId);
    for (let tries = 1; ; tries++) {
      const landed = over === undefined ? await this.#deps.store.putJsonIfAbsent(key, result) : await this.#deps.store.putJsonIfMatch(key, result, over);
      if (landed) return result;
      const slot = await readResultSlot(this.#deps.store, sweepId, trialId);
      if (slot && 'result' in slot) {
        const there = slot.result;
        return there.attemptKey === result.attemptKey && there.finishedAt === result.finishedAt ? result : there;
      }
      if (slot && onReopened === 'refuse') {
        this.#deps.logger?.warn({ sweepId, trialId, attemptKey: result.attemptKey }, 'the trial was reopened by a retry after this attempt claimed it; its result is not written');
        throw new LockLostError(trialId);
      }
      if (tries >= 3) throw new Error(`result.json of trial ${trialId} changed under every write (${tries} tries); try again`);
      over = slot?.etag;
    }
  }

  /**
   * Reopen a finished trial for `sweepq retry`: its result (`expected`, read with that ETag) is replaced by a
   * {@link ReopenedTrial}, compare-and-set, so that result.json is never absent again and an attempt from before the
   * retry cannot commit. False when the result changed since it was read (nothing written).
   */
  async reopen(expected: { result: TrialResult; etag: string }, previous: string): Promise<boolean> {
    const { sweepId, trialId, index, params } = expected.result;
    const record: ReopenedTrial = { sweepId, trialId, index, params, reopened: { at: new Date().toISOString(), previous, nonce: randomBytes(8).toString('hex') } };
    return (await this.#deps.store.putJsonIfMatch(layout.result(sweepId, trialId), record, expected.etag)) !== undefined;
  }

  /**
   * A trial that ended without writing its own result (its job failed for good, or it was cancelled before it
   * started) gets a result.json saying why, so the bucket tells the whole story. Written once, like a worker's: if a
   * worker's result is there first it stands, and a worker finishing later finds this one.
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
    const kept = await this.#writeOnce(result, undefined, 'replace');
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
