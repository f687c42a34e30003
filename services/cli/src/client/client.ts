import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { committedTrialIds, readTrialResult } from '@sweepq/lifecycle';
import type { BestModelInfo, FrontModelsInfo } from '@sweepq/report';
import { isFinalSweepState, type Leaderboard, type SweepRecord, type SweepState, type TrialResult } from '@sweepq/results';
import { parseSpec, type SweepSpec } from '@sweepq/sweep-config';
import { SAFE_ID, layout } from '@sweepq/storage';
import { openContext, type CliContext } from '../context.js';
import { loadCliEnv } from '../env.js';
import { readLeaderboard } from '../sweep-reads.js';
import { sweepStatus, type RunningTrial, type SweepStatus } from '../sweep-status.js';
import { MAX_SPEC_BYTES, newSweepId } from '../submit-sweep.js';
import { SweepqClientError, SweepqClientErrorCode, toClientError } from './errors.js';

export type { RunningTrial as TrialProgress, SweepStatus };

/** Bucket settings; anything left out comes from the environment (S3_*, AWS_*), then the AWS SDK's credential chain. */
export interface SweepqS3Options {
  /** S3-compatible endpoint URL, e.g. `http://127.0.0.1:8333`; omit for AWS S3. */
  endpoint?: string;
  bucket?: string;
  /** Key prefix inside the bucket, when sweepq shares a bucket. */
  prefix?: string;
  region?: string;
  /** Static keys; omit to use the SDK's chain (environment, profile, IRSA, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style URLs (`endpoint/bucket/key`), as most self-hosted S3 servers want. */
  forcePathStyle?: boolean;
}

/** Options of {@link SweepqClient.connect}. Every field is optional: the environment fills what is left out. */
export interface SweepqClientOptions {
  /** `redis://` or `rediss://` URL; default REDIS_URL, else `redis://127.0.0.1:6379`. */
  redisUrl?: string;
  /** BullMQ key prefix the coordinator and workers use; default SWEEPQ_QUEUE_PREFIX, else `{sweepq}`. */
  queuePrefix?: string;
  s3?: SweepqS3Options;
  /** Where unset options are read from; default `process.env`. Pass `{}` to use the options alone. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Options of {@link SweepqClient.submit}. */
export interface SubmitOptions {
  /** Sweep id (1-64 of a-z, 0-9, "-"); default from the spec's name, the time and a random suffix. */
  id?: string;
}

/** Options of {@link SweepHandle.wait}. */
export interface WaitOptions {
  /** Called with the sweep's status whenever its state, trial counts or running trials' progress change. */
  onProgress?: (status: SweepStatus) => void;
  /** Stops waiting: `wait` then rejects with code `ABORTED` (the sweep itself goes on; see {@link SweepHandle.cancel}). */
  signal?: AbortSignal;
  /** How often to look, in milliseconds; default 1000. */
  pollMs?: number;
}

/** Where the best trial's model is, and `best.json` (classes, preprocessing, a usage snippet for stock tfjs). */
export interface BestModel {
  /**
   * `s3://bucket/…/sweeps/<id>/best/`: model.json, weights.bin, vocab.json, best.json, README.md. With several
   * objectives and no `best:` rule, `best/<trialId>/` of the front trial sweep.json names best (see `front`).
   */
  uri: string;
  /** The key prefix of those files inside the bucket. */
  key: string;
  info: BestModelInfo;
  /** Several objectives, no `best:` rule: `best/front.json`, every front trial's values and model folder. */
  front?: FrontModelsInfo;
}

/** What {@link SweepHandle.cancel} did. */
export interface CancelOutcome {
  /** Queued trials removed before they started. */
  removed: number;
  /**
   * The sweep's state now: final when the cancel finished it, else `cancelling` — its coordinator (or, for a sweep
   * nobody owns, the next coordinator's recovery pass when this install cannot write reports) finishes it.
   */
  state: SweepState | 'cancelling';
}

function clientEnv(opts: SweepqClientOptions): ReturnType<typeof loadCliEnv> {
  const raw: Record<string, string | undefined> = { ...(opts.env ?? process.env) };
  const set = (name: string, value: string | boolean | undefined) => {
    if (value !== undefined) raw[name] = String(value);
  };
  set('REDIS_URL', opts.redisUrl);
  set('SWEEPQ_QUEUE_PREFIX', opts.queuePrefix);
  const s3 = opts.s3 ?? {};
  set('S3_ENDPOINT', s3.endpoint);
  set('S3_BUCKET', s3.bucket);
  set('S3_PREFIX', s3.prefix);
  set('S3_REGION', s3.region);
  set('S3_FORCE_PATH_STYLE', s3.forcePathStyle);
  if (s3.credentials) {
    raw.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
    raw.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
    raw.AWS_SESSION_TOKEN = s3.credentials.sessionToken;
  }
  return loadCliEnv(raw);
}

async function guard<T>(sweepId: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toClientError(err, sweepId);
  }
}

