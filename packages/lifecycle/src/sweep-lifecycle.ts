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
import { MAX_TRIALS, parseSpec } from '@sweepq/sweep-config';
import { cancelRequested } from './cancel-flag.js';
import { LifecycleError, LifecycleErrorCode } from './errors.js';
import { committedTrialIds, parseSweepRecord, readResultSlot, readSweepRecord, readTrialResult } from './records.js';
import { TrialLifecycle } from './trial-lifecycle.js';
import { assertSweepTransition } from './transitions.js';
import { VersionedJson, type Versioned } from './versioned-json.js';

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

/** What {@link SweepLifecycle.trialCounts} found. */
export interface TrialCountsNow {
  counts: TrialCounts;
  /** Trials whose job is still active in Redis but whose result.json is committed (counted by their result). */
  committed: ReadonlySet<string>;
}

/** Counts with every field zero but the total. */
export function emptyCounts(total: number): TrialCounts {
  return { total, completed: 0, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 0 };
}

/** Who owns a running sweep: the coordinator's id, its last heartbeat and the epoch it took the sweep at. */
export interface SweepOwner {
  coordinator: string;
  at: string;
  epoch?: number;
}

// The owner key holds JSON {coordinator, at, epoch}. A beat replaces it when the key is free, is this coordinator's,
// or was written at an older epoch (its writer was taken over); otherwise it leaves it and answers 0.
const HEARTBEAT_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, o = pcall(cjson.decode, cur)
  if ok and type(o) == 'table' and o.coordinator ~= ARGV[1] and (tonumber(o.epoch) or 0) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', tonumber(ARGV[4]))
