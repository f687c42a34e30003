// Helpers for "multiple of q" distributions. Division by a decimal q (0.1) is inexact in binary floating point,
// so a bound that is a multiple of q on paper (0.3 / 0.1 = 2.9999999999999996) must still count as one.
const EPS = 1e-9;

/** Smallest k with k * q >= min (tolerating float noise). */
export function firstMultiple(min: number, q: number): number {
  const r = min / q;
  const k = Math.round(r);
  return Math.abs(r - k) < EPS ? k : Math.ceil(r);
}

/** Largest k with k * q <= max (tolerating float noise). */
export function lastMultiple(max: number, q: number): number {
  const r = max / q;
  const k = Math.round(r);
  return Math.abs(r - k) < EPS ? k : Math.floor(r);
}

/** k * q without binary noise (3 * 0.1 -> 0.3, not 0.30000000000000004). */
export function multiple(k: number, q: number): number {
  const v = k * q;
  return Number.isInteger(q) ? v : Number.parseFloat(v.toPrecision(12));
}
