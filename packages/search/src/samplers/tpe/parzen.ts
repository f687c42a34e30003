import type { ParamValue, Rng } from '@sweepq/sweep-config';
import { logSumExp, normalCdf, normalLogPdf, normalQuantile } from './normal.js';

/**
 * How one numeric parameter is modelled: in its natural space (`log` for the log-scale distributions), within
 * `[low, high]` of that space (±Infinity for normal/log_normal), with the prior Gaussian the space implies.
 * Integer and quantized parameters carry `step` (in the original space): densities are then the mixture's mass over
 * the value's bin rather than a point density, as in Optuna's TPE.
 */
export interface NumericDomain {
  readonly log: boolean;
  readonly low: number;
  readonly high: number;
  readonly priorMu: number;
  readonly priorSigma: number;
  readonly step?: number;
}

/** A truncated Gaussian mixture over a numeric domain (transformed space). */
export class NumericParzen {
  private readonly mus: number[];
  private readonly sigmas: number[];
  private readonly logWeights: number[];
  private readonly logZ: number[];

  /**
   * @param points observed values, already transformed (log for log domains).
   * @param weights each point's kernel weight (the prior's is 1); every one 1 when left out.
   */
  constructor(
    private readonly domain: NumericDomain,
    points: readonly number[],
    weights?: readonly number[],
  ) {
    const { low, high, priorMu, priorSigma } = domain;
    const bounded = Number.isFinite(low) && Number.isFinite(high);
    // Bandwidths as in Bergstra et al. (2011) and Optuna: the larger gap to a neighbour (the domain edges count as
    // neighbours), clipped to [range / min(100, 1 + n), range] ("magic clip") so no kernel collapses or swamps.
    const order = points.map((_, i) => i).sort((a, b) => (points[a] as number) - (points[b] as number));
    const sorted = order.map((i) => points[i] as number);
    const lowEdge = bounded ? low : Math.min(priorMu - 3 * priorSigma, sorted[0] ?? priorMu);
    const highEdge = bounded ? high : Math.max(priorMu + 3 * priorSigma, sorted[sorted.length - 1] ?? priorMu);
    const range = domainRange(domain);
    const sigmaOf = new Map<number, number>();
    sorted.forEach((x, i) => {
      const left = x - (i === 0 ? lowEdge : (sorted[i - 1] as number));
      const right = (i === sorted.length - 1 ? highEdge : (sorted[i + 1] as number)) - x;
      sigmaOf.set(i, clipBandwidth(Math.max(left, right), range, sorted.length));
    });
    this.mus = [...sorted, priorMu];
    this.sigmas = [...sorted.map((_, i) => sigmaOf.get(i) as number), priorSigma];
    if (weights === undefined) {
      // Equal weight for every observation and for the prior (prior weight 1).
      const logW = -Math.log(this.mus.length);
      this.logWeights = this.mus.map(() => logW);
    } else {
      const w = [...order.map((i) => weights[i] as number), 1];
      const total = w.reduce((a, b) => a + b, 0);
      this.logWeights = w.map((x) => Math.log(x / total));
    }
    this.logZ = this.mus.map((mu, i) => kernelLogZ(domain, mu, this.sigmas[i] as number));
  }

  /** Draws one value (transformed space) from the mixture, inside [low, high]. */
  sample(rng: Rng): number {
    const k = pickIndex(this.logWeights.map(Math.exp), rng);
    return kernelSample(this.domain, this.mus[k] as number, this.sigmas[k] as number, rng);
  }

  /** log density at `x` (transformed), or log mass of the bin [lo, hi] (transformed) for stepped domains. */
  logPdf(x: number, bin?: readonly [number, number]): number {
    return logSumExp(this.mus.map((mu, i) => (this.logWeights[i] as number) + kernelLogPdf(mu, this.sigmas[i] as number, this.logZ[i] as number, x, bin)));
  }
}

/** Width of a domain (transformed space): high − low, or 6 prior sigmas when unbounded. */
export function domainRange(domain: NumericDomain): number {
  const bounded = Number.isFinite(domain.low) && Number.isFinite(domain.high);
  return bounded ? domain.high - domain.low : 6 * domain.priorSigma;
}