/**
 * Whether this install can write a sweep's final report (echarts resolves from here). Cancelling a sweep nobody owns
 * finishes it with the code `sweepq cancel` uses, which writes the report; the light client does not depend on echarts,
 * so without it the sweep is left `cancelling` for the next coordinator's recovery pass, which finishes it from the
 * bucket.
 */
function canFinalize(): boolean {
  try {
    createRequire(import.meta.url).resolve('echarts/package.json');
    return true;
  } catch {
    return false;
  }
}

/** One sweep: its id and what a script asks of it. Get one from {@link SweepqClient.submit} or {@link SweepqClient.sweep}. */
export interface SweepHandle {
  readonly id: string;
  /** `s3://…/sweeps/<id>/`: where the sweep's files are. */
  readonly location: string;
  /** State, trial counts fresh from Redis, the owning coordinator, live processes and running trials' progress. */
  status(): Promise<SweepStatus>;
  /**
   * Poll until the sweep is completed, failed or cancelled; resolves with its final status (a failed sweep resolves
   * too: look at `status.sweep.state` and `status.sweep.error`).
   */
  wait(opts?: WaitOptions): Promise<SweepStatus>;
  /** Every trial's committed result (params, final metrics, per-epoch history, test evaluation), by trial id. */
  results(): Promise<TrialResult[]>;
  /** The final leaderboard once written; before that, one built from the results so far. */
  leaderboard(): Promise<Leaderboard>;
  /** Where the best trial's model is; undefined until the sweep has finished with at least one model. */
  bestModel(): Promise<BestModel | undefined>;
  /**
   * Cancel the sweep: running trials stop within about a second, queued ones are removed, and the coordinator
   * writes the leaderboard of what finished. See {@link CancelOutcome} for a sweep nobody owns.
   */
  cancel(): Promise<CancelOutcome>;
  /** Continue a finished random or bayes sweep up to `runCap` trials in all (`sweepq extend`). */
  extend(runCap: number): Promise<{ from: number; runCap: number }>;
}

/** The one implementation; kept out of the public types so they do not show the connections. */
class Handle implements SweepHandle {
  readonly id: string;
  readonly #ctx: () => CliContext;

  constructor(ctx: () => CliContext, id: string) {
    this.#ctx = ctx;
    this.id = id;
  }

  get location(): string {
    return this.#ctx().store.uri(layout.sweepPrefix(this.id));
  }