return 1
`;
// Delete the owner key only while it names this coordinator (a compare-and-delete).
const RELEASE_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, o = pcall(cjson.decode, cur)
if ok and type(o) == 'table' and o.coordinator == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

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

const CANCEL_TTL_SEC = 30 * 24 * 3600;
/** A cancel with no coordinator waits this long for running trials to stop (they poll the flag every second). */
const RUNNING_TRIALS_WAIT_MS = 15_000;

/** Validates a sweep's `sweep.json` as read back from the bucket, naming the object in errors. */
const recordParser =
  (store: ArtifactStore, sweepId: string) =>
  (raw: unknown): SweepRecord & Versioned =>
    parseSweepRecord(raw, store.uri(layout.sweepJson(sweepId)));

/** Compare-and-set conflicts one write rides out (others writing in between) before it gives up. */
const MAX_CONFLICTS = 50;

/**
 * One sweep's `sweep.json`, held by a process that changes it. Every write is a compare-and-set on the object's
 * ETag ({@link VersionedJson}): a write that finds the record changed since this holder read it re-reads it, re-applies
 * its own change to the fresh record and tries again, so nothing another writer recorded meanwhile (a cancel, a
 * recovery) is ever erased.
 *
 * Fencing: {@link take} makes this holder the sweep's owner at a new `epoch` (run, resume, retry, extend, a CLI
 * finishing a sweep nobody follows). From then on every write of this holder checks, in the same compare-and-set,
 * that the record still carries its epoch; once someone took the sweep after it, the write does not land and
 * throws {@link LifecycleError} `LIFECYCLE_FENCED`: the holder must stop without writing anything else. A holder
 * that never took the sweep (the CLI's cancel) writes at whatever epoch is current.
 */
export class SweepDoc {
  readonly #obj: VersionedJson<SweepRecord & Versioned>;
  #epoch: number | undefined;

  constructor(obj: VersionedJson<SweepRecord & Versioned>) {
    this.#obj = obj;
  }

  get record(): SweepRecord {
    const r = this.#obj.value;
    if (!r) throw new LifecycleError(LifecycleErrorCode.NoSuchSweep, `${this.#obj.key} is gone`);
    return r;
  }

  /** The epoch this holder owns the sweep at (undefined until {@link take}). */
  get epoch(): number | undefined {
    return this.#epoch;
  }

  /** Write details (counts, dataset, spec) without changing the state. */
  async save(patch: Omit<Partial<SweepRecord>, 'state'>): Promise<void> {
    await this.#update((fresh) => ({ ...fresh, ...patch, updatedAt: now() }));
  }

  /** Change the state (and write details with it); throws {@link LifecycleError} for a change the table forbids. */
  async moveTo(state: SweepState, patch: Omit<Partial<SweepRecord>, 'state'> = {}): Promise<void> {
    await this.#update((fresh) => {
      assertSweepTransition(fresh.sweepId, fresh.state, state);
      const next: SweepRecord = { ...fresh, ...patch, state, updatedAt: now() };
      if (!isFinalSweepState(state)) {
        delete next.finishedAt;
        if (patch.error === undefined) delete next.error;
        delete next.endReason;
      }
      return next;
    });
    await this.markActive();
  }

  /**
   * The marker lists sweeps that are not finished, for recovery after a Redis loss: written before a sweep can run
   * (a new sweep's record is written first, then this), removed after its final state is in the bucket.
   */
  async markActive(): Promise<void> {
    const { sweepId, state } = this.record;
    if (isFinalSweepState(state)) await this.#store.deletePrefix(layout.activeMarker(sweepId)).catch(() => undefined);
    else await this.#store.put(layout.activeMarker(sweepId), sweepId, 'text/plain');
  }

  /**
   * Become the sweep's owner at the next epoch: every holder that took it before is fenced from now on. `by` names
   * the taker (a coordinator id, `cli:retry`, ...) in `sweep.json`.
   */
  async take(by: string): Promise<number> {
    this.#epoch = undefined;
    await this.#update((fresh) => ({ ...fresh, epoch: (fresh.epoch ?? 0) + 1, owner: by, updatedAt: now() }));
    this.#epoch = this.record.epoch;
    return this.#epoch!;
  }

  /**
   * Throw `LIFECYCLE_FENCED` unless this holder still owns the sweep (one HEAD request while nobody wrote; a read
   * when someone did). Called before writes outside `sweep.json` that only the owner may make (the leaderboard).
   */
  async assertOwner(): Promise<void> {
    if (this.#epoch === undefined) return;
    if (!(await this.#obj.unchanged())) await this.#obj.refresh();
    this.#checkEpoch();
  }

  get #store(): ArtifactStore {
    return this.#obj.store;
  }

  #checkEpoch(): void {
    const fresh = this.#obj.value;
    if (this.#epoch !== undefined && fresh && (fresh.epoch ?? 0) !== this.#epoch) {
      throw new LifecycleError(
        LifecycleErrorCode.Fenced,
        `sweep ${fresh.sweepId} was taken over at epoch ${fresh.epoch} by ${fresh.owner ?? 'another process'} after this process took it at epoch ${this.#epoch}; stopping without writing`,
        { sweepId: fresh.sweepId },
      );
    }
  }

  async #update(change: (fresh: SweepRecord) => SweepRecord): Promise<void> {
    for (let conflicts = 0; ; conflicts++) {
      const fresh = this.#obj.value;
      if (!fresh) throw new LifecycleError(LifecycleErrorCode.NoSuchSweep, `${this.#store.uri(this.#obj.key)} does not exist`);
      this.#checkEpoch();
      let next: SweepRecord;
      try {
        next = change(fresh);
      } catch (err) {
        // A change the table forbids from this holder's copy may be allowed from the record as it is now (or this
        // holder may have been taken over): look once more before refusing.
        if (err instanceof LifecycleError && err.code === LifecycleErrorCode.BadTransition && !(await this.#obj.unchanged())) {
          await this.#obj.refresh();
          continue;
        }
        throw err;
      }
      if (await this.#obj.write(next)) return;
      if (conflicts >= MAX_CONFLICTS) {
        throw new LifecycleError(LifecycleErrorCode.Conflict, `${this.#store.uri(this.#obj.key)} kept changing under ${MAX_CONFLICTS} writes in a row; try again`, { sweepId: fresh.sweepId });
      }
      // Someone else wrote it: the fresh record is in #obj now; back off a little when many writers contend.
      if (conflicts > 2) await sleep(10 * conflicts * Math.random());
    }
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

  /** Writes of result.json (a retry reopens trials through it). */
  readonly #trials: TrialLifecycle;

  constructor(deps: LifecycleDeps) {
    this.deps = deps;
    this.keys = redisKeys(deps.prefix);
    this.#trials = new TrialLifecycle({ store: deps.store, redis: deps.redis, prefix: deps.prefix, ...(deps.logger ? { logger: deps.logger } : {}) });
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

  /**
   * A handle on a sweep's record for the process that changes it (every write a compare-and-set). With `fallback`, a
   * sweep whose `sweep.json` is missing (a submit that died between its writes) gets a queued record.
   */
  async open(sweepId: string, fallback?: Pick<SweepRecord, 'submittedAt'>): Promise<SweepDoc> {
    const obj = await VersionedJson.read(this.deps.store, layout.sweepJson(sweepId), recordParser(this.deps.store, sweepId));
    if (!obj.value && fallback) {
      const at = now();
      // If-None-Match: a record another process creates meanwhile wins, and is what this handle then holds.
      await obj.write({ sweepId, state: SweepState.Queued, submittedAt: fallback.submittedAt, updatedAt: at, epoch: 0 });
    }
    if (!obj.value) throw new LifecycleError(LifecycleErrorCode.NoSuchSweep, `no sweep "${sweepId}" in ${this.deps.store.uri('sweeps/')}`, { sweepId });
    return new SweepDoc(obj);
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
    // Created with If-None-Match: of two submits racing for one id, one gets the sweep and the other `exists`.
    const obj = VersionedJson.absent(store, layout.sweepJson(sweepId), recordParser(store, sweepId));
    const record: SweepRecord = { sweepId, ...(opts.name ? { name: opts.name } : {}), state: SweepState.Queued, submittedAt, updatedAt: submittedAt, epoch: 0 };
    if (!(await obj.write(record))) {
      throw new LifecycleError(LifecycleErrorCode.Exists, `sweep "${sweepId}" already exists in ${store.uri(layout.sweepPrefix(sweepId))}; choose another --id`, { sweepId });
    }
    const doc = new SweepDoc(obj);
    await doc.markActive();
    await sweeps.add('sweep', payload, { ...SWEEP_JOB_OPTIONS, jobId: sweepJobId(sweepId) });
    return doc.record;
  }

  // ---- ownership and liveness ----

  /**
   * The owning coordinator says it is alive; the key expires `ttlMs` after the last beat. Compare-and-set in Redis: a
   * beat lands only if the key is free, already this coordinator's, or held at an older epoch; false means a newer
   * owner beats for the sweep (this one was taken over and must stop).
   */
  async heartbeat(sweepId: string, coordinator: string, ttlMs: number, epoch = 0): Promise<boolean> {
    const owner: SweepOwner = { coordinator, at: now(), epoch };
    const r = await this.deps.redis.eval(HEARTBEAT_SCRIPT, 1, this.keys.owner(sweepId), coordinator, String(epoch), JSON.stringify(owner), String(ttlMs));
    return r === 1;
  }

  /** The owner dropped the sweep (it finished, or the coordinator shuts down): removed only if still its own key. */
  async release(sweepId: string, coordinator: string): Promise<void> {
    await this.deps.redis.eval(RELEASE_SCRIPT, 1, this.keys.owner(sweepId), coordinator);
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
   * Trial counts as of now, from Redis (the done hash and the running jobs) and the bucket, so they are fresh even
   * while no coordinator runs. `total` is the sweep's planned total (from `sweep.json`).
   *
   * A worker commits in three steps (result.json, drop the checkpoint, then the done hash), so a worker killed in
   * between, or one still dropping a large checkpoint, leaves a committed trial whose job is still active: such a
   * trial counts by its result, not as running (`status` once said "0 completed" beside a result in the bucket). Only
   * active jobs can be in that window, so this costs one result read per running trial; `committed` names those
   * trials. The done hash is read before the jobs: a trial recorded in between is found by its result, never counted
   * twice.
   */
  async trialCounts(sweepId: string, total: number): Promise<TrialCountsNow> {
    const counts = emptyCounts(total);
    const done = await this.deps.redis.hgetall(this.keys.done(sweepId));
    for (const st of Object.values(done)) if (st in counts && st !== 'total') counts[st as TrialState] += 1;
    const committed = new Set<string>();
    const running = new Set<string>();
    for (const job of await this.deps.trials.getJobs(['active'], 0, -1)) {
      const data = job.data as { sweepId?: string; trialId?: string } | undefined;
      if (data?.sweepId !== sweepId || !data.trialId || done[data.trialId] !== undefined) continue;
      if (committed.has(data.trialId) || running.has(data.trialId)) continue;
      const result = await readTrialResult(this.deps.store, sweepId, data.trialId);
      if (result) {
        committed.add(data.trialId);
        counts[result.state] += 1;
      } else {
        running.add(data.trialId);
        counts.running += 1;
      }
    }
    counts.queued = Math.max(0, total - counts.completed - counts.stopped - counts.failed - counts.cancelled - counts.running);
    return { counts, committed };
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
      // Removed only while no coordinator holds it (BullMQ refuses to remove a locked job): then nobody runs it.
      if (await sweepJob.remove().then(() => true, () => false)) {
        await doc.take('cli:cancel');
        await doc.moveTo(SweepState.Cancelled, { finishedAt: now(), endReason: 'cancelled before a coordinator started it' });
        return { removed, state: SweepState.Cancelled };
      }
      return { removed, state: 'cancelling' };
    }
    if (jobState === 'active' && (await this.owner(sweepId))) return { removed, state: 'cancelling' };
    // Nobody owns it (coordinator gone, job lost or failed for good): finish it here, once the trials still running
    // have seen the flag and committed their own (cancelled) results, which keep their partial metrics. Taking the
    // sweep first fences an owner that is only cut off or paused: its next write does not land.
    if (sweepJob && jobState !== 'active') await sweepJob.remove().catch(() => undefined);
    await doc.take('cli:cancel');
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
    // Take the sweep before touching any result: a coordinator that is only cut off from Redis (its heartbeat
    // expired, its loop alive) is fenced, so it cannot write `running` or finalize from results deleted below.
    const epoch = await doc.take('cli:retry');
    const chosen: { result: TrialResult; etag: string }[] = [];
    // A trial a retry reopened but whose sweep it did not queue again (that CLI died in between) is retried again.
    const reopened: string[] = [];
    for (const trialId of await committedTrialIds(store, sweepId)) {
      const slot = await readResultSlot(store, sweepId, trialId);
      if (slot && 'reopened' in slot) reopened.push(trialId);
      if (!slot || !('result' in slot) || !states.has(slot.result.state)) continue;
      // Check every trial before changing anything, so a refusal leaves the sweep as it was.
      const job = await trials.getJob(trialJobId(sweepId, trialId));
      if (job && (await job.getState()) === 'active' && (await this.#held(job))) {
        throw new LifecycleError(LifecycleErrorCode.Refused, `trial ${trialId} is still running; try again when it has stopped`, { sweepId });
      }
      chosen.push(slot);
    }
    const retried = [...reopened, ...chosen.map((r) => r.result.trialId)].sort();
    if (retried.length === 0) return { retried };
    // Recorded before any trial is reopened: a coordinator reads the trials `retries` names to find the reopened ones
    // it must run again, so a retry that dies half-way (then resumed by a recovery pass, or retried) loses none.
    await doc.save({ retries: [...(doc.record.retries ?? []), { at: now(), trials: retried }] });
    const stamp = now().replace(/[:.]/g, '-');
    for (const r of chosen) await this.#resetTrial(sweepId, r, stamp, epoch);
    // The cancel has done its job; left set, the flag (and the record's request) would cancel the retry.
    await this.deps.redis.del(this.keys.cancelled(sweepId));
    await doc.moveTo(SweepState.Queued, { cancelRequestedAt: undefined });
    await this.#ensureSweepJob(doc.record);
    return { retried };
  }

  /**
   * Move a finished trial's result aside, drop everything its next attempt rewrites, and reopen it. Its result.json
   * is replaced (never deleted): an attempt from before the retry, paused after claiming and woken later, finds it
   * changed and cannot commit over the files removed here.
   */
  async #resetTrial(sweepId: string, slot: { result: TrialResult; etag: string }, stamp: string, epoch: number): Promise<void> {
    const { store, trials, redis } = this.deps;
    const { trialId } = slot.result;
    const previous = `${layout.trialAttemptsPrefix(sweepId, trialId)}${stamp}-result.json`;
    await store.putJson(previous, slot.result);
    const job = await trials.getJob(trialJobId(sweepId, trialId));
    if (job) await job.remove();
    await redis.hdel(this.keys.done(sweepId), trialId);
    await redis.del(this.keys.resultClaim(sweepId, trialId));
    await store.deletePrefix(layout.checkpointPrefix(sweepId, trialId));
    await store.deletePrefix(layout.trialOutputsPrefix(sweepId, trialId));
    await store.deletePrefix(layout.modelPrefix(sweepId, trialId));
    await store.deletePrefix(layout.metrics(sweepId, trialId));
    // result.json last: until it is replaced the trial still counts as finished.
    if (!(await this.#trials.reopen(slot, previous, epoch))) {
      throw new LifecycleError(LifecycleErrorCode.Refused, `the result of trial ${trialId} changed while it was being retried; run retry again`, { sweepId });
    }
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
    await doc.take('cli:extend');
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
    // Taken first: the loop of an earlier attempt still running somewhere (this very process, after Redis came back
    // empty) is fenced, so it cannot overwrite what the rebuild records or finalize next to the new owner.
    await doc.take('recovery');
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
      let record: SweepRecord | undefined;
      try {
        record = await this.read(sweepId);
      } catch (err) {
        // Unreadable now (the bucket is failing, or a bad record): keep the marker, so the sweep is looked at again.
        this.deps.logger?.warn({ sweepId, err: (err as Error).message }, 'could not read sweep.json of an active sweep; will look again');
        continue;
      }
      // The marker goes only when the sweep is known to be gone or finished.
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
    const doc = await this.open(sweepId).catch((err: unknown) => {
      if (err instanceof LifecycleError && err.code === LifecycleErrorCode.NoSuchSweep) return undefined;
      throw err;
    });
    if (!doc || isFinalSweepState(doc.record.state)) return false;
    await doc.moveTo(SweepState.Failed, { error: reason, finishedAt: now() });
    return true;
  }
}
