import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  QueueName,
  SWEEP_JOB_OPTIONS,
  parsePayload,
  redisKeys,
  sweepJobId,
  sweepJobSchema,
  trialJobId,
} from '@sweepq/queue';
import { SweepState, isFinalSweepState, type SweepRecord, type TrialResult, type TrialState } from '@sweepq/results';
import type { Logger } from '@sweepq/runtime';
import { SAFE_ID, layout, type ArtifactStore } from '@sweepq/storage';
import { MAX_TRIALS, parseSpec } from '@sweepq/spec';
import { LifecycleError, LifecycleErrorCode } from './errors.js';
import { committedTrialIds, readSweepRecord, readTrialResult } from './records.js';
import { assertSweepTransition } from './transitions.js';

/** Connections the life cycle needs. Every process (coordinator, worker, CLI) builds one. */
export interface LifecycleDeps {
  store: ArtifactStore;
  redis: Redis;
  /** BullMQ key prefix. */
  prefix: string;
  sweeps: Queue;
  trials: Queue;
  logger?: Logger;
}

/** Trial counts of a sweep, as `sweep.json` and `status` show them. */
export type TrialCounts = NonNullable<SweepRecord['trials']>;

/** Counts with every field zero but the total. */
export function emptyCounts(total: number): TrialCounts {
  return { total, completed: 0, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 0 };
}

/** Who owns a running sweep: the coordinator's id and its last heartbeat. */
export interface SweepOwner {
  coordinator: string;
  at: string;
}

/** A sweep that is not finished but has no live sweep job, as {@link SweepLifecycle.findStranded} finds it. */
export interface StrandedSweep {
  record: SweepRecord;
  /** The sweep job's BullMQ state: `missing` (or `unknown`) when Redis lost it, `failed`, or `completed`. */
  jobState: string;
  failedReason?: string;
}

/** Live processes, from the connections BullMQ names in Redis (`CLIENT LIST`); null where Redis refuses to say. */
export interface Liveness {
  coordinators: number | null;
  workers: number | null;
}

const now = () => new Date().toISOString();

/** Whether the cancel flag of a sweep is set: the one read of it, for the coordinator's and the workers' polls. */
export async function cancelRequested(redis: Redis, keys: ReturnType<typeof redisKeys>, sweepId: string): Promise<boolean> {
  return (await redis.exists(keys.cancelled(sweepId))) === 1;
}
const CANCEL_TTL_SEC = 30 * 24 * 3600;
/** A cancel with no coordinator waits this long for running trials to stop (they poll the flag every second). */
const RUNNING_TRIALS_WAIT_MS = 15_000;

/**
 * One sweep's `sweep.json`, held by the process that changes it. {@link save} writes details; {@link moveTo}
 * changes the state, checked against the transition table.
 */
export class SweepDoc {
  #record: SweepRecord;
  readonly #store: ArtifactStore;

  constructor(store: ArtifactStore, record: SweepRecord) {
    this.#store = store;
    this.#record = record;
  }

  get record(): SweepRecord {
    return this.#record;
  }

  /** Write details (counts, dataset, spec) without changing the state. */
  async save(patch: Omit<Partial<SweepRecord>, 'state'>): Promise<void> {
    this.#record = { ...this.#record, ...patch, updatedAt: now() };
    await this.#store.putJson(layout.sweepJson(this.#record.sweepId), this.#record);
  }

