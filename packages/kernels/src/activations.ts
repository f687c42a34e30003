/**
 * The recurrent cells' activations in JS: the rational tanh the wasm gate module (`lstm-gates-wat.ts`) also
 * evaluates, the sigmoid built on it, the hard sigmoid, and their derivatives. The fused op's JS gate loops and the
 * gate module's self-tests use these. Pure functions; no tfjs.
 */

/** Clamp of {@link tanhFast}: beyond it the rational form is float32 ±1. */
export const TANH_CLAMP = 7.90531110763549805;
/** Numerator coefficients of {@link tanhFast} (of x, x³, …, x¹³; the same literals as inlined there). */
export const TANH_P: readonly number[] = [
  4.89352455891786e-3, 6.37261928875436e-4, 1.48572235717979e-5, 5.12229709037114e-8, -8.60467152213735e-11, 2.00018790482477e-13,
  -2.76076847742355e-16,
];
/** Denominator coefficients of {@link tanhFast} (of 1, x², x⁴, x⁶). */
export const TANH_Q: readonly number[] = [4.89352518554385e-3, 2.268434632439e-3, 1.18534705686654e-4, 1.19825839466702e-6];

/**
 * tanh as Eigen's / XNNPACK's float rational approximation (odd degree-13 over even degree-6 polynomial, clamped):
 * absolute error under 3e-7 everywhere (float32 level), about 3x faster than `Math.tanh` in V8 and than a sigmoid
 * through `Math.exp`, which dominate the per-step gate math otherwise.
 */
export function tanhFast(x: number): number {
  const v = x > TANH_CLAMP ? TANH_CLAMP : x < -TANH_CLAMP ? -TANH_CLAMP : x;
  const x2 = v * v;
  const p =
    v *
    (4.89352455891786e-3 +
      x2 * (6.37261928875436e-4 + x2 * (1.48572235717979e-5 + x2 * (5.12229709037114e-8 + x2 * (-8.60467152213735e-11 + x2 * (2.00018790482477e-13 + x2 * -2.76076847742355e-16))))));
  const q = 4.89352518554385e-3 + x2 * (2.268434632439e-3 + x2 * (1.18534705686654e-4 + x2 * 1.19825839466702e-6));
  return p / q;
}

/** Logistic sigmoid through {@link tanhFast} (`σ(x) = (1 + tanh(x/2)) / 2`; absolute error under 2e-7). */
export function sigmoidFast(x: number): number {
  return 0.5 + 0.5 * tanhFast(0.5 * x);
}

/** Recurrent activations the fused op implements (the tfjs-layers names). */
export type RecurrentActivation = 'sigmoid' | 'hardSigmoid';

/** The gate activation: the hard sigmoid (`clip(0.2·v + 0.5, 0, 1)`, tfjs-layers') when `hard`, else {@link sigmoidFast}. */
export function gate(v: number, hard: boolean): number {
  return hard ? Math.max(0, Math.min(1, 0.2 * v + 0.5)) : sigmoidFast(v);
}

/** Derivative of the gate activation from its output `a`. */
export function gateGrad(a: number, hard: boolean): number {
  return hard ? (a > 0 && a < 1 ? 0.2 : 0) : a * (1 - a);
}
