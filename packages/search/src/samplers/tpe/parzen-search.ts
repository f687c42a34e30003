import { PARAMETER_NAMES, activeParameters, applyConditions, clauseHolds, createRng, gridSize, paramsKey } from '@sweepq/sweep-config';
import type { ParamValue, ParameterName, Rng, SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { SearchError, SearchErrorCode } from '../../errors.js';
import { resolveBayes } from '../../plan-adaptive.js';
import { gridCombinations } from '../grid.js';
import { below, parameterAtQuantile, sampleParameter } from '../sample-parameter.js';
import { estimator, jointDimensions, makeDim, toTrialParams } from './dims.js';
import type { Candidate, CategoricalPrior, Dim, Estimator } from './dims.js';
import { JointParzen } from './joint-parzen.js';
import type { JointDimension } from './joint-parzen.js';

/** Salts of the Latin-hypercube start-up's streams (stratum order per parameter; point within the stratum per trial). */
const LHS_ORDER_SALT = 0x1a7c_0de5;
const LHS_JITTER_SALT = 0x5a17_7e12;

/**
 * How a Parzen sampler split the finished trials: the "good" ones l(x) is fitted on, and the others (failed ones
 * included) that go into g(x). Each list in a canonical order (the estimators' results depend on it).
 */
export interface Split {
  good: readonly TrialParams[];
  bad: readonly TrialParams[];
  /** Weights of the good trials' kernels in l(x), in `good`'s order (the prior's is 1); every one 1 when left out. */
  goodWeights?: readonly number[];
}

/**
 * What TpeSampler and MotpeSampler share: the random start-up, the estimators of the good and bad groups
 * (per-parameter or joint), the candidate draw and its l(x)/g(x) score, the pending configurations (never proposed
 * again, and added to the bad group: a constant liar with the worst value), and de-duplication (the best candidate
 * that is neither observed nor pending, then more candidates, then random draws, then, in a finite space, the first
 * unused grid combination). The samplers differ only in how they split finished trials into good and bad.
 */
export class ParzenSearch {
  readonly dims: Dim[];
  readonly options: ReturnType<typeof resolveBayes>;
  /** The non-constant parameters, as the multivariate estimator models them. */
  private readonly jointDims: JointDimension[];
  /** Latin-hypercube start-up: each parameter's strata in trial order (see {@link latinHypercubeDraw}). */
  private readonly strataCache = new Map<number, number[]>();

  /**
   * @param seed seed of every draw (already resolved: the option, else the spec's).
   * @param warmStart observations from earlier sweeps passed with every proposal; they count towards n_startup_trials.
   * @param categoricalPrior how the per-parameter estimators weigh a categorical parameter's prior ({@link estimator}):
   *   `one` (default, TpeSampler) or `kernels` (MotpeSampler). The joint estimator does not read it.
   */
  constructor(
    private readonly spec: SweepSpec,
    private readonly seed: number,
    private readonly warmStart: number,
    private readonly categoricalPrior: CategoricalPrior = 'one',
  ) {
    this.dims = Object.entries(spec.parameters).map(([name, ps]) => makeDim(name as ParameterName, ps));
    this.options = resolveBayes(spec);
    this.jointDims = jointDimensions(this.dims);
  }

  /**
   * The configuration of trial `index`: a random draw during start-up (`index + warmStart < n_startup_trials`; a
   * Latin-hypercube one with `startup_design: latin_hypercube`, random draws after it if that one is taken) or
   * when `split` finds nothing to rank (returns undefined), else the best candidate of l(x)/g(x) for its split.
   * @throws SearchError SPACE_EXHAUSTED when a finite space has no configuration left.
   */
  propose<O extends { params: TrialParams }>(index: number, observations: readonly O[], pending: readonly TrialParams[], split: (observations: readonly O[]) => Split | undefined): TrialParams {
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`trial index must be a non-negative integer, got ${String(index)}`);
    const taken = new Set<string>([...observations.map((o) => paramsKey(o.params)), ...pending.map(paramsKey)]);
    if (index + this.warmStart >= this.options.n_startup_trials) {
      const groups = split(observations);
      const proposal = groups === undefined ? undefined : this.suggest(index, groups, pending, taken);
      if (proposal !== undefined) return proposal;
    }
    return this.randomUnused(index, taken);
  }

  private randomUnused(index: number, taken: ReadonlySet<string>): TrialParams {
    if (this.options.startup_design === 'latin_hypercube') {
      const params = this.latinHypercubeDraw(index);
      if (params !== undefined && !taken.has(paramsKey(params))) return params;
    }
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

  /**
   * Start-up trial `index` of a Latin hypercube (`bayes.startup_design: latin_hypercube`) over the n start-up trials
   * this sweep draws (n_startup_trials less the warm-start observations): each parameter's range is cut into n
   * strata of equal probability, each stratum goes to one trial in a seeded random order (its own order per
   * parameter), and the trial takes a uniformly random point in its stratum through the inverse CDF
   * ({@link parameterAtQuantile}); a beta parameter, which has no inverse here, is drawn at random. A categorical
   * parameter with m values thus takes each value in about n/m of the start-up trials (a stratum that straddles two
   * values gives either), where independent draws would repeat some and miss others. A conditional parameter's strata
   * are spread over all n trials, so only those where it applies keep theirs. Undefined past the start-up (or
   * without one). Depends only on (seed, index, n).
   */
  private latinHypercubeDraw(index: number): TrialParams | undefined {
    const n = this.options.n_startup_trials - this.warmStart;
    if (index >= n) return undefined;
    const jitter = createRng((this.seed ^ LHS_JITTER_SALT) >>> 0, index);
    const combo: Record<string, ParamValue> = {};
    PARAMETER_NAMES.forEach((name, d) => {
      const ps = Object.hasOwn(this.spec.parameters, name) ? this.spec.parameters[name] : undefined;
      if (ps === undefined) return;
      const stratum = this.strata(d, n)[index] as number;
      // Strictly inside (0, 1): Φ⁻¹ of the normal kinds stays finite and moderate even for a jitter of exactly 0.
      const u = Math.min(Math.max((stratum + jitter.next()) / n, Number.EPSILON / n), below(1));
      combo[name] = parameterAtQuantile(ps, u) ?? sampleParameter(ps, jitter);
    });
    return applyConditions(this.spec, toTrialParams(combo));
  }

  /** The stratum of each start-up trial for parameter `d` (0..n-1, shuffled by the seed), computed once. */
  private strata(d: number, n: number): readonly number[] {
    let order = this.strataCache.get(d);
    if (order === undefined) {
      const rng = createRng((this.seed ^ LHS_ORDER_SALT) >>> 0, d);
      order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [order[i], order[j]] = [order[j] as number, order[i] as number];
      }
      this.strataCache.set(d, order);
    }
    return order;
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

  /** The best of the candidates drawn from l(x) that is not taken, or undefined when every draw was taken. */
  private suggest(index: number, split: Split, pending: readonly TrialParams[], taken: ReadonlySet<string>): TrialParams | undefined {
    const pendingSorted = [...pending].sort((a, b) => (paramsKey(a) < paramsKey(b) ? -1 : 1));
    const bad = [...split.bad, ...pendingSorted];
    const rng = createRng((this.seed ^ 0x7e5a_11ed) >>> 0, index);
    const draw = this.options.multivariate ? this.jointDraw(split.good, bad, split.goodWeights) : this.independentDraw(split.good, bad, split.goodWeights);
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
  private independentDraw(good: readonly TrialParams[], bad: readonly TrialParams[], goodWeights?: readonly number[]): (rng: Rng) => Candidate {
    const fit = (group: readonly TrialParams[], weights?: readonly number[]): Map<ParameterName, Estimator | undefined> => {
      const actives = group.map((p) => activeParameters(this.spec, p));
      const out = new Map<ParameterName, Estimator | undefined>();
      for (const dim of this.dims) {
        const at = group.flatMap((_, i) => (actives[i]?.has(dim.name) ? [i] : []));
        const values = at.map((i) => (group[i] as TrialParams)[dim.name] as ParamValue);
        out.set(dim.name, estimator(dim, values, weights === undefined ? undefined : at.map((i) => weights[i] as number), this.categoricalPrior));
      }
      return out;
    };
    const l = fit(good, goodWeights);
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
  private jointDraw(good: readonly TrialParams[], bad: readonly TrialParams[], goodWeights?: readonly number[]): (rng: Rng) => Candidate {
    const values = (p: TrialParams): Record<string, ParamValue> => {
      const active = activeParameters(this.spec, p);
      const out: Record<string, ParamValue> = {};
      for (const d of this.jointDims) if (active.has(d.name as ParameterName)) out[d.name] = p[d.name as ParameterName] as ParamValue;
      return out;
    };
    const l = new JointParzen(this.jointDims, good.map(values), goodWeights);
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
