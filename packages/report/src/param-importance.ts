/**
 * Parameter importance by PED-ANOVA (Watanabe et al., "PED-ANOVA: Efficiently Quantifying Hyperparameter Importance
 * in Arbitrary Subspaces", IJCAI 2023; the evaluator optuna-dashboard shows). A parameter matters when the trials
 * in the top quantile of the metric use it differently from all trials: its importance is the Pearson divergence
 * between the two marginal densities, `sum_x p_all(x) * (p_top(x) / p_all(x) - 1)^2`, estimated on a grid with
 * kernel density estimates (numbers) or smoothed frequencies (categories), then normalised to sum to 1.
 */

/** One trial as importance sees it: its parameters and its metric value. */
export interface ImportanceTrial {
  params: Readonly<Record<string, unknown>>;
  value: number;
}

/** Options of {@link pedAnovaImportance}. */
export interface ImportanceOptions {
  /** Whether a larger metric is better. */
  maximize: boolean;
  /** Fraction of trials that form the top set; default 0.1 (PED-ANOVA's γ'). At least 2 trials are always used. */
  quantile?: number;
  /** Grid points a numeric parameter's density is evaluated at; default 50. */
  gridSize?: number;
  /** Parameters whose numbers are compared on a log scale (learning rates). */
  log?: ReadonlySet<string>;
  /** Fewest trials with a value for which importances are computed; default 5. */
  minTrials?: number;
}

/** Result of {@link pedAnovaImportance}. */
export interface ImportanceResult {
  method: 'ped-anova';
  quantile: number;
  /** Trials used, and how many of them form the top set. */
  trials: number;
  top: number;
  /** Importances summing to 1 (all 0 when no parameter makes a difference), most important first. */
  params: { name: string; importance: number }[];
}

/** Numbers with more distinct values than this get a density; fewer are compared as categories. */
const MAX_LEVELS = 12;

function pearsonDivergence(top: readonly number[], all: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < all.length; i++) {
    const p = all[i] as number;
    if (p > 0) d += ((top[i] as number) ** 2) / p;
  }
  return Math.max(0, d - 1);
}

function quantileOf(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/**
 * Gaussian KDE of values already scaled to grid positions `0..size-1`, bandwidth by Scott's rule (robust form),
 * evaluated on the grid and normalised. Values are snapped to the grid first (as PED-ANOVA does), so the cost is
 * `size²` however many trials there are.
 */
function gridDensity(points: readonly number[], size: number): number[] {
  const n = points.length;
  const mean = points.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(points.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  const sorted = [...points].sort((a, b) => a - b);
  const iqr = quantileOf(sorted, 0.75) - quantileOf(sorted, 0.25);
  const spread = iqr > 0 ? Math.min(std, iqr / 1.34) : std;
  // Never narrower than one grid step, so a few identical values still make a smooth bump, not a spike.
  const h = Math.max(1, 1.059 * spread * n ** -0.2);
  const counts = new Array<number>(size).fill(0);
  for (const x of points) {
    const k = Math.min(size - 1, Math.max(0, Math.round(x)));
    counts[k] = (counts[k] as number) + 1;
  }
  const out = new Array<number>(size).fill(0);
  for (let j = 0; j < size; j++) {
    const c = counts[j] as number;
    if (c === 0) continue;
    for (let k = 0; k < size; k++) out[k] = (out[k] as number) + c * Math.exp(-0.5 * ((k - j) / h) ** 2);
  }
  const total = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / total);
}

/**
 * Frequencies of levels with one pseudo-observation spread evenly over the levels (so an unseen level is unlikely,
 * never impossible, and a top set of a few trials is not drowned by the prior).
 */
function levelFrequencies(values: readonly string[], levels: readonly string[]): number[] {
  const prior = 1 / levels.length;
  const counts = new Map<string, number>(levels.map((l) => [l, prior]));
  for (const v of values) counts.set(v, (counts.get(v) ?? prior) + 1);
  const total = values.length + 1;
  return levels.map((l) => (counts.get(l) as number) / total);
}

/**
 * PED-ANOVA importance of each named parameter over finished trials. Parameters a trial lacks (conditional ones)
 * are judged on the trials that have them; a parameter with a single value everywhere has importance 0.
 *
 * @returns null when fewer than `minTrials` trials have a finite value.
 */
export function pedAnovaImportance(trials: readonly ImportanceTrial[], names: readonly string[], opts: ImportanceOptions): ImportanceResult | null {
  const quantile = opts.quantile ?? 0.1;
  const gridSize = opts.gridSize ?? 50;
  const usable = trials.filter((t) => Number.isFinite(t.value));
  if (usable.length < (opts.minTrials ?? 5)) return null;
  const ordered = [...usable].sort((a, b) => (opts.maximize ? b.value - a.value : a.value - b.value));
  const nTop = Math.min(ordered.length, Math.max(2, Math.ceil(quantile * ordered.length)));
  const isTop = new Set(ordered.slice(0, nTop));

  const raw = names.map((name) => {
    const have = ordered.filter((t) => t.params[name] !== undefined && t.params[name] !== null);
    const topHave = have.filter((t) => isTop.has(t));
    if (have.length < 2 || topHave.length === 0) return { name, importance: 0 };
    const values = have.map((t) => t.params[name]);
    const numeric = values.every((v) => typeof v === 'number' && Number.isFinite(v));
    const levels = [...new Set(values.map((v) => String(v)))];
    if (levels.length < 2) return { name, importance: 0 };
    if (!numeric || levels.length <= MAX_LEVELS) {
      const sortedLevels = levels.sort();
      const all = levelFrequencies(values.map(String), sortedLevels);
      const top = levelFrequencies(topHave.map((t) => String(t.params[name])), sortedLevels);
      return { name, importance: pearsonDivergence(top, all) };
    }
    const log = opts.log?.has(name) === true && (values as number[]).every((v) => v > 0);
    const scaled = (v: unknown) => (log ? Math.log(v as number) : (v as number));
    const xs = values.map(scaled);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const pos = (x: number) => ((x - lo) / (hi - lo)) * (gridSize - 1);
    const all = gridDensity(xs.map(pos), gridSize);
    const top = gridDensity(topHave.map((t) => pos(scaled(t.params[name]))), gridSize);
    return { name, importance: pearsonDivergence(top, all) };
  });
  const total = raw.reduce((a, r) => a + r.importance, 0);
  const params = raw
    .map((r) => ({ name: r.name, importance: total > 0 ? r.importance / total : 0 }))
    .sort((a, b) => b.importance - a.importance || a.name.localeCompare(b.name));
  return { method: 'ped-anova', quantile, trials: ordered.length, top: nTop, params };
}
