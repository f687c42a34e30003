import { isCostMetric, paramsKey, paretoRanks } from '@sweepq/sweep-config';
import type { MetricGoal, SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { SearchError, SearchErrorCode } from '../errors.js';
import { greedyHypervolumeSubset, hypervolume } from '../hypervolume.js';
import { ParzenSearch } from './tpe/parzen-search.js';
import type { Split } from './tpe/parzen-search.js';
import type { Observation, TpeSamplerOptions } from './tpe.js';

/** Objective values of an observation when every one is a finite number, else undefined (failed or not measured). */
function measuredValues(o: Observation, n: number): number[] | undefined {
  const v = o.values;
  if (v === undefined || v.length !== n) return undefined;
  for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x)) return undefined;
  return v as number[];
}

/**
 * Splits finished trials into good and bad for the multi-objective sampler: the `ceil(gamma · n)` best of the n
 * trials whose every objective was measured (at least 1), best by non-dominated sorting — whole Pareto fronts in
 * order while they fit, and from the front that does not fit whole, the subset with the largest hypervolume
 * (greedy; each objective scaled to [0, 1] by the measured trials' range, the reference point 0.1 past that front's
 * worst in each). The bad group is every other trial, failed or unmeasured ones included (below every measured
 * trial). Undefined when no trial has every value. Both groups in the canonical order of their parameters, so the
 * result does not depend on the order of `observations`.
 */
