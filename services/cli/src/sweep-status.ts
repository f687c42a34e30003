import { trialProgressSchema, type TrialProgress } from '@sweepq/queue';
import { formatSignificant, isFinalSweepState, sweepObjectives, SweepState, type SweepRecord } from '@sweepq/results';
import { describeBestRule } from '@sweepq/sweep-config';
import type { CliContext, NoRedisContext } from './context.js';
import { readSweep } from './sweep-reads.js';

/**
 * A running trial's progress, as its worker last reported it. The shape of the queue's progress payload, spelled out
 * so the client's published types need no zod (the compiler checks the payload still fits it).
 */
export interface RunningTrial {
  sweepId: string;
  trialId: string;
  /** 1-based epoch being trained, of `epochs`. */
  epoch: number;
  epochs: number;
  batch?: number;
  batches?: number;
  loss?: number;
  val_accuracy?: number;
  val_loss?: number;
}

/** What `sweepq status` shows beside sweep.json: fresh counts, the owner, the live processes. */
export interface SweepStatus {
  sweep: SweepRecord;
  /** Counts as of now, from the life cycle (sweep.json's are as of the owner's last write). */
  trials: SweepRecord['trials'];
  owner: { coordinator: string; at: string } | null;
  alive: { coordinators: number | null; workers: number | null };
  running: RunningTrial[];
  /** What the user should know: no coordinator, no worker, a stranded sweep. */
  warnings: string[];
}

/** A sweep's status, fresh from Redis even while no coordinator runs; from the bucket alone when Redis is down. */
export async function sweepStatus(ctx: CliContext | NoRedisContext, sweepId: string): Promise<SweepStatus> {
  const sweep = await readSweep(ctx, sweepId);
  const finished = isFinalSweepState(sweep.state);
  if (!ctx.redis) {
    return {
      sweep,
      trials: sweep.trials,
      owner: null,
      alive: { coordinators: null, workers: null },
      running: [],
      warnings: finished ? [] : [`${ctx.redisUnavailable}; trial counts are as of ${sweep.updatedAt} (sweep.json)`],
    };
  }
  const fresh = sweep.trials && !finished ? await ctx.lifecycle.trialCounts(sweepId, sweep.trials.total) : undefined;
  const trials = fresh?.counts ?? sweep.trials;
  const owner = finished ? undefined : await ctx.lifecycle.owner(sweepId);
  const alive = await ctx.lifecycle.liveness();
  const running = finished ? [] : (await runningTrials(ctx, sweepId)).filter((p) => !fresh?.committed.has(p.trialId));
  const warnings: string[] = [];
  if (!finished) {
    if (alive.coordinators === 0) {
      warnings.push('no coordinator is running: nothing will plan or finish this sweep until one starts (npx sweepq coordinator)');
    } else if (!owner && sweep.state !== 'queued') {
      warnings.push('no coordinator follows this sweep right now (its owner stopped beating); another takes it over within about 15 s, or run `sweepq resume` if it stays so');
    }
    if (alive.workers === 0 && (trials?.queued ?? 0) + (trials?.running ?? 0) > 0) {
      warnings.push('no worker is running: queued trials wait until one starts (npx sweepq worker)');
    }
  }
  return { sweep, trials, owner: owner ?? null, alive, running, warnings };
}

/**
 * The dataset preparation's progress in words while the sweep is preparing (`1,234,567 rows read, 512 MB, 7.8 MB/s`),
 * or undefined when there is none to show.
 */
export function preparationLine(sweep: SweepRecord): string | undefined {
  const p = sweep.preparation;
  if (p === undefined || sweep.state !== SweepState.Preparing || p.phase === 'done') return undefined;
  const what = p.phase === 'read' ? 'reading' : p.phase === 'encode' ? 'encoding' : 'storing shards';
  return `preparing (${what}): ${p.rows.toLocaleString('en-US')} rows read, ${Math.round(p.bytes / 1e6).toLocaleString('en-US')} MB, ${p.mbPerSec} MB/s, ${p.seconds} s`;
}

