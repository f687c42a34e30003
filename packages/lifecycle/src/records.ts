import { z } from 'zod';
import { formatZodIssues } from '@sweepq/runtime/zod-issues';
import { SweepState, TrialState, isReopenedTrial, type ReopenedTrial, type SweepRecord, type TrialResult } from '@sweepq/results';
import { withDefaultParams } from '@sweepq/sweep-config';
import { mapLimit } from '@sweepq/report';
import { SAFE_ID, layout, type ArtifactStore } from '@sweepq/storage';
import { LifecycleError, LifecycleErrorCode } from './errors.js';

const counts = z.object({
  total: z.number().int().min(0),
  completed: z.number().int().min(0),
  stopped: z.number().int().min(0).default(0),
  failed: z.number().int().min(0),
  cancelled: z.number().int().min(0),
  running: z.number().int().min(0),
  queued: z.number().int().min(0),
});

/**
 * `sweep.json` as read back from the bucket, which other processes (and people) write: the fields sweepq relies on
 * are checked, the rest (the resolved spec, dataset details) passes through.
 */
export const sweepRecordSchema = z.looseObject({
    sweepId: z.string().regex(SAFE_ID),
    state: z.enum(Object.values(SweepState) as [SweepState, ...SweepState[]]),
    submittedAt: z.string(),
    updatedAt: z.string(),
    trials: counts.optional(),
    metric: z.looseObject({ name: z.string(), goal: z.enum(['maximize', 'minimize']) }).optional(),
    epoch: z.number().int().min(0).optional(),
    owner: z.string().optional(),
    writeId: z.string().optional(),
});

/**
 * `result.json` as read back: the fields the life cycle and the leaderboard rely on are checked. Parameters a result
 * written before they existed lacks take their defaults (what that trial trained with), so de-duplication, warm starts
 * and the leaderboard see every parameter.
 */
export const trialResultSchema = z.looseObject({
    sweepId: z.string(),
    trialId: z.string().regex(SAFE_ID),
    index: z.number().int().min(0),
    state: z.enum(Object.values(TrialState) as [TrialState, ...TrialState[]]),
    params: z.record(z.string(), z.unknown()).transform(withDefaultParams),
    metric: z.looseObject({ name: z.string(), goal: z.enum(['maximize', 'minimize']), value: z.number().nullable() }),
    epochs: z.number().int().min(0),
});

function parsed<T>(what: string, uri: string, schema: z.ZodType, raw: unknown): T {
  const r = schema.safeParse(raw, { reportInput: true });
  if (r.success) return r.data as T;
  const issues = formatZodIssues(r.error.issues).join('; ');
  throw new LifecycleError(LifecycleErrorCode.BadRecord, `${uri} is not a valid ${what}: ${issues}`);
}

/** A `sweep.json` as read back (from {@link readSweepRecord} or a compare-and-set holder), validated. */
export function parseSweepRecord(raw: unknown, uri = 'sweep.json'): SweepRecord {
  return parsed<SweepRecord>('sweep record', uri, sweepRecordSchema, raw);
}

/** A sweep's `sweep.json`, validated; undefined when the sweep does not exist. */
export async function readSweepRecord(store: ArtifactStore, sweepId: string): Promise<SweepRecord | undefined> {
  const key = layout.sweepJson(sweepId);
  const raw = await store.getJson(key);
  return raw === undefined ? undefined : parsed<SweepRecord>('sweep record', store.uri(key), sweepRecordSchema, raw);
}

/** A trial's `result.json`, validated; undefined when the trial has no result (none yet, or reopened by retry). */
export async function readTrialResult(store: ArtifactStore, sweepId: string, trialId: string): Promise<TrialResult | undefined> {
  return readTrialResultAt(store, layout.result(sweepId, trialId));
}

/** A `result.json` by its key (from a listing), validated; undefined as for {@link readTrialResult}. */
export async function readTrialResultAt(store: ArtifactStore, key: string): Promise<TrialResult | undefined> {
  const raw = await store.getJson(key);
  return raw === undefined || isReopenedTrial(raw) ? undefined : parsed<TrialResult>('trial result', store.uri(key), trialResultSchema, raw);
}

/** What a trial's `result.json` holds now, with its ETag (for a compare-and-set): a result, a reopened trial, or nothing. */
export type ResultSlot = { result: TrialResult; etag: string } | { reopened: ReopenedTrial; etag: string } | undefined;

/** A trial's {@link ResultSlot} (a result validated as by {@link readTrialResult}). */
export async function readResultSlot(store: ArtifactStore, sweepId: string, trialId: string): Promise<ResultSlot> {
  const key = layout.result(sweepId, trialId);
  const got = await store.getJsonWithEtag(key);
  if (got === undefined) return undefined;
  if (isReopenedTrial(got.value)) return { reopened: got.value, etag: got.etag };
  return { result: parsed<TrialResult>('trial result', store.uri(key), trialResultSchema, got.value), etag: got.etag };
}

/** The files each trial of a sweep has in the bucket (`result.json`, `params.json`, `metrics.jsonl`, …), from one listing. */
export async function trialFiles(store: ArtifactStore, sweepId: string): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const key of await store.list(layout.trialsPrefix(sweepId))) {
    const m = /\/trials\/([a-z0-9-]+)\/([^/]+)$/.exec(key);
    if (!m) continue;
    let files = out.get(m[1]!);
    if (!files) out.set(m[1]!, (files = new Set()));
    files.add(m[2]!);
  }
  return out;
}

/**
 * Trial ids with a `result.json`, from one listing of the sweep's trials. A trial `sweepq retry` reopened has one too
 * (a {@link ReopenedTrial}, until its retry commits): callers that must not count it read the result.
 */
export async function committedTrialIds(store: ArtifactStore, sweepId: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const [trialId, files] of await trialFiles(store, sweepId)) if (files.has('result.json')) out.add(trialId);
  return out;
}

/**
 * Trial ids with a committed result: {@link committedTrialIds} less the trials `sweepq retry` reopened and no attempt
 * has committed again. Only the trials the sweep's `retries` name can be reopened; only those are read.
 */
export async function finishedTrialIds(store: ArtifactStore, sweepId: string, retries: SweepRecord['retries']): Promise<Set<string>> {
  const out = await committedTrialIds(store, sweepId);
  const retried = [...new Set((retries ?? []).flatMap((r) => r.trials))].filter((t) => out.has(t));
  const slots = await mapLimit(retried, 16, async (t) => [t, await readResultSlot(store, sweepId, t)] as const);
  for (const [t, slot] of slots) if (!slot || 'reopened' in slot) out.delete(t);
  return out;
}
