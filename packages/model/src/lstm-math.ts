/**
 * Per-timestep LSTM gate math on typed arrays (the part of the fused LSTM that is a long chain of tiny element-wise
 * ops when written with tfjs ops). Pure functions over flat row-major arrays; no tfjs.
 *
 * Layout: gates are stored `[B, 4H]` per step in Keras order i, f, c (candidate, written `g` here), o.
 */

/** Clamp of {@link tanhFast}: beyond it the rational form is float32 ±1. */
const TANH_CLAMP = 7.90531110763549805;

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

/** `out[M,N] = a[M,K] · b[K,N]` (all row-major; `a` read at `aOff`). Skips zero entries of `a` (dropout, zero state). */
export function matmulInto(
  a: Float32Array,
  aOff: number,
  M: number,
  K: number,
  b: ArrayLike<number>,
  N: number,
  out: Float32Array,
): void {
  out.fill(0, 0, M * N);
  for (let m = 0; m < M; m++) {
    const ao = aOff + m * K;
    const oo = m * N;
    for (let k = 0; k < K; k++) {
      const av = a[ao + k]!;
      if (av === 0) continue;
      const bo = k * N;
      for (let n = 0; n < N; n++) out[oo + n] = out[oo + n]! + av * (b[bo + n] as number);
    }
  }
}

/** `out[M,K] = a[M,N] · b[K,N]ᵀ` (dot products of rows of `a` with rows of `b`; `a` read at `aOff`). */
export function matmulTransBInto(
  a: Float32Array,
  aOff: number,
  M: number,
  N: number,
  b: ArrayLike<number>,
  K: number,
  out: Float32Array,
): void {
  for (let m = 0; m < M; m++) {
    const ao = aOff + m * N;
    for (let k = 0; k < K; k++) {
      const bo = k * N;
      let s = 0;
      for (let n = 0; n < N; n++) s += a[ao + n]! * (b[bo + n] as number);
      out[m * K + k] = s;
    }
  }
}

/** `out[K,N] = a[M,K]ᵀ · b[M,N]` (accumulated as outer products of rows, cache-friendly for small K·N). */
export function matmulTransAInto(a: ArrayLike<number>, M: number, K: number, b: ArrayLike<number>, N: number, out: Float32Array): void {
  const acc = new Float64Array(K * N);
  for (let m = 0; m < M; m++) {
    const ao = m * K;
    const bo = m * N;
    for (let k = 0; k < K; k++) {
      const av = a[ao + k] as number;
      if (av === 0) continue;
      const oo = k * N;
      for (let n = 0; n < N; n++) acc[oo + n] = acc[oo + n]! + av * (b[bo + n] as number);
    }
  }
  out.set(acc);
}
