// Exact hypervolume for the multi-objective sampler (its good/bad split) and the search benchmark. Hand-written: no
// maintained npm package computes it, and at a sweep's sizes (tens to a few hundred points, 2-4 objectives) the
// textbook slicing algorithm below is exact, deterministic and fast enough (3 objectives, 160 points: ~1 ms).

/**
 * The hypervolume of `points` with respect to `reference`: the measure of the region that some point dominates and
 * that dominates the reference point, every objective minimised (negate or flip maximised ones first). Points not
 * strictly better than the reference in every objective add nothing. Any number of objectives; exact: a sweep over
 * sorted points in 2-D, and for more objectives slices along the last one (Hypervolume by Slicing Objectives, While
 * et al. 2006), each slab's (d-1)-dimensional hypervolume computed the same way.
 * @throws RangeError when a point's length differs from the reference's or a value is not finite.
 */
export function hypervolume(points: ReadonlyArray<readonly number[]>, reference: readonly number[]): number {
  const d = reference.length;
  if (d === 0) throw new RangeError('hypervolume: expected a reference point with at least one objective, got none');
  for (const [i, p] of points.entries()) {
    if (p.length !== d) throw new RangeError(`hypervolume: point ${i} has ${p.length} objectives, expected ${d} as the reference point`);
    if (!p.every(Number.isFinite)) throw new RangeError(`hypervolume: point ${i} has a value that is not a finite number: ${JSON.stringify(p)}`);
  }
  if (!reference.every(Number.isFinite)) throw new RangeError(`hypervolume: the reference point must be finite, got ${JSON.stringify(reference)}`);
  return slices(points.filter((p) => p.every((x, k) => x < (reference[k] as number))), reference);
}

/** Hypervolume of points that all strictly dominate `ref`. */
function slices(points: ReadonlyArray<readonly number[]>, ref: readonly number[]): number {
  const d = ref.length;
  if (points.length === 0) return 0;
  if (d === 1) return (ref[0] as number) - Math.min(...points.map((p) => p[0] as number));
  if (d === 2) return area(points, ref);
  const last = d - 1;
  const sorted = [...points].sort((a, b) => (a[last] as number) - (b[last] as number));
  const below = ref.slice(0, last);
  let volume = 0;
  for (let i = 0; i < sorted.length; i++) {
    const top = i + 1 < sorted.length ? (sorted[i + 1] as number[])[last] as number : (ref[last] as number);
    const depth = top - ((sorted[i] as number[])[last] as number);
    if (depth > 0) volume += depth * slices(sorted.slice(0, i + 1).map((p) => p.slice(0, last)), below);
  }
  return volume;
}

/** 2-D: points sorted by the first objective; each adds the strip its second objective improves on. */
function area(points: ReadonlyArray<readonly number[]>, ref: readonly number[]): number {
  const sorted = [...points].sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
  let y = ref[1] as number;
  let total = 0;
  for (const p of sorted) {
    const py = p[1] as number;
    if (py < y) {
      total += ((ref[0] as number) - (p[0] as number)) * (y - py);
      y = py;
    }
  }
  return total;
}

/**
 * A subset of `k` of `points` with a large hypervolume (every objective minimised): greedily the point that adds the
 * most to the points chosen so far (the 1 - 1/e approximation of the hypervolume subset selection problem, Guerreiro
 * et al. 2016, as Optuna's MOTPE splits its last front). Ties go to the lower index. Returns indices into `points`,
 * in the order chosen.
 */
export function greedyHypervolumeSubset(points: ReadonlyArray<readonly number[]>, k: number, reference: readonly number[]): number[] {
  const chosen: number[] = [];
  const left = new Set(points.map((_, i) => i));
  let base = 0;
  while (chosen.length < Math.min(k, points.length)) {
    let best = -1;
    let bestGain = -Infinity;
    for (const i of left) {
      const gain = hypervolume([...chosen.map((j) => points[j] as readonly number[]), points[i] as readonly number[]], reference) - base;
      if (gain > bestGain) {
        best = i;
        bestGain = gain;
      }
    }
    chosen.push(best);
    left.delete(best);
    base = hypervolume(chosen.map((j) => points[j] as readonly number[]), reference);
  }
  return chosen;
}
