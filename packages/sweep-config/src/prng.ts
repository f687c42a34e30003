// A hand-written PRNG rather than a dependency: sweeps must draw the same trials on every machine and every
// version, so the generator is part of the spec format and must never change under us. sfc32 passes PractRand,
// is ten lines, and has no global state (Math.random cannot be seeded).

/** splitmix32's output function: a bijection on 32-bit integers that spreads every input bit. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** A seeded random source: `next()` returns a float in [0, 1) with 32 bits of randomness. */
export interface Rng {
  next(): number;
}

/**
 * sfc32 generator for one (seed, stream) pair; distinct pairs give distinct states. Random search uses
 * stream = trial index, so trial k is the same whether 10 or 1000 trials are planned and can be drawn alone.
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