  status(): Promise<SweepStatus> {
    return guard(this.id, async () => {
      await this.#ctx().lifecycle.require(this.id);
      return sweepStatus(this.#ctx(), this.id);
    });
  }

  async wait(opts: WaitOptions = {}): Promise<SweepStatus> {
    let last = '';
    for (;;) {
      if (opts.signal?.aborted) {
        throw new SweepqClientError(SweepqClientErrorCode.Aborted, `stopped waiting for sweep ${this.id} (the sweep goes on)`, { sweepId: this.id, cause: opts.signal.reason });
      }
      const s = await this.status();
      const seen = JSON.stringify([s.sweep.state, s.trials, s.running]);
      if (seen !== last) {
        last = seen;
        opts.onProgress?.(s);
      }
      if (isFinalSweepState(s.sweep.state)) return s;
      await sleep(opts.pollMs ?? 1000, undefined, { signal: opts.signal }).catch(() => undefined);
    }
  }

  results(): Promise<TrialResult[]> {
    return guard(this.id, async () => {
      const { store, lifecycle } = this.#ctx();
      await lifecycle.require(this.id);
      const ids = [...(await committedTrialIds(store, this.id))].sort();
      const out = await Promise.all(ids.map((t) => readTrialResult(store, this.id, t)));
      return out.filter((r): r is TrialResult => r !== undefined);
    });
  }

  leaderboard(): Promise<Leaderboard> {
    return guard(this.id, async () => readLeaderboard(this.#ctx(), await this.#ctx().lifecycle.require(this.id)));
  }

  bestModel(): Promise<BestModel | undefined> {
    return guard(this.id, async () => {
      const { store } = this.#ctx();
      const best = layout.bestPrefix(this.id);
      const info = await store.getJson<BestModelInfo>(`${best}best.json`);
      if (info) return { uri: store.uri(best), key: best, info };
      // The front layout (several objectives, no rule): the model of the trial sweep.json names best.
      const front = await store.getJson<FrontModelsInfo>(`${best}front.json`);
      if (!front) return undefined;
      const bestId = (await this.#ctx().lifecycle.read(this.id))?.best?.trialId;
      const entry = front.trials.find((t) => t.trialId === bestId && t.folder !== null) ?? front.trials.find((t) => t.folder !== null);
      if (!entry) return undefined;
      const key = `${best}${entry.folder as string}`;
      const trialInfo = await store.getJson<BestModelInfo>(`${key}best.json`);
      return trialInfo ? { uri: store.uri(key), key, info: trialInfo, front } : undefined;
    });
  }

  cancel(): Promise<CancelOutcome> {
    return guard(this.id, async () => {
      const ctx = this.#ctx();
      // Loaded only here: the finalizing code (and the report it writes) is not needed to submit or read.
      const r = canFinalize()
        ? await (await import('../cancel-sweep.js')).cancelSweep(ctx, this.id)
        : await ctx.lifecycle.cancel(this.id, async () => undefined);
      return { removed: r.removed, state: r.state === 'cancelling' || isFinalSweepState(r.state) ? r.state : 'cancelling' };
    });
  }

  extend(runCap: number): Promise<{ from: number; runCap: number }> {
    return guard(this.id, () => this.#ctx().lifecycle.extend(this.id, runCap));
  }
}

/**
 * A connection to a sweepq deployment (Redis and the bucket) for scripts: submit sweeps, follow them, read results.
 * It starts no coordinator or worker (`npx sweepq coordinator`, `npx sweepq worker`) and loads no TensorFlow.
 */
export class SweepqClient {
  #ctx: CliContext | undefined;

  private constructor(ctx: CliContext) {
    this.#ctx = ctx;
  }

  /**
   * Connect: check the bucket answers and Redis answers.
   * @throws SweepqClientError `CONFIG_INVALID`, `STORAGE_FAILED` (bucket missing or unreachable), `REDIS_UNAVAILABLE`.
   */
  static async connect(opts: SweepqClientOptions = {}): Promise<SweepqClient> {
    return guard(undefined, async () => new SweepqClient(await openContext(clientEnv(opts))));
  }

  #context(): CliContext {
    if (!this.#ctx) throw new SweepqClientError(SweepqClientErrorCode.Closed, 'this SweepqClient was closed; connect a new one');
    return this.#ctx;
  }

  /**
   * Validate a spec (an object in the spec's shape, or YAML text) and queue it for a coordinator.
   * The dataset is checked by the coordinator before any trial runs (a bad one ends the sweep `failed` with the reason).
   * @throws SweepqClientError `SPEC_INVALID` (nothing submitted), `INVALID_ARGUMENT` (bad id), `SWEEP_EXISTS`.
   */
  async submit(spec: string | Record<string, unknown>, opts: SubmitOptions = {}): Promise<SweepHandle> {
    const ctx = this.#context();
    return guard(opts.id, async () => {
      const text = typeof spec === 'string' ? spec : stringify(spec);
      const parsed: SweepSpec = parseSpec(text, { source: opts.id ?? 'spec', maxBytes: MAX_SPEC_BYTES });
      const sweepId = opts.id ?? newSweepId(parsed.name);
      const handle = this.sweep(sweepId);
      await ctx.lifecycle.submit({ sweepId, specText: text, ...(parsed.name ? { name: parsed.name } : {}) });
      return handle;
    });
  }

  /** A handle on an existing sweep (nothing is read until you call one of its methods). */
  sweep(id: string): SweepHandle {
    if (!SAFE_ID.test(id)) {
      throw new SweepqClientError(SweepqClientErrorCode.InvalidArgument, `sweep id "${id.slice(0, 80)}": use 1-64 characters of a-z, 0-9 and "-", starting with a letter or digit`, { sweepId: id });
    }
    return new Handle(() => this.#context(), id);
  }

  /** The sweep's record (`sweep.json`), or undefined when there is no such sweep. */
  read(id: string): Promise<SweepRecord | undefined> {
    return guard(id, () => this.#context().lifecycle.read(this.sweep(id).id));
  }

  /** Close the Redis and bucket connections. Idempotent. */
  async close(): Promise<void> {
    const ctx = this.#ctx;
    this.#ctx = undefined;
    await ctx?.close();
  }
}