export function statusText(s: SweepStatus): string {
  const { sweep, trials: t } = s;
  const preparation = preparationLine(sweep);
  const ago = (iso: string) => `${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))} s ago`;
  const n = (v: number | null, what: string) => (v === null ? `? ${what}s (Redis does not list clients)` : `${v} ${what}${v === 1 ? '' : 's'}`);
  return [
    `sweep    ${sweep.sweepId}${sweep.name ? ` (${sweep.name})` : ''}`,
    `state    ${sweep.state}${sweep.endReason ? ` (${sweep.endReason})` : ''}${sweep.cancelRequestedAt && !isFinalSweepState(sweep.state) ? ' (cancelling)' : ''}`,
    `method   ${sweep.method ?? '-'}; ${objectivesText(sweep)}`,
    t
      ? `trials   ${t.total} total: ${t.completed} completed, ${t.stopped} stopped, ${t.running} running, ${t.queued} queued, ${t.failed} failed, ${t.cancelled} cancelled`
      : 'trials   not planned yet',
    preparation ? `dataset  ${preparation}` : '',
    ...bestLines(sweep),
    isFinalSweepState(sweep.state) || (s.alive.coordinators === null && s.alive.workers === null) ? '' : `owner    ${s.owner ? `coordinator ${s.owner.coordinator}, heartbeat ${ago(s.owner.at)}` : 'none'}`,
    s.alive.coordinators === null && s.alive.workers === null ? '' : `alive    ${n(s.alive.coordinators, 'coordinator')}, ${n(s.alive.workers, 'worker')}`,
    sweep.error ? `error    ${sweep.error}` : '',
    ...(sweep.recoveries ?? []).map((r) => `rebuilt  ${r.at}: ${r.reason}`),
    ...s.running.map((p) => `running  ${p.trialId} epoch ${p.epoch}/${p.epochs}${p.val_accuracy !== undefined ? ` val_accuracy ${formatSignificant(p.val_accuracy)}` : ''}`),
    ...s.warnings.map((w) => `warning  ${w}`),
  ]
    .filter(Boolean)
    .join('\n');
}

/** `metric val_accuracy (maximize)`, or with several: `objectives val_accuracy (maximize), model_bytes (minimize)`. */
function objectivesText(sweep: SweepRecord): string {
  const { objectives } = sweepObjectives(sweep);
  if (objectives) return `objectives ${objectives.map((o) => `${o.name} (${o.goal})`).join(', ')}`;
  return `metric ${sweep.metric ? `${sweep.metric.name} (${sweep.metric.goal})` : '-'}`;
}

/**
 * The best trial, as sweep.json records it at the end. With several objectives: its value of each, the Pareto
 * front's size and trials, and what best/ holds (the best rule's pick, or every front model).
 */
function bestLines(sweep: SweepRecord): string[] {
  const { objectives, best: rule } = sweepObjectives(sweep);
  const b = sweep.best;
  if (!objectives) return b ? [`best     ${b.trialId} ${sweep.metric?.name ?? ''}=${formatSignificant(b.value)}`] : [];
  const values = (v: readonly (number | null)[] | undefined) => objectives.map((o, i) => `${o.name}=${formatSignificant(v?.[i] ?? null)}`).join(' ');
  const front = sweep.front;
  const lines: string[] = [];
  if (front) {
    const n = front.trialIds.length;
    const holds = rule ? `best/ holds the rule's pick` : `best/ holds ${n === 1 ? 'its model' : `each one's model`}`;
    lines.push(`front    ${n} trial${n === 1 ? '' : 's'} on the Pareto front: ${front.trialIds.join(', ')}; ${holds}`);
  }
  if (b) lines.push(`best     ${b.trialId} ${values(b.values)}${rule ? ` (rule: ${describeBestRule(rule, objectives)})` : ' (the front trial best by the first objective)'}`);
  else if (rule && front) lines.push(`best     none: no front trial has the values the rule (${describeBestRule(rule, objectives)}) needs`);
  return lines;
}

/** Progress of this sweep's running trials, from BullMQ. */
export async function runningTrials(ctx: CliContext, sweepId: string): Promise<TrialProgress[]> {
  const active = await ctx.trials.getJobs(['active'], 0, 1000);
  const out: TrialProgress[] = [];
  for (const job of active) {
    if ((job.data as { sweepId?: string } | undefined)?.sweepId !== sweepId) continue;
    const p = trialProgressSchema.safeParse(job.progress);
    const data = job.data as { trialId: string; params: { epochs: number } };
    out.push(p.success ? p.data : { sweepId, trialId: data.trialId, epoch: 0, epochs: data.params.epochs });
  }
  return out.sort((a, b) => a.trialId.localeCompare(b.trialId));
}
