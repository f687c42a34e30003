import { SweepState, TrialState } from '@sweepq/results';
import { LifecycleError, LifecycleErrorCode } from './errors.js';

/**
 * Every state change a sweep may make, written down once. `sweep.json` changes state only through
 * {@link assertSweepTransition}; docs/reliability.md's life-cycle table is this table.
 *
 * - queued → preparing (a coordinator took the sweep), cancelled (cancelled before any coordinator did), failed
 * - preparing → running (trials planned and enqueued), failed (bad spec or dataset), cancelled
 * - running → completed, failed (no trial completed), cancelled
 * - preparing/running → queued (Redis lost its state; the sweep is rebuilt from the bucket and queued again)
 * - completed/failed/cancelled → queued (`sweepq retry` re-runs some trials)
 * A state may always be written again with new details (trial counts, heartbeats of progress).
 */
export const SWEEP_TRANSITIONS: Readonly<Record<SweepState, readonly SweepState[]>> = {
  [SweepState.Queued]: [SweepState.Preparing, SweepState.Running, SweepState.Cancelled, SweepState.Failed],
  [SweepState.Preparing]: [SweepState.Running, SweepState.Failed, SweepState.Cancelled, SweepState.Queued],
  [SweepState.Running]: [SweepState.Completed, SweepState.Failed, SweepState.Cancelled, SweepState.Queued],
  [SweepState.Completed]: [SweepState.Queued],
  [SweepState.Failed]: [SweepState.Queued],
  [SweepState.Cancelled]: [SweepState.Queued],
};

/** What moves a sweep along each edge, for messages and docs/reliability.md. */
export const SWEEP_TRANSITION_CAUSES: Readonly<Record<string, string>> = {
  'queued>preparing': 'a coordinator takes the sweep job',
  'queued>running': 'a coordinator takes over a sweep rebuilt from the bucket',
  'queued>cancelled': '`sweepq cancel` before any coordinator started it',
  'queued>failed': 'the spec in the bucket is missing or invalid, or the coordinator gave up (message in `error`)',
  'preparing>running': 'dataset prepared, trials planned and enqueued',
  'preparing>failed': 'the dataset or spec is bad (message in `error`)',
  'preparing>cancelled': '`sweepq cancel`',
  'preparing>queued': 'Redis lost the sweep: rebuilt from the bucket (a coordinator within a minute, or `sweepq resume`)',
  'running>completed': 'every trial finished and at least one completed or stopped early (or `metric.target` was reached)',
  'running>failed': 'no trial completed, or the coordinator could not go on (message in `error`)',
  'running>cancelled': '`sweepq cancel`: queued trials removed, running ones stop within about a second',
  'running>queued': 'Redis lost the sweep: rebuilt from the bucket (a coordinator within a minute, or `sweepq resume`); or `sweepq retry` of a stranded sweep',
  'completed>queued': '`sweepq retry --failed/--cancelled`',
  'failed>queued': '`sweepq retry --failed/--cancelled`',
  'cancelled>queued': '`sweepq retry --failed/--cancelled`',
};

/** Throw unless a sweep may go from `from` to `to` (staying in a state is always allowed). */
export function assertSweepTransition(sweepId: string, from: SweepState, to: SweepState): void {
  if (from === to || SWEEP_TRANSITIONS[from].includes(to)) return;
  throw new LifecycleError(
    LifecycleErrorCode.BadTransition,
    `sweep ${sweepId} is ${from} and cannot become ${to} (from ${from} it can become ${SWEEP_TRANSITIONS[from].join(', ') || 'nothing'})`,
    { sweepId },
  );
}

/**
 * A trial's states: `queued` (a job waits), `running` (a worker holds its lock), and the final states of
 * `result.json`. A final state is left only by `sweepq retry`, which moves the old result under `attempts/`.
 */
export const TRIAL_TRANSITIONS = {
  queued: ['running', TrialState.Cancelled, TrialState.Failed],
  running: ['queued', TrialState.Completed, TrialState.Stopped, TrialState.Failed, TrialState.Cancelled],
  [TrialState.Completed]: [],
  [TrialState.Stopped]: [],
  [TrialState.Failed]: ['queued'],
  [TrialState.Cancelled]: ['queued'],
} as const;

/** Markdown table of {@link SWEEP_TRANSITIONS} with their causes (docs/reliability.md's life-cycle table is generated from it). */
export function sweepTransitionTable(): string {
  const rows = ['| from | to | when |', '| --- | --- | --- |'];
  for (const [from, tos] of Object.entries(SWEEP_TRANSITIONS)) {
    for (const to of tos) rows.push(`| ${from} | ${to} | ${SWEEP_TRANSITION_CAUSES[`${from}>${to}`] ?? ''} |`);
  }
  return rows.join('\n');
}