/** A kernel bandwidth clipped to [range / min(100, 1 + n), range] ("magic clip"), n the number of observations. */
export function clipBandwidth(sigma: number, range: number, n: number): number {
  return Math.min(range, Math.max(range / Math.min(100, 1 + n), sigma));
}

/** log of the mass a Gaussian kernel (mu, s) keeps inside the domain; the normaliser of its truncation. */
export function kernelLogZ(domain: NumericDomain, mu: number, s: number): number {
  return Math.log(Math.max(1e-300, normalCdf((domain.high - mu) / s) - normalCdf((domain.low - mu) / s)));
}

/** log density at `x` of a Gaussian kernel truncated to the domain (`logZ` from kernelLogZ), or its log mass over `bin`. */
export function kernelLogPdf(mu: number, s: number, logZ: number, x: number, bin?: readonly [number, number]): number {
  if (bin !== undefined) {
    const mass = normalCdf((bin[1] - mu) / s) - normalCdf((bin[0] - mu) / s);
    return Math.log(Math.max(1e-300, mass)) - logZ;
  }
  return normalLogPdf((x - mu) / s) - Math.log(s) - logZ;
}

/** One draw from a Gaussian kernel truncated to the domain (inverse CDF). */
export function kernelSample(domain: NumericDomain, mu: number, s: number, rng: Rng): number {
  const a = normalCdf((domain.low - mu) / s);
  const b = normalCdf((domain.high - mu) / s);
  const u = a + (b - a) * rng.next();
  const x = mu + s * normalQuantile(Math.min(1 - 1e-16, Math.max(1e-16, u)));
  return Math.min(domain.high, Math.max(domain.low, x));
}

/**
 * A categorical distribution: the prior (weight `priorMass`, default 1, spread by the spec's probabilities) plus one
 * count per observation (its weight, when `observedWeights` gives them).
 */
export class CategoricalParzen {
  private readonly probs: number[];

  constructor(
    readonly choices: readonly ParamValue[],
    prior: readonly number[],
    observed: readonly ParamValue[],
    observedWeights?: readonly number[],
    priorMass = 1,
  ) {
    const weights = prior.map((p) => p * priorMass);
    for (const [at, v] of observed.entries()) {
      const i = choices.indexOf(v);
      if (i >= 0) weights[i] = (weights[i] as number) + (observedWeights === undefined ? 1 : (observedWeights[at] as number));
    }
    const total = weights.reduce((a, b) => a + b, 0);
    this.probs = weights.map((w) => w / total);
  }

  sample(rng: Rng): ParamValue {
    return this.choices[pickIndex(this.probs, rng)] as ParamValue;
  }

  logPdf(v: ParamValue): number {
    const i = this.choices.indexOf(v);
    return i < 0 ? -Infinity : Math.log(this.probs[i] as number);
  }
}

/** Index drawn with probability proportional to `weights`. */
export function pickIndex(weights: readonly number[], rng: Rng): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i] as number;
    if (u < 0) return i;
  }
  for (let i = weights.length - 1; i >= 0; i--) if ((weights[i] as number) > 0) return i;
  return weights.length - 1;
}

/**
 * The prior mass that makes {@link CategoricalParzen} the distribution Optuna's TPE (3.1) gives a categorical
 * parameter: one kernel per observation (weight w_i) that puts its own choice 1 and every one of the k choices
 * c = W / (n + 1) before normalising, plus a prior kernel of weight W (uniform), mixed in proportion to their weights.
 * Summed up and scaled by (1 + k·c) that is one count w_i per observation plus a prior of mass
 * W·(1 + k·c) + k·c·Σw_i spread over the choices; with the spec's probabilities in place of Optuna's uniform spread.
 * Against the single-objective TPE's prior of mass 1, it grows with the group (about k + 1 for a large unweighted
 * group), so a small, heavily weighted good group does not make l(x) near-certain of a few choices.
 * @param weightSum Σw_i (n when every observation weighs 1).
 */
export function kernelPriorMass(k: number, n: number, weightSum: number, priorWeight = 1): number {
  const c = priorWeight / (n + 1);
  return priorWeight * (1 + k * c) + k * c * weightSum;
}
