// Every seeded random stream sweepq draws from, in one module (subpath `@sweepq/runtime/random`, no imports, so the
// spec and data packages use it without loading the rest of runtime).
//
// Hand-written rather than a dependency: sweeps must draw the same trials, the same data split and the same batch
// order on every machine and every version, so these streams are part of sweepq's behaviour and must never change
// under us (packages/data/test/prepare-pin.test.ts and the spec's plan tests pin them). Math.random cannot be seeded.
// Two algorithms, each kept bit for bit as it was: sfc32 for the search (trial k drawn from its own stream), and
// mulberry32 for the data split and the training loop (batch order, dropout seeds).

/** A seeded random source: `next()` returns a float in [0, 1) with 32 bits of randomness. */
export interface Rng {
  next(): number;
}

/** splitmix32's output function: a bijection on 32-bit integers that spreads every input bit. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * sfc32 generator for one (seed, stream) pair; distinct pairs give distinct states. Random search uses
 * stream = trial index, so trial k is the same whether 10 or 1000 trials are planned and can be drawn alone.
 * sfc32 passes PractRand and has no global state.
 */
export function createRng(seed: number, stream = 0): Rng {
  let a = mix32(seed >>> 0);
  let b = mix32((stream >>> 0) ^ 0x6a09e667);
  let c = mix32(a ^ b);
  let d = 1;
  const raw = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // sfc32 needs a few rounds before nearby states diverge.
  for (let i = 0; i < 12; i++) raw();
  return { next: () => raw() / 4294967296 };
}

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1); the seed is taken modulo 2^32. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * {@link mulberry32} seeded from any safe integer: the high bits are folded in, so seeds beyond 2^32 still differ
 * (the data split's and the synthetic dataset's generator).
 */
export function seededRandom(seed: number): () => number {
  return mulberry32((Math.trunc(seed) ^ (Math.trunc(seed / 0x1_0000_0000) * 0x9e3779b1)) >>> 0);
}

/** Mix any number of integers into one well-distributed uint32 (murmur3-style finaliser per step). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Fold non-integer or huge seeds into 32 bits deterministically.
    const lo = Math.trunc(part) >>> 0;
    const hi = Math.trunc(part / 4294967296) >>> 0;
    for (const v of [lo, hi]) {
      h = Math.imul(h ^ v, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/** In-place Fisher-Yates shuffle driven by `rand` (floats in [0, 1)). */
export function shuffleInPlace(a: Int32Array | Uint32Array | number[], rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
}

/** A permutation of `0..n-1` that depends only on `seed`: {@link shuffleInPlace} driven by {@link mulberry32}. */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffleInPlace(order, mulberry32(seed));
  return order;
}