export function splitByDominance(observations: readonly Observation[], goals: readonly MetricGoal[], gamma: number): { good: Observation[]; bad: Observation[] } | undefined {
  const keyed = observations.map((o) => ({ o, key: paramsKey(o.params), v: measuredValues(o, goals.length) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const measured = keyed.filter((k): k is typeof k & { v: number[] } => k.v !== undefined);
  if (measured.length === 0) return undefined;
  const nGood = Math.min(measured.length, Math.max(1, Math.ceil(gamma * measured.length)));
  const ranks = paretoRanks(measured.map((k) => k.v), goals) as number[];
  const good = new Set<number>();
  for (let rank = 0; good.size < nGood; rank++) {
    const front = measured.flatMap((_, i) => (ranks[i] === rank ? [i] : []));
    if (good.size + front.length <= nGood) {
      for (const i of front) good.add(i);
      continue;
    }
    const scaled = normalised(measured.map((k) => k.v), goals);
    const points = front.map((i) => scaled[i] as number[]);
    const reference = goals.map((_, j) => Math.max(...points.map((p) => p[j] as number)) + 0.1);
    for (const at of greedyHypervolumeSubset(points, nGood - good.size, reference)) good.add(front[at] as number);
  }
  const goodKeys = new Set([...good].map((i) => (measured[i] as (typeof measured)[number]).key));
  return {
    good: keyed.filter((k) => goodKeys.has(k.key)).map((k) => k.o),
    bad: keyed.filter((k) => !goodKeys.has(k.key)).map((k) => k.o),
  };
}

/**
 * Weights of the good trials' kernels in l(x), as Optuna's MOTPE gives them (Ozaki et al. 2022): each trial's
 * hypervolume contribution (the hypervolume the group loses without it; objectives scaled to [0, 1] by the group's
 * range, the reference point 0.1 past the group's worst in each), divided by the largest, plus a tiny floor so that a
 * dominated trial's kernel stays but hardly counts. One trial: weight 1.
 */
export function contributionWeights(values: ReadonlyArray<readonly number[]>, goals: readonly MetricGoal[]): number[] {
  if (values.length <= 1) return values.map(() => 1);
  const points = normalised(values, goals);
  const reference = goals.map((_, j) => Math.max(...points.map((p) => p[j] as number)) + 0.1);
  const all = hypervolume(points, reference);
  const contributions = points.map((_, i) => all - hypervolume(points.filter((_, k) => k !== i), reference) + 1e-12);
  const top = Math.max(...contributions);
  return contributions.map((c) => Math.min(1, Math.max(0, c / top)));
}

/** Values turned to minimisation and scaled to [0, 1] per objective by their range (0 where all are equal). */
function normalised(values: ReadonlyArray<readonly number[]>, goals: readonly MetricGoal[]): number[][] {
  const min = goals.map((g, j) => Math.min(...values.map((v) => (g === 'maximize' ? -1 : 1) * (v[j] as number))));
  const max = goals.map((g, j) => Math.max(...values.map((v) => (g === 'maximize' ? -1 : 1) * (v[j] as number))));
  return values.map((v) =>
    goals.map((g, j) => {
      const span = (max[j] as number) - (min[j] as number);
      return span > 0 ? ((g === 'maximize' ? -1 : 1) * (v[j] as number) - (min[j] as number)) / span : 0;
    }),
  );
}

/**
 * The multi-objective sampler's own defaults for `bayes:` options the spec leaves out (internal, not spec keys):
 * 6 candidates per proposal rather than TPE's 24. Tuned on the multi-objective table benchmark
 * (docs/benchmarks.md, "Multi-objective search", seeds 1-100, checked on 101-200): with the good trials weighted by
 * hypervolume contribution, l(x) is already concentrated on the few trials that widen the front, and fewer
 * candidates keep some exploration (with the categorical prior below, seeds 1-100: 12 candidates met 15 of the 18
 * marks against Optuna's best, 8 met 15, 6 met 16; with the earlier prior, 24 met 12 and 12 met 14).
 */
const MOTPE_DEFAULTS = Object.freeze({ n_ei_candidates: 6 });

/**
 * Multi-objective TPE (MOTPE, Ozaki et al. 2020/2022; what Optuna's TPESampler does with several directions), the
 * sampler of a `method: bayes` spec with several objectives (`spec.objectives`, each observation's `values` in that
 * order).
 *
 * Why MOTPE and not NSGA-II: a sweep runs tens of trials with several in flight, proposing one trial each time one
 * finishes. NSGA-II evolves generations (Optuna's default population is 50), so in a sweep of 50-100 trials it is
 * still in its random first generation or one or two generations past it, and a small population makes its
 * selection noisy; it also has no use for a trial that finishes while the generation is still running. MOTPE is
 * TPE with another split, so it models from the n_startup_trials-th trial on, proposes asynchronously with the
 * running trials pending, and keeps everything the single-objective TPE has learnt to do with a sweepq spec: the
 * parameters' distributions and priors, conditional parameters, the multivariate estimator, warm start and
 * de-duplication (all shared through ParzenSearch).
 *
 * - Start-up, candidates, scoring and pending trials as {@link TpeSampler}: random search's trials first, then
 *   `n_ei_candidates` draws from l(x) (default 6 here, {@link MOTPE_DEFAULTS}), the best l(x)/g(x) that is
 *   neither observed nor pending; pending configurations join g(x) (a constant liar with the worst values). Optuna
 *   3.1's MOTPE ignores running trials instead; leaving them out of g(x) here lost marks on the benchmark (12 of 18
 *   instead of 14, measured before the categorical prior below), and Optuna's gamma (ceil(0.1 n) good trials rather
 *   than ceil(0.25 n)) met as many marks by smaller margins, so both stay as they were.
 * - The good group is chosen by {@link splitByDominance}: Pareto fronts in order, the last one split by hypervolume
 *   contribution; failed trials (a null or missing value in `values`) rank below all. Cost metrics (model_bytes,
 *   param_count, latency_ms: `isCostMetric`) are compared on a log scale there, as they span orders of magnitude and
 *   one slow outlier would otherwise squeeze every other latency to 0 (Pareto ranks do not change; the hypervolume
 *   contributions do).
 * - The good trials' kernels in l(x) are weighted by their hypervolume contribution ({@link contributionWeights}, as
 *   Optuna's MOTPE, Ozaki et al. 2022): a dominated trial in the good group hardly counts.
 * - Categorical parameters in the per-parameter estimators weigh their prior as Optuna's TPE does
 *   (`categoricalPrior: 'kernels'`, kernelPriorMass in tpe/parzen.ts): one kernel per observation that spreads 1/(n + 1) over
 *   every choice, plus the prior kernel — a prior of mass about k + 1 in g(x), rather than the single-objective TPE's
 *   mass 1. A good group of a few trials, one or two of them carrying nearly all the weight, would otherwise make
 *   l(x) near-certain of their choices; smoothing it keeps the search looking along the front (on the benchmark it
 *   raised the univariate MOTPE's late hypervolume most, e.g. three objectives on spam-assassin at 100 %). The
 *   multivariate estimator keeps its own kernels (Optuna's sharper per-observation kernels lost marks there).
 * - Stopped trials and curves are not compared at equal budget as the single-objective sampler does: a trial counts
 *   with the values it reports (several objectives are searched without pruning).
 *
 * Deterministic: the result depends only on (seed, index, observations, pending), not on the order of the lists.
 */
export class MotpeSampler {
  private readonly search: ParzenSearch;
  private readonly goals: MetricGoal[];
  /** Per objective: a cost metric (bytes, parameters, latency), compared on a log scale. */
  private readonly logScaled: boolean[];

  /** @throws SearchError INVALID_SPEC when the spec does not list 2 or more objectives. */
  constructor(spec: SweepSpec, opts: TpeSamplerOptions = {}) {
    const objectives = spec.objectives ?? [];
    if (objectives.length < 2) {
      throw new SearchError(SearchErrorCode.InvalidSpec, `the multi-objective sampler needs 2 or more objectives in spec.objectives, got ${objectives.length}; use TpeSampler for one metric`);
    }
    this.goals = objectives.map((o) => o.goal);
    this.logScaled = objectives.map((o) => isCostMetric(o.name));
    // The spec's bayes options win; unset ones take the multi-objective defaults, then the single-objective ones.
    this.search = new ParzenSearch({ ...spec, bayes: { ...MOTPE_DEFAULTS, ...spec.bayes } }, (opts.seed ?? spec.seed) >>> 0, opts.warmStart ?? 0, 'kernels');
  }

  /**
   * Proposes the configuration of trial `index`.
   * @param observations finished trials, each with `values` in `spec.objectives` order (null: failed or not measured).
   * @param pending configurations running or queued; never proposed again, and treated as bad results.
   * @throws SearchError SPACE_EXHAUSTED when a finite space has no configuration left.
   */
  propose(index: number, observations: readonly Observation[], pending: readonly TrialParams[]): TrialParams {
    return this.search.propose(index, observations, pending, (obs) => this.split(obs));
  }

  private split(observations: readonly Observation[]): Split | undefined {
    const scaled = observations.map((o) => (o.values === undefined ? o : { ...o, values: o.values.map((v, j) => (typeof v === 'number' && this.logScaled[j] === true ? Math.log(Math.max(v, 1e-12)) : v)) }));
    const groups = splitByDominance(scaled, this.goals, this.search.options.gamma);
    if (groups === undefined) return undefined;
    const good = groups.good.map((o) => o.params);
    const bad = groups.bad.map((o) => o.params);
    return { good, bad, goodWeights: contributionWeights(groups.good.map((o) => o.values as number[]), this.goals) };
  }
}
