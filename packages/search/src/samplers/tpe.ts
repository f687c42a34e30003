import { paramsKey } from '@sweepq/sweep-config';
import type { SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { ParzenSearch } from './tpe/parzen-search.js';
import type { Split } from './tpe/parzen-search.js';

/** A finished trial as the sampler sees it. */
export interface Observation {
  params: TrialParams;
  /** The sweep metric; null for a failed or diverged trial (ranked below every trial with a value). */
  value: number | null;
  /**
   * With several objectives (`spec.objectives`): the trial's value of each, in that order (`objectiveValues` in
   * @sweepq/results), `value` being the first; null for one not measured. Read by MotpeSampler, ignored by TpeSampler.
   */
  values?: readonly (number | null)[];
  /**
   * For a trial stopped early (hyperband/median): the epoch its `value` was measured at. A stopped trial is ranked by
   * that value like any other trial; at equal values the one measured at a later epoch (a finished one first) ranks
   * higher. See {@link TpeSampler} for why.
   */
  stoppedAtEpoch?: number;
  /**
   * The metric at the epochs it was measured, epoch (1-based) -> value: every epoch, or only some (e.g. each
   * hyperband rung the trial reached). Non-finite values and non-integer epochs are ignored. When any observation has
   * a non-empty curve, the sampler compares trials at equal budget (see {@link TpeSampler}); every observation also counts as
   * measured at its last epoch (`stoppedAtEpoch`, else its `epochs` parameter) with its `value`, unless its curve has
   * that epoch (median early termination records the best value so far, and the curve's value is the one compared).
   */
  curve?: Readonly<Record<number, number>>;
}

/** Options of {@link TpeSampler}. */
export interface TpeSamplerOptions {
  /** Seed of every draw; default the spec's `seed`. */
  seed?: number;
  /**
   * Observations from earlier sweeps (`prior_sweeps`) passed with every proposal: they count towards
   * `n_startup_trials`, so a warm-started sweep models from its first trial on. Default 0.
   */
  warmStart?: number;
}

/**
 * Order of observations, best first: trials with a value by that value (stopped early or not), equal values by the
 * epoch they were measured at (later first; a finished trial counts as measured last), then failed trials.
 */
function better(goal: 'maximize' | 'minimize', a: Observation, b: Observation): number {
  const failed = (o: Observation): boolean => o.value === null || !Number.isFinite(o.value);
  const fa = failed(a);
  const fb = failed(b);
  if (fa !== fb) return fa ? 1 : -1;
  if (fa) return 0;
  if (a.value !== b.value) {
    const d = (a.value as number) - (b.value as number);
    return goal === 'maximize' ? -d : d;
  }
  return (b.stoppedAtEpoch ?? Infinity) - (a.stoppedAtEpoch ?? Infinity) || 0;
}

const isValue = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The epochs an observation was measured at and its metric there: its curve, and its `value` at its last epoch
 * (`stoppedAtEpoch`, else its `epochs` parameter) unless the curve has that epoch. None for a failed trial.
 */
function pointsOf(o: Observation): Map<number, number> {
  const out = new Map<number, number>();
  if (!isValue(o.value)) return out;
  if (o.curve !== undefined) {
    for (const [k, v] of Object.entries(o.curve)) {
      const epoch = Number(k);
      if (Number.isSafeInteger(epoch) && epoch >= 1 && isValue(v)) out.set(epoch, v);
    }
  }
  const last = o.stoppedAtEpoch ?? o.params.epochs;
  if (Number.isSafeInteger(last) && last >= 1 && !out.has(last)) out.set(last, o.value);
  return out;
}

/**
 * Tree-structured Parzen Estimator (Bergstra et al., 2011) for `method: bayes`, asynchronous and reproducible.
 *
 * - Trials `index < n_startup_trials` (and any proposal made before a trial has a value) are random draws: trial k's
 *   first draw is exactly random search's trial k for the same seed. With `startup_design: latin_hypercube` the
 *   start-up trials are a Latin hypercube instead (each parameter's range in n_startup_trials equal-probability
 *   strata, one per trial), which covers the space more evenly than independent draws in the first trials.
 * - After that, finished observations are ranked by value (failed ones last), the best `ceil(gamma·n)` of those with
 *   a value form the "good" density l(x), everything else — failed trials and the in-flight `pending` configs as
 *   well, a constant liar with the worst value — forms g(x). `n_ei_candidates` configurations are drawn from l and
 *   the one with the largest Σ log l(x) − log g(x) over its active parameters wins.
 * - Multi-fidelity (BOHB, Falkner et al. 2018), when observations carry a `curve`: trials are compared at equal
 *   budget. The sampler takes the largest epoch at which at least `max(n_startup_trials, d + 1)` observations have a
 *   value (d: the parameters that are not constant), or, while no epoch has that many, the largest epoch with the most
 *   observations; the observations measured at that epoch are ranked by their value there (equal values: the one
 *   that trained further first), the best `ceil(gamma·n)` of them form l(x), and everything else — those ranked
 *   below, trials that never reached that epoch (stopped earlier, so already judged worse at a lower rung), failed
 *   trials and the pending configs — forms g(x). (A trial measured past that epoch but not at it is in neither.) With hyperband that is the lowest rung while few trials have been
 *   promoted, and a higher rung (or the last epoch) once enough have: a value at epoch 3 never competes with one at
 *   epoch 9, which a trial stopped at epoch 3 could not have reached yet.
 * - Without curves (no observation has one), a trial stopped early competes with the value it was stopped at. A
 *   partial-training value normally understates the final one (accuracy still rising, loss still falling), so this
 *   is conservative: a stopped trial outranks a finished one only if it was already better when it stopped.
 *   (Ranking every finished trial above every stopped one let the trials that successive halving promotes
 *   unconditionally — the first eta - 1 at each rung — into l(x) whatever their value: with hyperband, two sgd
 *   trials stuck at the majority-class accuracy outranked every stopped trial, and l(x) was fitted mostly on the
 *   first random draws.) It still mixes fidelities: a finished trial's epoch-9 value competes with stopped trials'
 *   epoch-3 values, so mediocre finished trials can fill l(x); give curves to avoid that.
 * - Each parameter is modelled in its natural space: a truncated Gaussian mixture (prior + one kernel per
 *   observation) in log space for the log distributions, on the integer/multiple-of-q grid with bin masses for
 *   int_uniform / q_uniform / q_log_uniform_values, unbounded for normal / log_normal; categorical values by
 *   smoothed counts. Conditional parameters are fitted only on trials where they applied, and sampled only where
 *   their condition holds on the candidate (otherwise they take their default).
 * - `bayes.multivariate`: instead of one estimator per parameter, l(x) and g(x) are joint mixtures with one product
 *   kernel per trial (see JointParzen): a candidate takes every parameter from the same good trial's kernel, and is
 *   scored by log l(x) − log g(x) of the whole configuration, so interactions between parameters (the learning rate
 *   that suits sgd does not suit adam) are learnt. Conditional parameters as above: a trial's kernel uses the prior
 *   for a parameter it did not have.
 * - Never returns a configuration equal to an observed or pending one: the best non-duplicate candidate wins, then
 *   more candidates, then random draws, then (finite spaces) the first unused grid combination.
 *
 * Deterministic: the result depends only on (seed, index, observations, pending) — not on the order of the lists.
 */
export class TpeSampler {
  private readonly search: ParzenSearch;
  private readonly goal: 'maximize' | 'minimize';
  /** Observations an epoch needs before trials are compared there (multi-fidelity; see the class comment). */
  private readonly minPerLevel: number;

  constructor(spec: SweepSpec, opts: TpeSamplerOptions = {}) {
    this.search = new ParzenSearch(spec, (opts.seed ?? spec.seed) >>> 0, opts.warmStart ?? 0);
    this.goal = spec.metric.goal;
    const free = this.search.dims.filter((d) => d.spec.kind !== 'constant').length;
    this.minPerLevel = Math.max(this.search.options.n_startup_trials, free + 1);
  }

  /**
   * Proposes the configuration of trial `index`.
   * @param observations trials that have finished (completed, stopped early, or failed with value null).
   * @param pending configurations currently running or queued; never proposed again, and treated as bad results.
   * @throws SearchError SPACE_EXHAUSTED when a finite space has no configuration left (planAdaptive's `total`
   *   prevents asking for one).
   */
  propose(index: number, observations: readonly Observation[], pending: readonly TrialParams[]): TrialParams {
    return this.search.propose(index, observations, pending, (obs) => this.split(obs));
  }

  /**
   * The epoch trials are compared at (see {@link TpeSampler}), or undefined to rank every trial by its `value`
   * (no observation has a curve).
   */
  private fidelity(points: ReadonlyArray<ReadonlyMap<number, number>>, curves: boolean): number | undefined {
    if (!curves) return undefined;
    const counts = new Map<number, number>();
    for (const p of points) for (const epoch of p.keys()) counts.set(epoch, (counts.get(epoch) ?? 0) + 1);
    const need = Math.min(this.minPerLevel, Math.max(0, ...counts.values()));
    let level: number | undefined;
    for (const [epoch, n] of counts) if (n >= need && (level === undefined || epoch > level)) level = epoch;
    return level;
  }

  /** Good and bad groups (see the class comment), or undefined while no trial has a value. */
  private split(observations: readonly Observation[]): Split | undefined {
    if (!observations.some((o) => isValue(o.value))) return undefined;
    // Canonical order first, so the result does not depend on how the caller listed observations.
    const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    const keyed = observations.map((o) => ({ o, key: paramsKey(o.params), points: pointsOf(o) }));
    const level = this.fidelity(keyed.map((k) => k.points), observations.some((o) => o.curve !== undefined && Object.keys(o.curve).length > 0));
    let sorted: typeof keyed;
    let nRanked: number;
    if (level === undefined) {
      sorted = keyed.sort((a, b) => better(this.goal, a.o, b.o) || byKey(a, b));
      nRanked = sorted.filter(({ o }) => isValue(o.value)).length;
    } else {
      const sign = this.goal === 'maximize' ? -1 : 1;
      const deepest = (k: (typeof keyed)[number]): number => Math.max(...k.points.keys());
      const ranked = keyed
        .filter((k) => k.points.has(level))
        .sort((a, b) => sign * ((a.points.get(level) as number) - (b.points.get(level) as number)) || deepest(b) - deepest(a) || byKey(a, b));
      // Trials that stopped before the level (or failed) are below every ranked one. A trial measured past the level
      // but not at it (its curve lacks that epoch: missing data) is left out of both groups: unknown there.
      const rest = keyed.filter((k) => !k.points.has(level) && !(k.points.size > 0 && deepest(k) > level)).sort(byKey);
      sorted = [...ranked, ...rest];
      nRanked = ranked.length;
    }
    const nGood = Math.min(nRanked, Math.max(1, Math.ceil(this.search.options.gamma * nRanked)));
    const good = sorted.slice(0, nGood).map(({ o }) => o.params);
    const bad = sorted.slice(nGood).map(({ o }) => o.params);
    return { good, bad };
  }
}
