import { seededRandom, shuffleInPlace } from '@sweepq/runtime/random';
import { DatasetError, DatasetErrorCode } from './errors.js';

/** Options of {@link stratifiedSplit}. */
export interface SplitOptions {
  /** Fraction of each class for validation, in [0, 1). */
  validation: number;
  /** Fraction of each class for test, in [0, 1); `validation + test < 1`. */
  test: number;
  /** Seed of the shuffle; any safe integer. */
  seed: number;
}

/** Index arrays into the original rows. */
export interface SplitIndices {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}

function checkFraction(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v >= 1) {
    throw new DatasetError(DatasetErrorCode.OPTIONS, `${name}: expected a number in [0, 1), got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/** Per-class counts [validation, test] for a class of n rows. */
function classCounts(n: number, v: number, t: number): [number, number] {
  let nv = Math.round(n * v);
  let nt = Math.round(n * t);
  if (n >= 3) {
    if (v > 0 && nv === 0) nv = 1;
    if (t > 0 && nt === 0) nt = 1;
  }
  // Train keeps at least one row; take back from the larger held-out split, never below 1 while possible.
  while (nv + nt > n - 1 && nv + nt > 0) {
    if (nv > nt || (nv === nt && nv > 0 && v >= t)) nv--;
    else nt--;
  }
  return [nv, nt];
}

function checkOptions(opts: SplitOptions): [number, number] {
  const v = checkFraction('validation_split', opts.validation);
  const t = checkFraction('test_split', opts.test);
  if (v + t >= 1) {
    throw new DatasetError(DatasetErrorCode.OPTIONS, `validation_split + test_split: expected a sum < 1, got ${v} + ${t} = ${v + t}`);
  }
  if (typeof opts.seed !== 'number' || !Number.isSafeInteger(opts.seed)) {
    throw new DatasetError(DatasetErrorCode.OPTIONS, `seed: expected an integer, got ${JSON.stringify(opts.seed) ?? String(opts.seed)}`);
  }
  return [v, t];
}

/** The sizes {@link stratifiedSplit} gives for classes of these sizes, without the rows. */
export function splitSizes(classSizes: Iterable<number>, opts: SplitOptions): { train: number; validation: number; test: number } {
  const [v, t] = checkOptions(opts);
  const out = { train: 0, validation: 0, test: 0 };
  for (const n of classSizes) {
    const [nv, nt] = classCounts(n, v, t);
    out.validation += nv;
    out.test += nt;
    out.train += n - nv - nt;
  }
  return out;
}

/**
 * Stratified train/validation/test split. Per class (in ascending label order) the row indices are shuffled with
 * a seeded PRNG and cut by `round(n * fraction)`; a class with at least 3 rows gets at least one row in every split
 * whose fraction is > 0, and every class keeps at least one training row. Each resulting index array is then
 * shuffled (so classes are interleaved). Deterministic for the same labels and seed.
 *
 * @param labels class index per row (any integers)
 */
export function stratifiedSplit(labels: ArrayLike<number>, opts: SplitOptions): SplitIndices {
  const [v, t] = checkOptions(opts);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i] as number;
    let list = byClass.get(c);
    if (list === undefined) byClass.set(c, (list = []));
    list.push(i);
  }
  const rand = seededRandom(opts.seed);
  const train: number[] = [];
  const validation: number[] = [];
  const test: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(c) as number[];
    shuffleInPlace(idx, rand);
    const [nv, nt] = classCounts(idx.length, v, t);
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k] as number;
      if (k < nv) validation.push(i);
      else if (k < nv + nt) test.push(i);
      else train.push(i);
    }
  }
  const out: SplitIndices = { train: Int32Array.from(train), validation: Int32Array.from(validation), test: Int32Array.from(test) };
  shuffleInPlace(out.train, rand);
  shuffleInPlace(out.validation, rand);
  shuffleInPlace(out.test, rand);
  return out;
}
