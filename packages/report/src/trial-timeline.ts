import type { SweepRecord, TrialResult } from '@sweepq/results';

/** How an attempt began: the trial's first attempt, a resume from a checkpoint, or a retry from scratch. */
export type AttemptKind = 'first' | 'resume' | 'retry';

/** One bar of the per-worker timeline: an attempt at a trial. Times are milliseconds since the epoch. */
export interface TimelineSegment {
  trialId: string;
  /** Worker id, or {@link UNKNOWN_WORKER} when no record names it. */
  worker: string;
  attempt: number;
  kind: AttemptKind;
  start: number;
  end: number;
  /** Epochs done when the attempt started. */
  fromEpoch: number;
  /** How the attempt ended: the trial's final state for its last attempt, `handed-off` when another one resumed it. */
  outcome: TrialResult['state'] | 'handed-off' | 'retried';
  /** True when start or end is estimated rather than recorded (older workers; see {@link buildTimeline}). */
  estimated: boolean;
}

/** Trials per worker over time, and the sweep's retries (`sweepq retry`). */
export interface Timeline {
  /** Lanes, in order of first use. */
  workers: string[];
  segments: TimelineSegment[];
  retries: { at: number; trials: string[] }[];
  /** True when every segment comes from recorded attempts (`result.json` `attempts`), none estimated. */
  exact: boolean;
}

/** Lane of attempts whose worker no record names (the first attempt of a resumed trial, from older workers). */
export const UNKNOWN_WORKER = '(unknown)';

function time(iso: string | undefined): number | null {
  if (iso === undefined) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

function fromAttempts(r: TrialResult, finished: number): TimelineSegment[] {
  const list = r.attempts ?? [];
  const out: TimelineSegment[] = [];
  list.forEach((a, i) => {
    const start = time(a.startedAt);
    if (start === null) return;
    const next = list[i + 1];
    const last = i === list.length - 1;
    const end = last ? finished : (time(a.endedAt) ?? time(next?.startedAt) ?? start);
    out.push({
      trialId: r.trialId,
      worker: a.worker,
      attempt: a.attempt,
      kind: i === 0 ? 'first' : a.fromEpoch > 0 ? 'resume' : 'retry',
      start,
      end: Math.max(start, end),
      fromEpoch: a.fromEpoch,
      outcome: last ? r.state : next && next.fromEpoch > 0 ? 'handed-off' : 'retried',
      estimated: false,
    });
  });
  return out;
}

/**
 * Attempts of a result written before `attempts` existed. Recorded: the last attempt (it began `durationSec` before
 * `finishedAt`, on `worker`) and each resume (`resumes[k]`: its worker and start). Estimated, and marked so: an
 * attempt that was resumed ends where the resume starts (its worker stopped some time before), and the very first
 * attempt of a resumed trial, whose worker no record names, starts as long before the first resume as its epochs
 * took at the last attempt's pace.
 */
function fromResumes(r: TrialResult, finished: number): TimelineSegment[] {
  const lastStart = finished - Math.max(0, r.durationSec) * 1000;
  const resumes = (r.resumes ?? []).filter((x) => time(x.at) !== null);
  const out: TimelineSegment[] = [];
  const lastResume = resumes.at(-1);
  if (resumes.length > 0) {
    const first = resumes[0]!;
    const at0 = time(first.at)!;
    const epochsLast = Math.max(1, r.epochs - (lastResume?.fromEpoch ?? 0));
    const perEpochMs = (Math.max(0, r.durationSec) * 1000) / epochsLast;
    out.push({
      trialId: r.trialId,
      worker: UNKNOWN_WORKER,
      attempt: Math.max(1, first.attempt - 1),
      kind: 'first',
      start: at0 - first.fromEpoch * perEpochMs,
      end: at0,
      fromEpoch: 0,
      outcome: 'handed-off',
      estimated: true,
    });
    resumes.forEach((x, k) => {
      const start = time(x.at)!;
      const isLast = k === resumes.length - 1;
      const end = isLast ? finished : time(resumes[k + 1]!.at)!;
      out.push({
        trialId: r.trialId,
        worker: x.worker,
        attempt: x.attempt,
        kind: 'resume',
        start,
        end: Math.max(start, end),
        fromEpoch: x.fromEpoch,
        outcome: isLast ? r.state : 'handed-off',
        estimated: !isLast,
      });
    });
    return out;
  }
  return [
    {
      trialId: r.trialId,
      worker: r.worker || UNKNOWN_WORKER,
      attempt: r.attempt,
      kind: r.attempt > 1 ? 'retry' : 'first',
      start: Math.min(lastStart, finished),
      end: finished,
      fromEpoch: 0,
      outcome: r.state,
      estimated: false,
    },
  ];
}

/**
 * The per-worker timeline of a sweep's finished trials: one segment per attempt, from `result.json`'s `attempts`
 * when the worker recorded them, else reconstructed from `finishedAt`, `durationSec`, `worker` and `resumes` (see
 * {@link fromResumes} for what is then estimated). `earlier` are results of runs that `sweepq retry` replaced; the
 * run that replaced one starts as a retry. Gaps in a lane are a worker's idle time; a trial whose segments sit in two
 * lanes was handed off. Trials still running have no result and are not shown.
 */
export function buildTimeline(results: readonly TrialResult[], sweep: Pick<SweepRecord, 'retries'>, earlier: readonly TrialResult[] = []): Timeline {
  const segments: TimelineSegment[] = [];
  let exact = true;
  const rerun = new Set(earlier.map((r) => r.trialId));
  const add = (r: TrialResult, current: boolean) => {
    const finished = time(r.finishedAt);
    if (finished === null) return;
    let s: TimelineSegment[];
    if (r.attempts && r.attempts.length > 0) s = fromAttempts(r, finished);
    else {
      s = fromResumes(r, finished);
      if (s.some((x) => x.estimated) || (r.resumes?.length ?? 0) > 0 || r.attempt > 1) exact = false;
    }
    // The run that `sweepq retry` started begins from scratch: a retry, however its attempts are numbered.
    if (current && rerun.has(r.trialId) && s[0]?.kind === 'first') s[0] = { ...s[0], kind: 'retry' };
    segments.push(...s);
  };
  for (const r of earlier) add(r, false);
  for (const r of results) add(r, true);
  segments.sort((a, b) => a.start - b.start || a.trialId.localeCompare(b.trialId));
  const workers: string[] = [];
  const seen = new Set<string>();
  for (const s of segments) {
    if (!seen.has(s.worker)) {
      seen.add(s.worker);
      workers.push(s.worker);
    }
  }
  const retries = (sweep.retries ?? []).flatMap((x) => {
    const at = time(x.at);
    return at === null ? [] : [{ at, trials: [...x.trials] }];
  });
  return { workers, segments, retries, exact };
}
