import { logUniformBounds, nearestMultiple, quantizedRange } from '@sweepq/sweep-config';
import type { ParamValue, ParameterSpec, Rng } from '@sweepq/sweep-config';
import { normalQuantile } from './tpe/normal.js';

/** Largest double below x, so a continuous draw stays strictly below its max after rounding. */
export function below(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const buf = new Float64Array([x]);
  const bits = new BigInt64Array(buf.buffer);
  bits[0] = (bits[0] ?? 0n) + (x > 0 ? -1n : 1n);
  return buf[0] ?? x;
}

function uniform(u: number, min: number, max: number): number {
  return Math.min(min + u * (max - min), below(max));
}

function standardNormal(rng: Rng): number {
  // Box-Muller; 1 - u is in (0, 1] so the logarithm is finite.
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 through Gamma(shape + 1) · U^(1/shape). */
function gamma(rng: Rng, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** One Beta(a, b) draw, X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b), kept strictly inside (0, 1). */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  const r = x + y > 0 ? x / (x + y) : rng.next();
  return Math.min(below(1), Math.max(Number.MIN_VALUE, r));
}

function logUniform(u: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(Math.exp(uniform(u, Math.log(lo), Math.log(hi))), below(hi)));
}

/** A normal kind's value for a standard normal deviate `z` (drawn by Box-Muller, or Φ⁻¹ of a stratified u). */
function fromStandardNormal(spec: Extract<ParameterSpec, { kind: 'normal' | 'log_normal' | 'q_normal' | 'q_log_normal' }>, z: number): number {
  switch (spec.kind) {
    case 'normal':
      return spec.mu + spec.sigma * z;
    case 'log_normal':
      return Math.exp(spec.mu + spec.sigma * z);
    case 'q_normal':
      return nearestMultiple(spec.mu + spec.sigma * z, spec.q, -Infinity, Infinity);
    case 'q_log_normal': {
      const { kLo, kHi } = quantizedRange(spec);
      return nearestMultiple(Math.exp(spec.mu + spec.sigma * z), spec.q, kLo, kHi);
    }
  }
}

/**
 * The value at probability `u` in [0, 1) of a distribution drawn by inverting its CDF with one uniform number: the
 * categorical, uniform and log-uniform kinds and their quantized forms (what {@link sampleParameter} does with one
 * `rng.next()`), and the normal kinds through Φ⁻¹ (which sampleParameter draws by Box-Muller instead). Undefined for
 * `constant` and the beta kinds (no closed-form inverse here). A Latin-hypercube start-up passes stratified `u`s.
 */
export function parameterAtQuantile(spec: ParameterSpec, u: number): ParamValue | undefined {
  switch (spec.kind) {
    case 'categorical': {
      const { values, probabilities } = spec;
      if (probabilities === undefined) return values[Math.floor(u * values.length)] as ParamValue;
      let acc = 0;
      for (let i = 0; i < values.length; i++) {
        acc += probabilities[i] ?? 0;
        if (u < acc) return values[i] as ParamValue;
      }
      // Probabilities sum to 1 within 1e-6; a draw in that sliver goes to the last value with any weight.
      for (let i = values.length - 1; i >= 0; i--) if ((probabilities[i] ?? 0) > 0) return values[i] as ParamValue;
      return values[values.length - 1] as ParamValue;
    }
    case 'int_uniform':
      return spec.min + Math.floor(u * (spec.max - spec.min + 1));
    case 'uniform':
      return uniform(u, spec.min, spec.max);
    case 'q_uniform': {
      const { kLo, kHi } = quantizedRange(spec);
      return nearestMultiple(spec.min + u * (spec.max - spec.min), spec.q, kLo, kHi);
    }
    case 'log_uniform_values':
    case 'log_uniform':
    case 'inv_log_uniform':
    case 'inv_log_uniform_values': {
      const [lo, hi] = logUniformBounds(spec);
      return logUniform(u, lo, hi);
    }
    case 'q_log_uniform_values':
    case 'q_log_uniform': {
      const [lo, hi] = logUniformBounds(spec);
      const { kLo, kHi } = quantizedRange(spec);
      return nearestMultiple(Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo))), spec.q, kLo, kHi);
    }
    case 'normal':
    case 'log_normal':
    case 'q_normal':
    case 'q_log_normal':
      return fromStandardNormal(spec, normalQuantile(u));
    case 'constant':
    case 'beta':
    case 'q_beta':
      return undefined;
  }
}

/** Draws one value from a normalised parameter spec. */
export function sampleParameter(spec: ParameterSpec, rng: Rng): ParamValue {
  switch (spec.kind) {
    case 'constant':
      return spec.value;
    case 'categorical':
    case 'int_uniform':
    case 'uniform':
    case 'q_uniform':
    case 'log_uniform_values':
    case 'log_uniform':
    case 'inv_log_uniform':
    case 'inv_log_uniform_values':
    case 'q_log_uniform_values':
    case 'q_log_uniform':
      // One uniform number through the inverse CDF; the stream random search has always drawn.
      return parameterAtQuantile(spec, rng.next()) as ParamValue;
    case 'normal':
    case 'log_normal':
    case 'q_normal':
    case 'q_log_normal':
      return fromStandardNormal(spec, standardNormal(rng));
    case 'beta':
      return sampleBeta(rng, spec.a, spec.b);
    case 'q_beta': {
      const { kLo, kHi } = quantizedRange(spec);
      return nearestMultiple(sampleBeta(rng, spec.a, spec.b), spec.q, kLo, kHi);
    }
  }
}