  /** Change the state (and write details with it); throws {@link LifecycleError} for a change the table forbids. */
  async moveTo(state: SweepState, patch: Omit<Partial<SweepRecord>, 'state'> = {}): Promise<void> {
    assertSweepTransition(this.#record.sweepId, this.#record.state, state);
    const next: SweepRecord = { ...this.#record, ...patch, state, updatedAt: now() };
    if (!isFinalSweepState(state)) {
      delete next.finishedAt;
      if (patch.error === undefined) delete next.error;
      delete next.endReason;
    }
    this.#record = next;
    await this.#store.putJson(layout.sweepJson(next.sweepId), next);
    // The marker lists sweeps that are not finished, for recovery after a Redis loss: written before a sweep can
    // run, removed after its final state is in the bucket.
    if (isFinalSweepState(state)) await this.#store.deletePrefix(layout.activeMarker(next.sweepId)).catch(() => undefined);
    else await this.#store.put(layout.activeMarker(next.sweepId), next.sweepId, 'text/plain');
  }
}

/**
 * The one owner of every sweep state change: submit, take (plan, start), cancel, retry, resume after a Redis loss,
 * fail, finalize. The coordinator, the worker and the CLI call it; nothing else writes `sweep.json`, the cancel
 * flag or the owner heartbeat. Trial commits are in `trial-lifecycle.ts`, over the same keys.
 */
export class SweepLifecycle {
  readonly deps: LifecycleDeps;
  readonly keys: ReturnType<typeof redisKeys>;

  constructor(deps: LifecycleDeps) {
    this.deps = deps;
    this.keys = redisKeys(deps.prefix);
  }

  /** `sweep.json`, validated; undefined when there is no such sweep. */
  read(sweepId: string): Promise<SweepRecord | undefined> {
    return readSweepRecord(this.deps.store, sweepId);
  }

  /** `sweep.json`, or a {@link LifecycleError} naming the bucket when there is no such sweep. */
  async require(sweepId: string): Promise<SweepRecord> {
    const r = await this.read(sweepId);
    if (!r) throw new LifecycleError(LifecycleErrorCode.NoSuchSweep, `no sweep "${sweepId}" in ${this.deps.store.uri('sweeps/')}`, { sweepId });
    return r;
  }

  /** A handle on a sweep's record for the process that changes it. */
  async open(sweepId: string, fallback?: Pick<SweepRecord, 'submittedAt'>): Promise<SweepDoc> {
    const record = (await this.read(sweepId)) ?? (fallback ? { sweepId, state: SweepState.Queued, submittedAt: fallback.submittedAt, updatedAt: now() } : undefined);
    if (!record) throw new LifecycleError(LifecycleErrorCode.NoSuchSweep, `no sweep "${sweepId}" in ${this.deps.store.uri('sweeps/')}`, { sweepId });
    return new SweepDoc(this.deps.store, record);
  }

  /** Store the spec and a queued `sweep.json`, then add the sweep job. */
  async submit(opts: { sweepId: string; specText: string; name?: string }): Promise<SweepRecord> {
    const { store, sweeps } = this.deps;
    const { sweepId } = opts;
    if ((await store.exists(layout.sweepJson(sweepId))) || (await sweeps.getJob(sweepJobId(sweepId)))) {
      throw new LifecycleError(LifecycleErrorCode.Exists, `sweep "${sweepId}" already exists in ${store.uri(layout.sweepPrefix(sweepId))}; choose another --id`, { sweepId });
    }
    const submittedAt = now();
    const payload = parsePayload(QueueName.Sweeps, sweepJobSchema, { sweepId, specKey: layout.specYaml(sweepId), submittedAt });
    await store.put(layout.specYaml(sweepId), opts.specText, 'application/yaml');
    const doc = new SweepDoc(store, { sweepId, ...(opts.name ? { name: opts.name } : {}), state: SweepState.Queued, submittedAt, updatedAt: submittedAt });
    await doc.moveTo(SweepState.Queued);
    await sweeps.add('sweep', payload, { ...SWEEP_JOB_OPTIONS, jobId: sweepJobId(sweepId) });
    return doc.record;
  }

  // ---- ownership and liveness ----

  /** The owning coordinator says it is alive; the key expires `ttlMs` after the last beat. */
  async heartbeat(sweepId: string, coordinator: string, ttlMs: number): Promise<void> {
    const owner: SweepOwner = { coordinator, at: now() };
    await this.deps.redis.set(this.keys.owner(sweepId), JSON.stringify(owner), 'PX', ttlMs);
  }

  /** The owner dropped the sweep (it finished, or the coordinator shuts down). */
  async release(sweepId: string, coordinator: string): Promise<void> {
    const raw = await this.deps.redis.get(this.keys.owner(sweepId));
    if (raw && (JSON.parse(raw) as SweepOwner).coordinator === coordinator) await this.deps.redis.del(this.keys.owner(sweepId));
  }

  /** The live owner of a sweep, if its heartbeat has not expired. */
  async owner(sweepId: string): Promise<SweepOwner | undefined> {
    const raw = await this.deps.redis.get(this.keys.owner(sweepId));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as SweepOwner;
    } catch {
      return undefined;
    }
  }

  /** How many coordinators and workers are connected to this Redis under this prefix. */
  async liveness(): Promise<Liveness> {
    const count = async (q: Queue) => {
      try {
        return (await q.getWorkers()).length;
      } catch {
        return null;
      }
    };
    return { coordinators: await count(this.deps.sweeps), workers: await count(this.deps.trials) };
  }

  // ---- trial counts ----

  /**
   * Trial counts read from Redis now (the done hash and the running jobs), so they are fresh even while no
   * coordinator runs. `total` is the sweep's planned total (from `sweep.json`).
   */
  async trialCounts(sweepId: string, total: number): Promise<TrialCounts> {
    const c = emptyCounts(total);
    const done = await this.deps.redis.hgetall(this.keys.done(sweepId));
    for (const st of Object.values(done)) if (st in c && st !== 'total') c[st as TrialState] += 1;
    for (const job of await this.deps.trials.getJobs(['active'], 0, -1)) {
      const data = job.data as { sweepId?: string; trialId?: string } | undefined;
      if (data?.sweepId === sweepId && data.trialId && done[data.trialId] === undefined) c.running += 1;
    }
    c.queued = Math.max(0, total - c.completed - c.stopped - c.failed - c.cancelled - c.running);
    return c;
  }

  // ---- cancel ----

  /** Whether `sweepq cancel` was asked for this sweep (workers and the coordinator poll it). */
  isCancelled(sweepId: string): Promise<boolean> {
    return cancelRequested(this.deps.redis, this.keys, sweepId);
  }

  /**
   * Cancel a sweep that is not finished: record it in the bucket (so a rebuild keeps it), set the flag every worker
   * and the coordinator watch, and remove the trials that have not started. A sweep no coordinator started, or one
   * whose owner is gone, is handed to `finalizeUnowned` (the CLI finalizes it itself) — no sweep waits for ever.
   */
  async cancel(
    sweepId: string,
    finalizeUnowned: (doc: SweepDoc) => Promise<void>,
  ): Promise<{ removed: number; state: SweepState | 'cancelling' }> {
    const doc = await this.open(sweepId);
    if (isFinalSweepState(doc.record.state)) return { removed: 0, state: doc.record.state };
    await doc.save({ cancelRequestedAt: doc.record.cancelRequestedAt ?? now() });
    await this.deps.redis.set(this.keys.cancelled(sweepId), doc.record.cancelRequestedAt!, 'EX', CANCEL_TTL_SEC);
    const removed = await this.removeQueuedTrials(sweepId);
    const sweepJob = await this.deps.sweeps.getJob(sweepJobId(sweepId));
    const jobState = sweepJob ? await sweepJob.getState() : 'unknown';
    if (doc.record.state === SweepState.Queued && sweepJob && (jobState === 'waiting' || jobState === 'delayed' || jobState === 'prioritized')) {
      await sweepJob.remove().catch(() => undefined);
      await doc.moveTo(SweepState.Cancelled, { finishedAt: now(), endReason: 'cancelled before a coordinator started it' });
      return { removed, state: SweepState.Cancelled };
    }
    if (jobState === 'active' && (await this.owner(sweepId))) return { removed, state: 'cancelling' };
    // Nobody owns it (coordinator gone, job lost or failed for good): finish it here, once the trials still running
    // have seen the flag and committed their own (cancelled) results, which keep their partial metrics.
    if (sweepJob && jobState !== 'active') await sweepJob.remove().catch(() => undefined);
    await this.#waitForRunningTrials(sweepId, RUNNING_TRIALS_WAIT_MS);
    await finalizeUnowned(doc);
    return { removed, state: (await this.require(sweepId)).state };
  }

  async #waitForRunningTrials(sweepId: string, maxMs: number): Promise<void> {
    for (const deadline = Date.now() + maxMs; Date.now() < deadline; await sleep(250)) {
      const active = (await this.deps.trials.getJobs(['active'], 0, -1)).filter((j) => (j.data as { sweepId?: string } | undefined)?.sweepId === sweepId);
      if (!(await Promise.all(active.map((j) => this.#held(j)))).some(Boolean)) return;
    }
  }

  /** Whether a worker holds this job's lock (an `active` job whose worker died keeps its state but loses its lock). */
  async #held(job: Job): Promise<boolean> {
    return job.id !== undefined && (await this.deps.redis.exists(this.keys.jobLock(QueueName.Trials, job.id))) === 1;
  }

  /** Remove this sweep's trial jobs that have not started; returns how many. */
  async removeQueuedTrials(sweepId: string): Promise<number> {
    let removed = 0;
    const pending = await this.deps.trials.getJobs(['waiting', 'delayed', 'prioritized'], 0, -1);
    for (const job of pending) {
      if ((job.data as { sweepId?: string } | undefined)?.sweepId !== sweepId) continue;
      await job.remove().then(
        () => (removed += 1),
        () => undefined, // taken by a worker meanwhile: it sees the flag
      );
    }
    return removed;
  }

  // ---- retry ----

  /**
   * Re-run the failed and/or cancelled trials of a sweep that no coordinator is following (finished, or stranded)
   * under the same ids: old results kept under `trials/<id>/attempts/`, checkpoints dropped, and the sweep queued
   * again for a coordinator, which enqueues exactly the trials that have no result.
   */
  async retry(sweepId: string, states: ReadonlySet<TrialState>): Promise<{ retried: string[] }> {
    const { store, trials } = this.deps;
    const doc = await this.open(sweepId);
    if (!isFinalSweepState(doc.record.state)) {
      const owner = await this.owner(sweepId);
      if (owner) {
        throw new LifecycleError(
          LifecycleErrorCode.Refused,
          `sweep ${sweepId} is ${doc.record.state} and coordinator ${owner.coordinator} follows it (heartbeat ${owner.at}); retry when it finishes, or cancel it first`,
          { sweepId },
        );
      }
    }
    const chosen: TrialResult[] = [];
    for (const trialId of await committedTrialIds(store, sweepId)) {
      const r = await readTrialResult(store, sweepId, trialId);
      if (!r || !states.has(r.state)) continue;
      // Check every trial before changing anything, so a refusal leaves the sweep as it was.
      const job = await trials.getJob(trialJobId(sweepId, r.trialId));
      if (job && (await job.getState()) === 'active' && (await this.#held(job))) {
        throw new LifecycleError(LifecycleErrorCode.Refused, `trial ${r.trialId} is still running; try again when it has stopped`, { sweepId });
      }
      chosen.push(r);
    }
    const retried: string[] = [];
    const stamp = now().replace(/[:.]/g, '-');
    for (const r of chosen) {
      await this.#resetTrial(sweepId, r, stamp);
      retried.push(r.trialId);
    }
    if (retried.length === 0) return { retried };
    // The cancel has done its job; left set, the flag (and the record's request) would cancel the retry.
    await this.deps.redis.del(this.keys.cancelled(sweepId));
    const retries = [...(doc.record.retries ?? []), { at: now(), trials: retried }];
    await doc.moveTo(SweepState.Queued, { retries, cancelRequestedAt: undefined });
    await this.#ensureSweepJob(doc.record);
    return { retried };
  }

  /** Move a finished trial's result aside and drop everything its next attempt rewrites. */
  async #resetTrial(sweepId: string, r: TrialResult, stamp: string): Promise<void> {
    const { store, trials, redis } = this.deps;
    await store.putJson(`${layout.trialAttemptsPrefix(sweepId, r.trialId)}${stamp}-result.json`, r);
    const job = await trials.getJob(trialJobId(sweepId, r.trialId));
    if (job) await job.remove();
    await redis.hdel(this.keys.done(sweepId), r.trialId);
    await redis.del(this.keys.resultClaim(sweepId, r.trialId));
    await store.deletePrefix(layout.checkpointPrefix(sweepId, r.trialId));
    await store.deletePrefix(layout.modelPrefix(sweepId, r.trialId));
    await store.deletePrefix(layout.metrics(sweepId, r.trialId));
    // result.json last: until it is gone the trial still counts as finished.
    await store.deletePrefix(layout.result(sweepId, r.trialId));
  }

  // ---- extend ----

  /**
   * Continue a finished sweep up to `runCap` trials: random continues its sequence without repeating a configuration,
   * bayes proposes from every observation so far; grid is refused (its combinations are all planned). The sweep is
   * queued again for a coordinator, which keeps every result and plans only the new trials.
   */
  async extend(sweepId: string, runCap: number): Promise<{ from: number; runCap: number }> {
    const doc = await this.open(sweepId);
    const refuse = (why: string) => new LifecycleError(LifecycleErrorCode.Refused, `cannot extend sweep ${sweepId}: ${why}`, { sweepId });
    if (!isFinalSweepState(doc.record.state)) throw refuse(`it is ${doc.record.state}; extend a finished or cancelled sweep (wait, or cancel it first)`);
    const text = await this.deps.store.getText(layout.specYaml(sweepId));
    if (text === undefined) throw refuse(`its spec ${this.deps.store.uri(layout.specYaml(sweepId))} is missing`);
    const spec = parseSpec(text, { source: 'spec.yaml' });
    if (spec.method === 'grid') {
      throw refuse('a grid plans every combination of its values up front, so there is nothing to continue; add values and submit a new sweep, or `sweepq retry` its failed trials');
    }
    const from = doc.record.runCap ?? spec.run_cap ?? 0;
    if (!Number.isSafeInteger(runCap) || runCap <= from || runCap > MAX_TRIALS) {
      throw refuse(`--run-cap must be an integer above the sweep's current run_cap ${from} (at most ${MAX_TRIALS}), got ${runCap}`);
    }
    // The cancel has done its job; left set, it would cancel the continuation.
    await this.deps.redis.del(this.keys.cancelled(sweepId));
    const extensions = [...(doc.record.extensions ?? []), { at: now(), from, runCap }];
    await doc.moveTo(SweepState.Queued, { runCap, extensions, cancelRequestedAt: undefined });
    await this.#ensureSweepJob(doc.record);
    return { from, runCap };
  }

  // ---- recovery ----

  /**
   * Rebuild a sweep from the bucket after Redis lost its queue state: the sweep is queued again under the same job
   * id, and the coordinator that takes it keeps every committed result, re-enqueues the missing trials under their
   * ids (workers resume them from their checkpoints) and re-proposes nothing (bayes proposals are in params.json).
   * A cancel recorded in the bucket is set again. Returns false when the sweep is finished or still followed.
   */
  async resume(sweepId: string, reason: string): Promise<boolean> {
    const doc = await this.open(sweepId);
    if (isFinalSweepState(doc.record.state)) return false;
    const job = await this.deps.sweeps.getJob(sweepJobId(sweepId));
    const state = job ? await job.getState() : 'unknown';
    if (state === 'active' || state === 'waiting' || state === 'delayed' || state === 'prioritized') return false;
    if (doc.record.cancelRequestedAt) {
      await this.deps.redis.set(this.keys.cancelled(sweepId), doc.record.cancelRequestedAt, 'EX', CANCEL_TTL_SEC);
    }
    await doc.moveTo(SweepState.Queued, { recoveries: [...(doc.record.recoveries ?? []), { at: now(), reason }] });
    await this.#ensureSweepJob(doc.record, job);
    this.deps.logger?.warn({ sweepId, reason, jobState: state }, 'sweep rebuilt from the bucket and queued again');
    return true;
  }

  /**
   * Sweeps that are not finished but have no live sweep job (Redis restarted empty, or the job failed for good
   * without its failure reaching the bucket). One listing of the active markers; markers of finished sweeps are
   * removed on the way.
   */
  async findStranded(): Promise<StrandedSweep[]> {
    const { store, sweeps } = this.deps;
    const out: StrandedSweep[] = [];
    for (const key of await store.list(layout.activePrefix())) {
      const sweepId = key.slice(layout.activePrefix().length);
      if (!SAFE_ID.test(sweepId)) continue;
      const record = await this.read(sweepId).catch(() => undefined);
      if (!record || isFinalSweepState(record.state)) {
        await store.deletePrefix(key).catch(() => undefined);
        continue;
      }
      const job = await sweeps.getJob(sweepJobId(sweepId));
      const jobState = job ? await job.getState() : 'missing';
      if (jobState === 'missing' || jobState === 'unknown' || jobState === 'failed' || jobState === 'completed') {
        out.push({ record, jobState, ...(job?.failedReason ? { failedReason: job.failedReason } : {}) });
      }
    }
    return out;
  }

  async #ensureSweepJob(record: SweepRecord, existing?: Job): Promise<void> {
    const job = existing ?? (await this.deps.sweeps.getJob(sweepJobId(record.sweepId)));
    const state = job ? await job.getState() : 'unknown';
    if (job && (state === 'completed' || state === 'failed')) {
      await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
      return;
    }
    if (job && state !== 'unknown') return;
    const payload = parsePayload(QueueName.Sweeps, sweepJobSchema, {
      sweepId: record.sweepId,
      specKey: layout.specYaml(record.sweepId),
      submittedAt: record.submittedAt,
    });
    await this.deps.sweeps.add('sweep', payload, { ...SWEEP_JOB_OPTIONS, jobId: sweepJobId(record.sweepId) });
  }

  // ---- failure ----

  /**
   * A sweep the coordinator gave up on ends `failed` with the reason, so no sweep stays `running` with nobody
   * following it. Returns false when the sweep had already finished.
   */
  async fail(sweepId: string, reason: string): Promise<boolean> {
    const record = await this.read(sweepId);
    if (!record || isFinalSweepState(record.state)) return false;
    const doc = new SweepDoc(this.deps.store, record);
    await doc.moveTo(SweepState.Failed, { error: reason, finishedAt: now() });
    return true;
  }
}
