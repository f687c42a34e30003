import { DEFAULT_PARAMS, PARAMETER_NAMES, logUniformBounds, multiple, nearestMultiple, quantizedRange } from '@sweepq/sweep-config';
import type { ParamValue, ParameterName, ParameterSpec, Rng, TrialParams } from '@sweepq/sweep-config';
import { below } from '../sample-parameter.js';
import type { JointDimension } from './joint-parzen.js';
import { CategoricalParzen, NumericParzen, kernelPriorMass } from './parzen.js';
import type { NumericDomain } from './parzen.js';

// How the Parzen samplers (TpeSampler, MotpeSampler) model each parameter of a spec: its domain and codecs, and the
// per-parameter estimators. Shared so that both model parameters identically.

/** One parameter of the spec as the Parzen estimators model it. */
export interface Dim {
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

export function makeDim(name: ParameterName, spec: ParameterSpec): Dim {
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
export interface Candidate {
  combo: Record<string, ParamValue>;
  score: number;
}

/** How a per-parameter categorical estimator weighs its prior: see {@link estimator}. */
export type CategoricalPrior = 'one' | 'kernels';

export interface Estimator {
  sample(rng: Rng): ParamValue;
  logPdf(v: ParamValue): number;
}

/**
 * The per-parameter estimator of `values`, each with its weight in `weights` (every one 1 when left out).
 * `categoricalPrior`: how a categorical parameter's prior weighs against the observations — `one` (TpeSampler: mass
 * 1) or `kernels` (MotpeSampler: Optuna's per-observation kernels, {@link kernelPriorMass}).
 */
export function estimator(dim: Dim, values: readonly ParamValue[], weights?: readonly number[], categoricalPrior: CategoricalPrior = 'one'): Estimator | undefined {
  const { spec } = dim;
  if (spec.kind === 'constant') return undefined;
  if (spec.kind === 'categorical') {
    const prior = spec.probabilities ?? spec.values.map(() => 1 / spec.values.length);
    // Only observations among the choices have a kernel (one from an earlier sweep or another caller may hold another
    // value), so only they count in kernelPriorMass's n and Σw: the others would grow the prior with no kernel of theirs.
    const usable = values.flatMap((v, i) => (spec.values.indexOf(v) >= 0 ? [i] : []));
    const used = usable.map((i) => values[i] as ParamValue);
    const usedWeights = weights === undefined ? undefined : usable.map((i) => weights[i] as number);
    const mass = categoricalPrior === 'one' ? 1 : kernelPriorMass(spec.values.length, used.length, usedWeights === undefined ? used.length : usedWeights.reduce((a, b) => a + b, 0));
    const p = new CategoricalParzen(spec.values, prior, used, usedWeights, mass);
    return { sample: (rng) => p.sample(rng), logPdf: (v) => p.logPdf(v) };
  }
  const domain = dim.numeric as NumericDomain;
  const decode = dim.decode as (x: number) => number;
  const encode = (v: number): number => (domain.log ? Math.log(v) : v);
  const usable = values.flatMap((v, i) => (typeof v === 'number' && (!domain.log || v > 0) ? [i] : []));
  const points = usable.map((i) => encode(values[i] as number));
  const p = new NumericParzen(domain, points, weights === undefined ? undefined : usable.map((i) => weights[i] as number));
  return {
    sample: (rng) => decode(p.sample(rng)),
    logPdf: (v) => {
      if (typeof v !== 'number') return -Infinity;
      return dim.bin === undefined ? p.logPdf(encode(v)) : p.logPdf(encode(v), dim.bin(v));
    },
  };
}

/** A full TrialParams from drawn parameters, the others at their defaults. */
export function toTrialParams(combo: Readonly<Record<string, ParamValue>>): TrialParams {
  const params: Record<string, ParamValue> = {};
  for (const name of PARAMETER_NAMES) params[name] = Object.hasOwn(combo, name) ? (combo[name] as ParamValue) : DEFAULT_PARAMS[name];
  return params as unknown as TrialParams;
}

/** A spec's non-constant parameters as the multivariate estimator models them. */
export function jointDimensions(dims: readonly Dim[]): JointDimension[] {
  return dims.flatMap((d): JointDimension[] => {
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
