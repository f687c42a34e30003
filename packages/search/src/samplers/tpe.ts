import {
  DEFAULT_PARAMS,
  PARAMETER_NAMES,
  activeParameters,
  applyConditions,
  clauseHolds,
  createRng,
  gridSize,
  logUniformBounds,
  multiple,
  nearestMultiple,
  paramsKey,
  quantizedRange,
} from '@sweepq/sweep-config';
import type { ParamValue, ParameterName, ParameterSpec, Rng, SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { SearchError, SearchErrorCode } from '../errors.js';
import { gridCombinations } from './grid.js';
import { below, sampleParameter } from './sample-parameter.js';
import { JointParzen } from './tpe/joint-parzen.js';
import type { JointDimension } from './tpe/joint-parzen.js';
import { CategoricalParzen, NumericParzen } from './tpe/parzen.js';
import type { NumericDomain } from './tpe/parzen.js';
import { resolveBayes } from '../plan-adaptive.js';

/** A finished trial as the sampler sees it. */
export interface Observation {
  params: TrialParams;
  /** The sweep metric; null for a failed or diverged trial (ranked below every trial with a value). */
  value: number | null;
  /**
   * With several objectives (`spec.objectives`): the trial's value of each, in that order (`objectiveValues` in
   * @sweepq/results), `value` being the first. Ignored by the single-objective sampler.
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

interface Dim {
  name: ParameterName;
  spec: ParameterSpec;
  numeric?: NumericDomain;
  /** Decodes a transformed numeric draw to a value the spec can produce. */
  decode?: (x: number) => number;
  /** The bin of a value, transformed, for stepped domains. */
  bin?: (v: number) => readonly [number, number];
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

function bounded(low: number, high: number, log: boolean, extra: Partial<NumericDomain> = {}): NumericDomain {
  return { log, low, high, priorMu: (low + high) / 2, priorSigma: high - low, ...extra };
}

/** A stepped dimension over the multiples k·q, k in [kLo, kHi] (finite), on the value scale. */
function linearSteps(name: ParameterName, spec: ParameterSpec, q: number, kLo: number, kHi: number): Dim {
  const half = q / 2;
  return {
    name,
    spec,
    numeric: bounded(kLo * q - half, kHi * q + half, false, { step: q }),
    decode: (x) => nearestMultiple(x, q, kLo, kHi),
    bin: (v) => [v - half, v + half],
  };
}

/**
 * A stepped dimension over the positive multiples k·q, k in [kLo, kHi] (kHi may be infinite), modelled in log space;
 * `prior` gives the prior Gaussian (log scale) when the domain is unbounded.
 */
function logSteps(name: ParameterName, spec: ParameterSpec, q: number, kLo: number, kHi: number, prior?: { mu: number; sigma: number }): Dim {
  const half = q / 2;
  const vLo = multiple(kLo, q);
  const low = Math.log(Math.max(vLo - half, vLo / 2));
  const high = Number.isFinite(kHi) ? Math.log(multiple(kHi, q) + half) : Infinity;
  const numeric = prior === undefined ? bounded(low, high, true, { step: q }) : { log: true, low, high, priorMu: prior.mu, priorSigma: prior.sigma, step: q };
  return {
    name,
    spec,
    numeric,
    decode: (x) => nearestMultiple(Math.exp(x), q, kLo, kHi),
    bin: (v) => [Math.max(low, Math.log(Math.max(v - half, v / 2))), Math.min(high, Math.log(v + half))],
  };
}

function makeDim(name: ParameterName, spec: ParameterSpec): Dim {
  switch (spec.kind) {
    case 'constant':
    case 'categorical':
      return { name, spec };
    case 'int_uniform':
      return linearSteps(name, spec, 1, spec.min, spec.max);
    case 'q_uniform':
    case 'q_beta': {
      const { kLo, kHi } = quantizedRange(spec);
      return linearSteps(name, spec, spec.q, kLo, kHi);
    }
    case 'uniform':
      return { name, spec, numeric: bounded(spec.min, spec.max, false), decode: (x) => clamp(x, spec.min, below(spec.max)) };
    case 'log_uniform_values':
    case 'log_uniform':
    case 'inv_log_uniform':
    case 'inv_log_uniform_values': {
      const [lo, hi] = logUniformBounds(spec);
      return { name, spec, numeric: bounded(Math.log(lo), Math.log(hi), true), decode: (x) => clamp(Math.exp(x), lo, below(hi)) };
    }
    case 'q_log_uniform_values':
    case 'q_log_uniform': {
      const { kLo, kHi } = quantizedRange(spec);
      return logSteps(name, spec, spec.q, kLo, kHi);
    }
    case 'normal':
      return { name, spec, numeric: { log: false, low: -Infinity, high: Infinity, priorMu: spec.mu, priorSigma: spec.sigma }, decode: (x) => x };
    case 'log_normal':
      return { name, spec, numeric: { log: true, low: -Infinity, high: Infinity, priorMu: spec.mu, priorSigma: spec.sigma }, decode: (x) => Math.exp(x) };
    case 'q_normal': {
      const half = spec.q / 2;
      return {
        name,
        spec,
        numeric: { log: false, low: -Infinity, high: Infinity, priorMu: spec.mu, priorSigma: spec.sigma, step: spec.q },
        decode: (x) => nearestMultiple(x, spec.q, -Infinity, Infinity),
        bin: (v) => [v - half, v + half],
      };
    }
    case 'q_log_normal': {
      const { kLo, kHi } = quantizedRange(spec);
      return logSteps(name, spec, spec.q, kLo, kHi, { mu: spec.mu, sigma: spec.sigma });
    }
    case 'beta':
      // The prior is the uninformative one over (0, 1), as for uniform; the spec's a and b shape only random draws.
      return { name, spec, numeric: bounded(0, 1, false), decode: (x) => clamp(x, Number.MIN_VALUE, below(1)) };
  }
}

/** A candidate configuration (the drawn parameters) and its score log l(x) − log g(x). */
interface Candidate {
  combo: Record<string, ParamValue>;
  score: number;
}

interface Estimator {
  sample(rng: Rng): ParamValue;
  logPdf(v: ParamValue): number;
}

function estimator(dim: Dim, values: readonly ParamValue[]): Estimator | undefined {
  const { spec } = dim;
  if (spec.kind === 'constant') return undefined;
  if (spec.kind === 'categorical') {
    const prior = spec.probabilities ?? spec.values.map(() => 1 / spec.values.length);
    const p = new CategoricalParzen(spec.values, prior, values);
    return { sample: (rng) => p.sample(rng), logPdf: (v) => p.logPdf(v) };
  }
  const domain = dim.numeric as NumericDomain;
  const decode = dim.decode as (x: number) => number;
  const encode = (v: number): number => (domain.log ? Math.log(v) : v);
  const points = values.filter((v): v is number => typeof v === 'number' && (!domain.log || v > 0)).map(encode);
  const p = new NumericParzen(domain, points);
  return {
    sample: (rng) => decode(p.sample(rng)),
    logPdf: (v) => {
      if (typeof v !== 'number') return -Infinity;
      return dim.bin === undefined ? p.logPdf(encode(v)) : p.logPdf(encode(v), dim.bin(v));
    },
  };
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

function toTrialParams(combo: Readonly<Record<string, ParamValue>>): TrialParams {
  const params: Record<string, ParamValue> = {};
  for (const name of PARAMETER_NAMES) params[name] = Object.hasOwn(combo, name) ? (combo[name] as ParamValue) : DEFAULT_PARAMS[name];
  return params as unknown as TrialParams;
}

/**
 * Tree-structured Parzen Estimator (Bergstra et al., 2011) for `method: bayes`, asynchronous and reproducible.
 *
 * - Trials `index < n_startup_trials` (and any proposal made before a trial has a value) are random draws: trial k's
 *   first draw is exactly random search's trial k for the same seed.
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
  private readonly dims: Dim[];
  private readonly seed: number;
  private readonly options: ReturnType<typeof resolveBayes>;
  private readonly warmStart: number;
  private readonly goal: 'maximize' | 'minimize';
  /** Observations an epoch needs before trials are compared there (multi-fidelity; see the class comment). */
  private readonly minPerLevel: number;
  /** The non-constant parameters, as the multivariate estimator models them. */
  private readonly jointDims: JointDimension[];

  constructor(
    private readonly spec: SweepSpec,
    opts: TpeSamplerOptions = {},
  ) {
    this.dims = Object.entries(spec.parameters).map(([name, ps]) => makeDim(name as ParameterName, ps));
    this.seed = (opts.seed ?? spec.seed) >>> 0;
    this.options = resolveBayes(spec);
    this.warmStart = opts.warmStart ?? 0;
    this.goal = spec.metric.goal;
    const free = this.dims.filter((d) => d.spec.kind !== 'constant').length;
    this.minPerLevel = Math.max(this.options.n_startup_trials, free + 1);
    this.jointDims = this.dims.flatMap((d): JointDimension[] => {
      if (d.spec.kind === 'constant') return [];
      if (d.spec.kind === 'categorical') {
        const { values, probabilities } = d.spec;
        return [{ name: d.name, kind: 'categorical', choices: values, prior: probabilities ?? values.map(() => 1 / values.length) }];
      }
      const domain = d.numeric as NumericDomain;
      const encode = (v: number): number | undefined => (!domain.log ? v : v > 0 ? Math.log(v) : undefined);
      return [{ name: d.name, kind: 'numeric', domain, encode, decode: d.decode as (x: number) => number, ...(d.bin === undefined ? {} : { bin: d.bin }) }];
    });
  }

  /**
   * Proposes the configuration of trial `index`.
   * @param observations trials that have finished (completed, stopped early, or failed with value null).
   * @param pending configurations currently running or queued; never proposed again, and treated as bad results.
   * @throws SearchError SPACE_EXHAUSTED when a finite space has no configuration left (planAdaptive's `total`
   *   prevents asking for one).
   */
  propose(index: number, observations: readonly Observation[], pending: readonly TrialParams[]): TrialParams {
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`trial index must be a non-negative integer, got ${String(index)}`);
    const taken = new Set<string>([...observations.map((o) => paramsKey(o.params)), ...pending.map(paramsKey)]);
    const valued = observations.filter((o) => o.value !== null && Number.isFinite(o.value));
    if (index + this.warmStart >= this.options.n_startup_trials && valued.length > 0) {
      const proposal = this.tpe(index, observations, pending, taken);
      if (proposal !== undefined) return proposal;
    }
    return this.randomUnused(index, taken);
  }

  private randomUnused(index: number, taken: ReadonlySet<string>): TrialParams {
    const rng = createRng(this.seed, index);
    for (let attempt = 0; attempt < 1000; attempt++) {
      // Same order and stream as random search, so attempt 0 is random search's trial `index`.
      const combo: Record<string, ParamValue> = {};
      for (const name of PARAMETER_NAMES) {
        const ps = Object.hasOwn(this.spec.parameters, name) ? this.spec.parameters[name] : undefined;
        if (ps !== undefined) combo[name] = sampleParameter(ps, rng);
      }
      const params = applyConditions(this.spec, toTrialParams(combo));
      if (!taken.has(paramsKey(params))) return params;
    }
    return this.firstUnusedCombination(taken);
  }

  private firstUnusedCombination(taken: ReadonlySet<string>): TrialParams {
    if (Number.isFinite(gridSize(this.spec.parameters))) {
      for (const combo of gridCombinations(this.spec.parameters)) {
        const params = applyConditions(this.spec, toTrialParams(combo));
        if (!taken.has(paramsKey(params))) return params;
      }
    }
    throw new SearchError(SearchErrorCode.SpaceExhausted, `every configuration of the search space has been tried or is in flight (${taken.size} distinct); lower run_cap or widen the space`);
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

  private tpe(index: number, observations: readonly Observation[], pending: readonly TrialParams[], taken: ReadonlySet<string>): TrialParams | undefined {
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
    const nGood = Math.min(nRanked, Math.max(1, Math.ceil(this.options.gamma * nRanked)));
    const good = sorted.slice(0, nGood).map(({ o }) => o.params);
    const pendingSorted = [...pending].sort((a, b) => (paramsKey(a) < paramsKey(b) ? -1 : 1));
    const bad = [...sorted.slice(nGood).map(({ o }) => o.params), ...pendingSorted];

    const rng = createRng((this.seed ^ 0x7e5a_11ed) >>> 0, index);
    const draw = this.options.multivariate ? this.jointDraw(good, bad) : this.independentDraw(good, bad);
    let best: { params: TrialParams; score: number } | undefined;
    const rounds = 10;
    for (let round = 0; round < rounds && best === undefined; round++) {
      for (let c = 0; c < this.options.n_ei_candidates; c++) {
        const { combo, score } = draw(rng);
        const params = applyConditions(this.spec, toTrialParams(combo));
        if (taken.has(paramsKey(params))) continue;
        if (best === undefined || score > best.score) best = { params, score };
      }
    }
    return best?.params;
  }

  /**
   * Candidates from separate per-parameter estimators of the good and bad groups; score Σ log l(x) − log g(x) over the
   * candidate's active parameters. Constants and parameters whose condition fails on the candidate are not drawn.
   */
  private independentDraw(good: readonly TrialParams[], bad: readonly TrialParams[]): (rng: Rng) => Candidate {
    const fit = (group: readonly TrialParams[]): Map<ParameterName, Estimator | undefined> => {
      const actives = group.map((p) => activeParameters(this.spec, p));
      const out = new Map<ParameterName, Estimator | undefined>();
      for (const dim of this.dims) {
        const values = group.filter((_, i) => actives[i]?.has(dim.name)).map((p) => p[dim.name] as ParamValue);
        out.set(dim.name, estimator(dim, values));
      }
      return out;
    };
    const l = fit(good);
    const g = fit(bad);
    return (rng) => {
      const combo: Record<string, ParamValue> = {};
      let score = 0;
      this.eachActiveDim(combo, (dim) => {
        const le = l.get(dim.name);
        if (le === undefined) return;
        const v = le.sample(rng);
        combo[dim.name] = v;
        score += le.logPdf(v) - (g.get(dim.name) as Estimator).logPdf(v);
      });
      return { combo, score };
    };
  }

  /**
   * Candidates from the joint (multivariate) estimator of the good group: one good trial's kernel (or the prior) per
   * candidate, every parameter drawn from it; score log l(x) − log g(x) of the whole configuration.
   */
  private jointDraw(good: readonly TrialParams[], bad: readonly TrialParams[]): (rng: Rng) => Candidate {
    const values = (p: TrialParams): Record<string, ParamValue> => {
      const active = activeParameters(this.spec, p);
      const out: Record<string, ParamValue> = {};
      for (const d of this.jointDims) if (active.has(d.name as ParameterName)) out[d.name] = p[d.name as ParameterName] as ParamValue;
      return out;
    };
    const l = new JointParzen(this.jointDims, good.map(values));
    const g = new JointParzen(this.jointDims, bad.map(values));
    const at = new Map(this.jointDims.map((d, i) => [d.name, i]));
    return (rng) => {
      const k = l.pickComponent(rng);
      const combo: Record<string, ParamValue> = {};
      const drawn: Record<string, ParamValue> = {};
      this.eachActiveDim(combo, (dim) => {
        const i = at.get(dim.name);
        if (i === undefined) return;
        combo[dim.name] = l.sample(k, i, rng);
        drawn[dim.name] = combo[dim.name] as ParamValue;
      });
      return { combo, score: l.logPdf(drawn) - g.logPdf(drawn) };
    };
  }

  /**
   * Visits the dimensions in spec order whose condition holds on `combo` so far (each visited one counts as active
   * for the conditions after it), setting constants in `combo` and handing the others to `visit` to set.
   */
  private eachActiveDim(combo: Record<string, ParamValue>, visit: (dim: Dim) => void): void {
    const active = new Set<string>();
    for (const dim of this.dims) {
      const cond = dim.spec.condition;
      if (cond !== undefined && !Object.entries(cond).every(([ref, clause]) => active.has(ref) && clauseHolds(clause, combo[ref]))) continue;
      active.add(dim.name);
      if (dim.spec.kind === 'constant') combo[dim.name] = dim.spec.value;
      else visit(dim);
    }
  }
}
