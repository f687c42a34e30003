/**
 * Per-timestep LSTM gate math on typed arrays (the part of the fused LSTM that is a long chain of tiny element-wise
 * ops when written with tfjs ops). Pure functions over flat row-major arrays; no tfjs.
 *
 * Layout: gates are stored `[B, 4H]` per step in Keras order i, f, c (candidate, written `g` here), o.
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

/** Recurrent activations the fused LSTM implements (the tfjs-layers names). */
export type RecurrentActivation = 'sigmoid' | 'hardSigmoid';

/**
 * One forward step for a batch.
 *
 * @param z pre-activations from the input projection (bias included), read at `zOff`, `[B, 4H]`
 * @param r recurrent projection `h_{t-1} · U`, `[B, 4H]`, or null for a zero state
 * @param cPrev cell state `c_{t-1}` read at `cPrevOff`, or null for a zero state
 * @param a activated gates written at `aOff`, `[B, 4H]`
 * @param c cell state `c_t` written at `cOff`, `[B, H]`; `tc` gets `tanh(c_t)` at the same offset
 * @param h output `h_t`, `[B, H]` (written at 0)
 */
export function forwardStep(
  B: number,
  H: number,
  hard: boolean,
  z: Float32Array,
  zOff: number,
  r: Float32Array | null,
  cPrev: Float32Array | null,
  cPrevOff: number,
  a: Float32Array,
  aOff: number,
  c: Float32Array,
  tc: Float32Array,
  cOff: number,
  h: Float32Array,
): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const zb = zOff + b * G;
    const rb = b * G;
    const ab = aOff + b * G;
    const cb = cOff + b * H;
    const pb = cPrevOff + b * H;
    const hb = b * H;
    for (let j = 0; j < H; j++) {
      let zi = z[zb + j]!;
      let zf = z[zb + H + j]!;
      let zg = z[zb + 2 * H + j]!;
      let zo = z[zb + 3 * H + j]!;
      if (r !== null) {
        zi += r[rb + j]!;
        zf += r[rb + H + j]!;
        zg += r[rb + 2 * H + j]!;
        zo += r[rb + 3 * H + j]!;
      }
      let i: number;
      let f: number;
      let o: number;
      if (hard) {
        i = Math.max(0, Math.min(1, 0.2 * zi + 0.5));
        f = Math.max(0, Math.min(1, 0.2 * zf + 0.5));
        o = Math.max(0, Math.min(1, 0.2 * zo + 0.5));
      } else {
        i = sigmoidFast(zi);
        f = sigmoidFast(zf);
        o = sigmoidFast(zo);
      }
      const g = tanhFast(zg);
      const cp = cPrev === null ? 0 : cPrev[pb + j]!;
      const cv = f * cp + i * g;
      const t = tanhFast(cv);
      a[ab + j] = i;
      a[ab + H + j] = f;
      a[ab + 2 * H + j] = g;
      a[ab + 3 * H + j] = o;
      c[cb + j] = cv;
      tc[cb + j] = t;
      h[hb + j] = o * t;
    }
  }
}

/**
 * One backward step (BPTT) for a batch: from `dh` (gradient of the loss w.r.t. `h_t`) and `dc` (carried gradient
 * w.r.t. `c_t`, updated in place to the gradient w.r.t. `c_{t-1}`), writes the pre-activation gradient `dz` at
 * `dzOff` (`[B, 4H]`), and adds its column sums to `dbias` (`[4H]`, the bias gradient).
 */
