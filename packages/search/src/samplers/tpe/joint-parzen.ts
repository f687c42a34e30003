import type { ParamValue, Rng } from '@sweepq/sweep-config';
import { logSumExp } from './normal.js';
import { clipBandwidth, domainRange, kernelLogPdf, kernelLogZ, kernelSample, pickIndex } from './parzen.js';
import type { NumericDomain } from './parzen.js';

/** One parameter of a {@link JointParzen}: categorical (choices + prior) or numeric (domain + codecs). */
export type JointDimension =
  | { readonly name: string; readonly kind: 'categorical'; readonly choices: readonly ParamValue[]; readonly prior: readonly number[] }
  | {
      readonly name: string;
      readonly kind: 'numeric';
      readonly domain: NumericDomain;
      /** Original value -> the domain's (transformed) space; undefined for a value the domain cannot hold. */
      readonly encode: (v: number) => number | undefined;
      /** Transformed draw -> a value the spec can produce. */
      readonly decode: (x: number) => number;
      /** Stepped domains: the value's bin (transformed), whose mass replaces the point density. */
      readonly bin?: (v: number) => readonly [number, number];
    };

/** Kernel bandwidth factor of the multivariate estimator (Scott's rule scale, as in Optuna's multivariate TPE). */
const SIGMA0 = 0.2;

/**
 * Multivariate Parzen estimator (Falkner et al. 2018 BOHB; Optuna's `multivariate=True`): a mixture with one product
 * kernel per observation plus one prior component, equal weights (or the ones given, as the multi-objective sampler
 * gives its good trials' hypervolume contributions). Unlike the per-parameter estimators, a draw takes
 * every parameter from the same observation's kernel, so l(x)/g(x) sees interactions — e.g. sgd is good only with a
 * large learning rate, adam only with a small one, which separate estimators of `optimizer` and `learning_rate`
 * cannot express.
 *
 * - Numeric parameters: a Gaussian at the observed value in the domain's space, truncated to it; bandwidth
 *   0.2 · range · n^(-1/(d+4)) (n observations, d parameters), at least range / min(100, n + 1); the prior
 *   component is the domain's prior Gaussian. Stepped domains use the bin mass, as the univariate estimator does.
 * - Categorical parameters: the observed choice gets weight 1 plus the prior (weight 1, spread by the spec's
 *   probabilities), normalised; the prior component is the prior.
 * - Conditional parameters: where an observation did not have a parameter (its condition did not hold), its
 *   component uses the prior for it — it says nothing about that parameter.
 */
export class JointParzen {
  /** Per observation (then the prior component last), per dimension: the kernel. */
  private readonly kernels: Array<Array<NumericKernel | CategoricalKernel>>;
  /** Per component (the prior's last, 1): its weight; undefined when all are equal. */
  private readonly weights: number[] | undefined;

  /**
   * @param observations each observation's values by parameter name; a parameter missing (inactive) or holding a
   *   value its dimension cannot (wrong type, non-positive in a log domain) falls back to the prior.
   * @param weights each observation's component weight (the prior's is 1); every one 1 when left out.
   */
  constructor(
    private readonly dims: readonly JointDimension[],
    observations: ReadonlyArray<Readonly<Record<string, ParamValue>>>,
    weights?: readonly number[],
  ) {
    const n = observations.length;
    const priorKernels = dims.map((d) => (d.kind === 'numeric' ? numericKernel(d.domain, d.domain.priorMu, d.domain.priorSigma) : categoricalKernel(d.prior)));
    // One bandwidth per numeric dimension (Scott's rule): it depends on the domain and n, not on the observation.
    const sigmas = dims.map((d) => {
      if (d.kind !== 'numeric') return 0;
      const range = domainRange(d.domain);
      return clipBandwidth(SIGMA0 * range * Math.max(1, n) ** (-1 / (dims.length + 4)), range, n);
    });
    this.kernels = observations.map((o) =>
      dims.map((d, i) => {
        const v = Object.hasOwn(o, d.name) ? o[d.name] : undefined;
        if (d.kind === 'categorical') {
          const at = v === undefined ? -1 : d.choices.indexOf(v);
          if (at < 0) return priorKernels[i] as CategoricalKernel;
          const w = d.prior.map((p, j) => p + (j === at ? 1 : 0));
          return categoricalKernel(w);
        }
        const x = typeof v === 'number' ? d.encode(v) : undefined;
        if (x === undefined || !Number.isFinite(x)) return priorKernels[i] as NumericKernel;
        return numericKernel(d.domain, x, sigmas[i] as number);
      }),
    );
    this.kernels.push(priorKernels);
    this.weights = weights === undefined ? undefined : [...observations.map((_, i) => weights[i] as number), 1];
  }

  /** Number of mixture components: one per observation, plus the prior. */
  get size(): number {
    return this.kernels.length;
  }

  /** A component, drawn in proportion to the weights (equal when none were given). */
  pickComponent(rng: Rng): number {
    return pickIndex(this.weights ?? this.kernels.map(() => 1), rng);
  }

  /** Draws dimension `dim` from component `k`. */
  sample(k: number, dim: number, rng: Rng): ParamValue {
    const d = this.dims[dim] as JointDimension;
    const kernel = (this.kernels[k] as Array<NumericKernel | CategoricalKernel>)[dim];
    if (d.kind === 'categorical') return d.choices[pickIndex((kernel as CategoricalKernel).probs, rng)] as ParamValue;
    const nk = kernel as NumericKernel;
    return d.decode(kernelSample(d.domain, nk.mu, nk.sigma, rng));
  }

  /**
   * log density of a configuration over the dimensions it has (`values` by name; the others are left out — a
   * parameter inactive in the configuration is not part of its density).
   */
  logPdf(values: Readonly<Record<string, ParamValue>>): number {
    const present = this.dims.map((d, i) => ({ d, i })).filter(({ d }) => Object.hasOwn(values, d.name));
    const terms = this.kernels.map((row) => {
      let sum = 0;
      for (const { d, i } of present) {
        const v = values[d.name] as ParamValue;
        if (d.kind === 'categorical') {
          const at = d.choices.indexOf(v);
          sum += at < 0 ? -Infinity : Math.log((row[i] as CategoricalKernel).probs[at] as number);
          continue;
        }
        const x = typeof v === 'number' ? d.encode(v) : undefined;
        if (x === undefined) return -Infinity;
        const k = row[i] as NumericKernel;
        sum += kernelLogPdf(k.mu, k.sigma, k.logZ, x, d.bin === undefined ? undefined : d.bin(v as number));
      }
      return sum;
    });
    if (this.weights === undefined) return logSumExp(terms) - Math.log(this.kernels.length);
    const w = this.weights;
    return logSumExp(terms.map((t, k) => t + Math.log(w[k] as number))) - Math.log(w.reduce((a, b) => a + b, 0));
  }
}

interface NumericKernel {
  readonly mu: number;
  readonly sigma: number;
  readonly logZ: number;
}

interface CategoricalKernel {
  readonly probs: readonly number[];
}

function numericKernel(domain: NumericDomain, mu: number, sigma: number): NumericKernel {
  return { mu, sigma, logZ: kernelLogZ(domain, mu, sigma) };
}

function categoricalKernel(weights: readonly number[]): CategoricalKernel {
  const total = weights.reduce((a, b) => a + b, 0);
  return { probs: weights.map((w) => w / total) };
}
