import { BAYES_DEFAULTS, DEFAULT_MAX_IN_FLIGHT, gridSize } from '@sweepq/sweep-config';
import type { SweepSpec } from '@sweepq/sweep-config';

/** What the coordinator needs to schedule a sweep adaptively; see {@link planAdaptive}. */
export interface AdaptivePlan {
  /** Trials proposed without a model (random draws); for grid and random every trial counts as start-up. */
  startup: number;
  /** Trials the sweep runs in all: run_cap, capped by the number of distinct configurations when that is finite. */
  total: number;
  /** Trials to keep running at once: `max_in_flight`, default 8, never above `total`. */
  maxInFlight: number;
}

/** `bayes:` options with defaults applied (see BAYES_DEFAULTS in @sweepq/sweep-config). */
export function resolveBayes(spec: Pick<SweepSpec, 'bayes'>): Required<NonNullable<SweepSpec['bayes']>> {
  return { ...BAYES_DEFAULTS, ...spec.bayes };
}

/**
 * The scheduling numbers of a sweep. For bayes: propose `startup` random trials first (they need no results, so up
 * to `maxInFlight` can be enqueued at once), then one TPE proposal each time a trial finishes while fewer than
 * `total` have been proposed and fewer than `maxInFlight` are running. For grid and random (planned up front by
 * planTrials) `startup` = `total` = the planned count and `maxInFlight` = `max_in_flight` or `total`.
 * `total` never exceeds the number of distinct configurations of a finite space, so a bayes sweep over 12
 * combinations with run_cap 50 runs 12 trials, and never repeats one.
 */
export function planAdaptive(spec: SweepSpec): AdaptivePlan {
  const size = gridSize(spec.parameters);
  const cap = spec.run_cap ?? size;
  // Random search draws independently (planTrials plans exactly run_cap trials, repeats possible); grid and bayes
  // never repeat a configuration, so a finite space caps them.
  const total = Math.max(1, spec.method === 'random' ? cap : Math.min(cap, size));
  if (spec.method !== 'bayes') {
    return { startup: total, total, maxInFlight: Math.min(total, spec.max_in_flight ?? total) };
  }
  const { n_startup_trials } = resolveBayes(spec);
  return {
    startup: Math.min(total, n_startup_trials),
    total,
    maxInFlight: Math.min(total, spec.max_in_flight ?? DEFAULT_MAX_IN_FLIGHT),
  };
}
