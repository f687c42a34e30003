import { z } from 'zod';
import { describeValue, suggestName, unknownKeyMessage } from './describe.js';
import type { SpecIssue } from './errors.js';
import { isPlainMapping } from './normalize-parameter.js';
import { DEFAULT_PARAMS } from './parameters.js';
import { quantizedRange } from './distributions.js';
import { multiple } from './quantize.js';
import { BAYES_DEFAULTS, EARLY_TERMINATE_DEFAULTS, EARLY_TERMINATE_TYPES, STARTUP_DESIGNS } from './types.js';
import type { BayesSpec, EarlyTerminateSpec, ParameterSpec, SweepSpec } from './types.js';
import { fromZodIssues } from './zod-issues.js';

const count = z.number().int().positive();

const bayesSchema = z.object({
  n_startup_trials: count.max(100_000).optional(),
  n_ei_candidates: count.max(10_000).optional(),
  gamma: z.number().gt(0).lt(1).optional(),
  multivariate: z.boolean().optional(),
  startup_design: z.enum(STARTUP_DESIGNS).optional(),
});

const hyperbandSchema = z.object({
  type: z.literal('hyperband'),
  min_iter: count.max(10_000).optional(),
  max_iter: count.max(10_000).optional(),
  s: count.max(100).optional(),
  eta: z.number().gt(1).max(100).optional(),
  strict: z.boolean().optional(),
});

const medianSchema = z.object({
  type: z.literal('median'),
  min_iter: count.max(10_000).optional(),
  warmup_trials: z.number().int().min(0).max(100_000).optional(),
});

/** Keys not already checked by zod are reported as unknown, with a suggestion. */
function unknownKeys(raw: Record<string, unknown>, allowed: readonly string[], path: string, issues: SpecIssue[]): boolean {
  let ok = true;
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      issues.push({ path: `${path}.${key}`, message: unknownKeyMessage('key', key, allowed) });
      ok = false;
    }
  }
  return ok;
}

/** Validates the `bayes:` block (TPE options). */
export function checkBayes(raw: unknown, issues: SpecIssue[]): BayesSpec | undefined {
  if (!isPlainMapping(raw)) {
    issues.push({ path: 'bayes', message: `expected a mapping such as {n_startup_trials: ${BAYES_DEFAULTS.n_startup_trials}, n_ei_candidates: ${BAYES_DEFAULTS.n_ei_candidates}, gamma: ${BAYES_DEFAULTS.gamma}}, got ${describeValue(raw)}` });
    return undefined;
  }
  const ok = unknownKeys(raw, Object.keys(bayesSchema.shape), 'bayes', issues);
  const parsed = bayesSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    issues.push(...fromZodIssues(parsed.error.issues, ['bayes']));
    return undefined;
  }
  if (!ok) return undefined;
  const out: BayesSpec = {};
  for (const key of ['n_startup_trials', 'n_ei_candidates', 'gamma'] as const) {
    const v = parsed.data[key];
    if (v !== undefined) out[key] = v;
  }
  if (parsed.data.multivariate !== undefined) out.multivariate = parsed.data.multivariate;
  if (parsed.data.startup_design !== undefined) out.startup_design = parsed.data.startup_design;
  return out;
}

/** The most epochs any trial of the spec can run (the largest value `epochs` can take, or its default). */
export function maxEpochs(spec: Pick<SweepSpec, 'parameters'>): number {
  const ps: ParameterSpec | undefined = Object.hasOwn(spec.parameters, 'epochs') ? spec.parameters['epochs'] : undefined;
  if (ps === undefined) return DEFAULT_PARAMS.epochs;
  // A conditional epochs parameter falls back to the default where it does not apply.
  const fallback = ps.condition === undefined ? 0 : DEFAULT_PARAMS.epochs;
  switch (ps.kind) {
    case 'constant':
      return Math.max(fallback, Number(ps.value));
    case 'categorical':
      return Math.max(fallback, ...ps.values.map(Number));
    case 'int_uniform':
      return Math.max(fallback, ps.max);
    case 'q_uniform':
    case 'q_log_uniform_values':
    case 'q_log_uniform':
      return Math.max(fallback, multiple(quantizedRange(ps).kHi, ps.q));
    default:
      // Continuous kinds are rejected for the integer parameter epochs by validateSpec.
      return Math.max(fallback, 'max' in ps ? Math.floor(ps.max) : DEFAULT_PARAMS.epochs);
  }
}