export function backwardStep(
  B: number,
  H: number,
  hard: boolean,
  a: Float32Array,
  aOff: number,
  tc: Float32Array,
  cOff: number,
  cPrev: Float32Array | null,
  cPrevOff: number,
  dh: Float32Array,
  dc: Float64Array,
  dz: Float32Array,
  dzOff: number,
  dbias: Float64Array,
): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const ab = aOff + b * G;
    const cb = cOff + b * H;
    const pb = cPrevOff + b * H;
    const hb = b * H;
    const db = dzOff + b * G;
    for (let j = 0; j < H; j++) {
      const i = a[ab + j]!;
      const f = a[ab + H + j]!;
      const g = a[ab + 2 * H + j]!;
      const o = a[ab + 3 * H + j]!;
      const t = tc[cb + j]!;
      const dhv = dh[hb + j]!;
      const dcv = dc[hb + j]! + dhv * o * (1 - t * t);
      const cp = cPrev === null ? 0 : cPrev[pb + j]!;
      const dI = dcv * g;
      const dF = dcv * cp;
      const dG = dcv * i;
      const dO = dhv * t;
      dc[hb + j] = dcv * f;
      if (hard) {
        dz[db + j] = i > 0 && i < 1 ? 0.2 * dI : 0;
        dz[db + H + j] = f > 0 && f < 1 ? 0.2 * dF : 0;
        dz[db + 3 * H + j] = o > 0 && o < 1 ? 0.2 * dO : 0;
      } else {
        dz[db + j] = dI * i * (1 - i);
        dz[db + H + j] = dF * f * (1 - f);
        dz[db + 3 * H + j] = dO * o * (1 - o);
      }
      dz[db + 2 * H + j] = dG * (1 - g * g);
    }
    for (let k = 0; k < G; k++) dbias[k] = dbias[k]! + dz[db + k]!;
  }
}

/**
 * `out[M,N] = a[M,K] · b[K,N]` (row-major, `a` read at `aOff`), register-blocked 4x4 with float64 accumulators: each
 * step of the k loop loads 4 values of `a` and 4 of `b` for 16 multiply-adds, instead of a load and a store of
 * `out` per multiply-add (about 3x the naive loop in V8). Accumulates in float64 and rounds once.
 */
export function gemm(a: Float32Array, aOff: number, M: number, K: number, b: Float32Array, N: number, out: Float32Array): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let m = 0; m < M4; m += 4) {
    const a0 = aOff + m * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    const o0 = m * N;
    const o1 = o0 + N;
    const o2 = o1 + N;
    const o3 = o2 + N;
    for (let n = 0; n < N4; n += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let bo = n;
      for (let k = 0; k < K; k++, bo += N) {
        const b0 = b[bo]!, b1 = b[bo + 1]!, b2 = b[bo + 2]!, b3 = b[bo + 3]!;
        const x0 = a[a0 + k]!, x1 = a[a1 + k]!, x2 = a[a2 + k]!, x3 = a[a3 + k]!;
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
        c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
        c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
      }
      out[o0 + n] = c00; out[o0 + n + 1] = c01; out[o0 + n + 2] = c02; out[o0 + n + 3] = c03;
      out[o1 + n] = c10; out[o1 + n + 1] = c11; out[o1 + n + 2] = c12; out[o1 + n + 3] = c13;
      out[o2 + n] = c20; out[o2 + n + 1] = c21; out[o2 + n + 2] = c22; out[o2 + n + 3] = c23;
      out[o3 + n] = c30; out[o3 + n + 1] = c31; out[o3 + n + 2] = c32; out[o3 + n + 3] = c33;
    }
    for (let n = N4; n < N; n++) {
      for (let r = 0; r < 4; r++) {
        const ar = a0 + r * K;
        let c = 0;
        for (let k = 0; k < K; k++) c += a[ar + k]! * b[k * N + n]!;
        out[o0 + r * N + n] = c;
      }
    }
  }
  for (let m = M4; m < M; m++) {
    const ar = aOff + m * K;
    for (let n = 0; n < N; n++) {
      let c = 0;
      for (let k = 0; k < K; k++) c += a[ar + k]! * b[k * N + n]!;
      out[m * N + n] = c;
    }
  }
}

/** `[R, C]` row-major to `[C, R]` (into `out`, allocated when not given). */
export function transposeInto(a: Float32Array, aOff: number, R: number, C: number, out: Float32Array = new Float32Array(R * C)): Float32Array {
  for (let r = 0; r < R; r++) {
    const ar = aOff + r * C;
    for (let c = 0; c < C; c++) out[c * R + r] = a[ar + c]!;
  }
  return out;
}