/**
 * Epochs at which the early-termination rule decides, ascending, all before the last epoch any trial runs
 * (a decision at a trial's final epoch stops nothing):
 * - hyperband with `min_iter`: min_iter, min_iter·eta, min_iter·eta², … (rounded down)
 * - hyperband with `max_iter` and `s`: floor(max_iter / eta^s), …, floor(max_iter / eta) (W&B's brackets), leaving
 *   out those below 1 epoch as W&B does;
 * - median: every epoch from `min_iter` (default 1).
 * Empty when the spec has no early_terminate.
 */
export function rungEpochs(spec: Pick<SweepSpec, 'parameters' | 'early_terminate'>): number[] {
  const et = spec.early_terminate;
  if (et === undefined) return [];
  const last = maxEpochs(spec);
  const out: number[] = [];
  if (et.type === 'median') {
    for (let e = et.min_iter ?? EARLY_TERMINATE_DEFAULTS.median_min_iter; e < last; e++) out.push(e);
    return out;
  }
  const eta = et.eta ?? EARLY_TERMINATE_DEFAULTS.eta;
  if (et.min_iter !== undefined) {
    // W&B truncates fractional rungs (eta need not be an integer); equal ones are one rung.
    for (let r = et.min_iter; Math.floor(r) < last; r *= eta) if (out.at(-1) !== Math.floor(r)) out.push(Math.floor(r));
    return out;
  }
  if (et.max_iter !== undefined && et.s !== undefined) {
    for (let k = et.s; k >= 1; k--) {
      const r = Math.floor(et.max_iter / eta ** k);
      if (r >= 1 && r < last && !out.includes(r)) out.push(r);
    }
  }
  return out;
}

/** Validates `early_terminate:` (hyperband in the W&B dialect, or sweepq's median rule); see {@link EarlyTerminateSpec}. */
export function checkEarlyTerminate(raw: unknown, parameters: Record<string, ParameterSpec> | undefined, issues: SpecIssue[]): EarlyTerminateSpec | undefined {
  const example = '{type: hyperband, min_iter: 1, eta: 3} or {type: median, min_iter: 2, warmup_trials: 5}';
  if (!isPlainMapping(raw)) {
    issues.push({ path: 'early_terminate', message: `expected a mapping such as ${example}, got ${describeValue(raw)}` });
    return undefined;
  }
  const type = raw['type'];
  if (typeof type !== 'string' || !(EARLY_TERMINATE_TYPES as readonly string[]).includes(type)) {
    const s = typeof type === 'string' ? suggestName(type, EARLY_TERMINATE_TYPES) : undefined;
    const got = type === undefined ? 'required' : `got ${describeValue(type)}`;
    issues.push({ path: 'early_terminate.type', message: `${got}: expected one of ${EARLY_TERMINATE_TYPES.join(', ')} (e.g. ${example})${s === undefined ? '' : `. Did you mean ${s}?`}` });
    return undefined;
  }
  const schema = type === 'hyperband' ? hyperbandSchema : medianSchema;
  const keysOk = unknownKeys(raw, Object.keys(schema.shape), 'early_terminate', issues);
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    issues.push(...fromZodIssues(parsed.error.issues, ['early_terminate']));
    return undefined;
  }
  if (!keysOk) return undefined;
  const et = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)) as EarlyTerminateSpec;
  if (et.type === 'hyperband') {
    if (et.min_iter !== undefined && (et.max_iter !== undefined || et.s !== undefined)) {
      issues.push({ path: 'early_terminate', message: 'give either min_iter (first rung; later ones at min_iter * eta^k) or max_iter with s (rungs at max_iter / eta^k for k = s..1), not both' });
      return undefined;
    }
    if (et.min_iter === undefined && et.max_iter === undefined) {
      issues.push({ path: 'early_terminate.min_iter', message: 'required: hyperband needs min_iter (the epoch of the first rung, e.g. 1), or max_iter with s' });
      return undefined;
    }
    if (et.max_iter !== undefined && et.s === undefined) {
      issues.push({ path: 'early_terminate.s', message: 'required with max_iter: the number of rungs below max_iter (rungs at max_iter / eta^k, k = s..1)' });
      return undefined;
    }
    if (et.s !== undefined && et.max_iter === undefined) {
      issues.push({ path: 'early_terminate.max_iter', message: 'required with s (or use min_iter instead of s)' });
      return undefined;
    }
  }
  if (parameters !== undefined) {
    const last = maxEpochs({ parameters });
    if (rungEpochs({ parameters, early_terminate: et }).length === 0) {
      const where = et.type === 'hyperband' && et.min_iter === undefined ? 'early_terminate.max_iter' : 'early_terminate.min_iter';
      issues.push({ path: where, message: `no rung falls before the last epoch (trials run at most ${last} epoch${last === 1 ? '' : 's'}), so nothing would ever be stopped; use an earlier first rung or more epochs` });
      return undefined;
    }
  }
  return et;
}
