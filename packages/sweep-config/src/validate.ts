import { z } from 'zod';
import { checkBayes, checkEarlyTerminate } from './adaptive.js';
import { normalizeConditions } from './conditions.js';
import { normalizeDataset } from './dataset.js';
import { describeValue, suggestName, unknownKeyMessage } from './describe.js';
import { isQuantized } from './distributions.js';
import { SpecError } from './errors.js';
import type { SpecIssue } from './errors.js';
import { DISCRETE_KINDS, isPlainMapping, normalizeParameter } from './normalize-parameter.js';
import { PARAMETER_NAMES } from './parameters.js';
import type { ParameterName } from './parameters.js';
import { gridSize } from './grid-size.js';
import { IGNORED_METRIC_KEYS, IGNORED_WANDB_KEYS, METHODS, METRIC_GOALS, METRIC_NAMES, defaultGoal } from './types.js';
import type { IgnoredWandbKeys, MetricSpec, ParameterSpec, SearchMethod, SweepSpec } from './types.js';
import { checkBest, checkEarlyTerminateObjectives, checkObjectives } from './objectives.js';
import { fromZodIssues } from './zod-issues.js';

/** Upper bound on the trials one sweep may plan (`run_cap`, or a grid's size when no run_cap is given). */
export const MAX_TRIALS = 100_000;

const TOP_LEVEL_KEYS = [
  'name',
  'description',
  'method',
  'metric',
  'parameters',
  'run_cap',
  'bayes',
  'max_in_flight',
  'seed',
  'dataset',
  'trial_timeout',
  'early_terminate',
  'prior_sweeps',
  'best',
  ...IGNORED_WANDB_KEYS,
] as const;

/** Names people bring from Keras (`num_words`, `maxlen`, `output_dim`, `units`) or habit (`lr`). */
const PARAMETER_ALIASES: Readonly<Record<string, ParameterName>> = {
  lr: 'learning_rate',
  learningrate: 'learning_rate',
  num_words: 'max_words',
  vocab_size: 'max_words',
  vocabulary_size: 'max_words',
  maxlen: 'max_len',
  max_length: 'max_len',
  seq_len: 'max_len',
  sequence_length: 'max_len',
  output_dim: 'embedding_dim',
  embedding_size: 'embedding_dim',
  embed_dim: 'embedding_dim',
  units: 'lstm_units',
  hidden_size: 'lstm_units',
  optimiser: 'optimizer',
  batch: 'batch_size',
  batchsize: 'batch_size',
  num_epochs: 'epochs',
  n_epochs: 'epochs',
  num_layers: 'lstm_layers',
  n_layers: 'lstm_layers',
  rnn_layers: 'lstm_layers',
  cell_type: 'cell',
  rnn_type: 'cell',
  rnn_cell: 'cell',
  bidi: 'bidirectional',
};

const scalars = z.object({
  name: z.string().max(200).optional(),
  description: z.string().max(10_000).optional(),
  run_cap: z.number().int().positive().max(MAX_TRIALS).optional(),
  max_in_flight: z.number().int().positive().max(10_000).optional(),
  seed: z.number().int().min(0).max(0xffff_ffff).default(0),
  trial_timeout: z.number().positive().optional(),
  prior_sweeps: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected a sweep id (1-64 characters of a-z, 0-9 and "-")'))
    .min(1)
    .max(20)
    .optional(),
});

const metricSchema = z.object({
  name: z.enum(METRIC_NAMES),
  goal: z.enum(METRIC_GOALS).optional(),
  target: z.number().optional(),
  impute: z.enum(['latest', 'best', 'worst']).optional(),
  impute_while_running: z.union([z.enum(['latest', 'best', 'worst', 'false']), z.literal(false)]).optional(),
});
const METRIC_KEYS = ['name', 'goal', 'target', ...IGNORED_METRIC_KEYS] as const;


function checkMethod(raw: unknown, issues: SpecIssue[]): SearchMethod | undefined {
  if (raw === undefined) {
    issues.push({ path: 'method', message: `required: expected one of ${METHODS.join(', ')}` });
    return undefined;
  }
  if (typeof raw === 'string' && (METHODS as readonly string[]).includes(raw)) return raw as SearchMethod;
  const suggestion = typeof raw === 'string' ? suggestName(raw, METHODS, { bayesian: 'bayes', tpe: 'bayes' }) : undefined;
  issues.push({ path: 'method', message: `expected one of ${METHODS.join(', ')}, got ${describeValue(raw)}${suggestion === undefined ? '' : `. Did you mean ${suggestion}?`}` });
  return undefined;
}

/** `metric:` resolved: the metric, and with several objectives (a list) all of them in order, the first equal to `metric`. */
interface ResolvedMetric {
  metric: MetricSpec;
  objectives?: MetricSpec[];
}

function checkMetric(raw: unknown, issues: SpecIssue[], ignored: IgnoredWandbKeys): ResolvedMetric | undefined {
  if (raw === undefined || raw === null) return { metric: { name: 'val_accuracy', goal: 'maximize' } };
  if (Array.isArray(raw)) {
    const objectives = checkObjectives(raw, issues);
    return objectives === undefined ? undefined : { metric: { ...(objectives[0] as MetricSpec) }, objectives };
  }
  if (!isPlainMapping(raw)) {
    issues.push({ path: 'metric', message: `expected a mapping such as {name: val_accuracy, goal: maximize}, or a list of 2-4 of them for several objectives, got ${describeValue(raw)}` });
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(raw)) {
    if (!(METRIC_KEYS as readonly string[]).includes(key)) {
      issues.push({ path: `metric.${key}`, message: unknownKeyMessage('key', key, METRIC_KEYS) });
      ok = false;
    }
  }
  const parsed = metricSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    issues.push(...fromZodIssues(parsed.error.issues, ['metric']));
    return undefined;
  }
  if (!ok) return undefined;
  const metric: MetricSpec = { name: parsed.data.name, goal: parsed.data.goal ?? defaultGoal(parsed.data.name) };
  if (parsed.data.target !== undefined) metric.target = parsed.data.target;
  for (const key of IGNORED_METRIC_KEYS) {
    const value = parsed.data[key];
    if (value !== undefined) ignored.metric = { ...ignored.metric, [key]: value };
  }
  return { metric };
}

function checkParameters(raw: unknown, issues: SpecIssue[]): Record<string, ParameterSpec> | undefined {
  if (raw === undefined) {
    issues.push({ path: 'parameters', message: `required: a mapping of parameter names (${PARAMETER_NAMES.join(', ')}) to {value|values|min/max}; use parameters: {} to run the defaults` });
    return undefined;
  }
  if (!isPlainMapping(raw)) {
    issues.push({ path: 'parameters', message: `expected a mapping of parameter names to specs, got ${describeValue(raw)}` });
    return undefined;
  }
  const out: Record<string, ParameterSpec> = {};
  const conditions = new Map<string, unknown>();
  let ok = true;
  for (const [key, written] of Object.entries(raw)) {
    if (!(PARAMETER_NAMES as readonly string[]).includes(key)) {
      issues.push({ path: `parameters.${key}`, message: unknownKeyMessage('parameter', key, PARAMETER_NAMES, PARAMETER_ALIASES) });
      ok = false;
      continue;
    }
    let body = written;
    if (isPlainMapping(written) && Object.hasOwn(written, 'condition')) {
      const { condition, ...rest } = written;
      conditions.set(key, condition);
      body = rest;
    }
    const spec = normalizeParameter(key as ParameterName, body, `parameters.${key}`, issues);
    if (spec === undefined) ok = false;
    else out[key] = spec;
  }
  if (conditions.size > 0 && !normalizeConditions(Object.keys(raw), conditions, out, issues)) ok = false;
  return ok ? out : undefined;
}

/** Copies YAML/JSON data so the resolved spec shares nothing with the caller's object. */
function plainCopy(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

function checkCombination(method: SearchMethod, parameters: Record<string, ParameterSpec>, runCap: number | undefined, issues: SpecIssue[]): void {
  if (method === 'random' && runCap === undefined) {
    issues.push({ path: 'run_cap', message: 'required for method random (random search never runs out of combinations); add e.g. run_cap: 20' });
  }
  if (method === 'bayes' && runCap === undefined) {
    issues.push({ path: 'run_cap', message: 'required for method bayes (it proposes trials until run_cap is reached); add e.g. run_cap: 30' });
  }
  if (method !== 'grid') return;
  let ok = true;
  for (const [name, spec] of Object.entries(parameters)) {
    if (!DISCRETE_KINDS.includes(spec.kind)) {
      issues.push({ path: `parameters.${name}`, message: `grid search needs a finite set of values, but ${name} uses the ${isQuantized(spec) ? 'distribution' : 'continuous distribution'} ${spec.kind}; grid takes value, values, int_uniform and q_uniform (as W&B's does): use values: [...] (or int_uniform / q_uniform), or method: random` });
      ok = false;
    }
  }
  if (!ok) return;
  const size = gridSize(parameters);
  if (runCap === undefined && size > MAX_TRIALS) {
    issues.push({ path: 'parameters', message: `the grid has ${size} combinations, more than the ${MAX_TRIALS} a sweep may plan; set run_cap or use fewer values` });
  }
}

/**
 * Validates a sweep spec already parsed into plain data (W&B sweep-config dialect) and returns it resolved:
 * parameters normalised to {@link ParameterSpec}, defaults applied (`seed` 0, `metric` val_accuracy/maximize,
 * dataset defaults, dataset `format` inferred). `specToConfig` turns the result back into this dialect.
 *
 * W&B's `program`, `command`, `project`, `entity`, `controller`, `job`, `image_uri`, `scheduler`, `apiVersion` and
 * `kind` are accepted and kept under `ignored` (`specNotices` words a notice about them). `metric.target` is kept in
 * `metric` (see `metricTargetReached`). `metric:` written as a list of 2-4 `{name, goal}` resolves to `objectives`
 * (all, in order) and `metric` (the first); sweepq's `best:` is allowed only then, `early_terminate` is not. `early_terminate`,
 * `bayes` and `max_in_flight` are validated and kept as written (their defaults are applied by `@sweepq/search`).
 * A parameter's `condition:` (sweepq extension) is attached to its {@link ParameterSpec}.
 *
 * @throws SpecError listing every problem found.
 */
export function validateSpec(obj: unknown): SweepSpec {
  const issues: SpecIssue[] = [];
  if (!isPlainMapping(obj)) {
    throw new SpecError([{ path: '', message: `expected the spec to be a mapping (method, metric, parameters, …), got ${describeValue(obj)}` }]);
  }
  for (const key of Object.keys(obj)) {
    if (key === 'metrics') {
      issues.push({ path: key, message: "W&B's multi-objective metrics (with method: custom) is not read: write the objectives as a list under metric:, e.g. metric: [{name: val_accuracy, goal: maximize}, {name: model_bytes, goal: minimize}]" });
    } else if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      issues.push({ path: key, message: unknownKeyMessage('top-level key', key, TOP_LEVEL_KEYS) });
    }
  }
  const parsedScalars = scalars.safeParse(
    Object.fromEntries(Object.entries(obj).filter(([k]) => Object.hasOwn(scalars.shape, k))),
    { reportInput: true },
  );
  if (!parsedScalars.success) issues.push(...fromZodIssues(parsedScalars.error.issues));
  const method = checkMethod(obj['method'], issues);
  const ignored: IgnoredWandbKeys = {};
  const resolved = checkMetric(obj['metric'], issues, ignored);
  const single = resolved !== undefined && resolved.objectives === undefined;
  const best = obj['best'] === undefined ? undefined : checkBest(obj['best'], resolved?.objectives, single, issues);
  const parameters = checkParameters(obj['parameters'], issues);
  const dataset = normalizeDataset(obj['dataset'], issues);
  let earlyTerminate: SweepSpec['early_terminate'];
  if (obj['early_terminate'] !== undefined) {
    earlyTerminate = checkEarlyTerminate(obj['early_terminate'], parameters, issues);
    checkEarlyTerminateObjectives(resolved?.metric, resolved?.objectives, issues);
  }
  let bayes: SweepSpec['bayes'];
  if (obj['bayes'] !== undefined) {
    bayes = checkBayes(obj['bayes'], issues);
    if (method !== undefined && method !== 'bayes') {
      issues.push({ path: 'bayes', message: `only used by method: bayes, but method is ${method}; remove the bayes block or set method: bayes` });
    }
  }
  if (obj['prior_sweeps'] !== undefined && method !== undefined && method !== 'bayes') {
    issues.push({ path: 'prior_sweeps', message: `warm-starts the bayes sampler from earlier sweeps, but method is ${method}; set method: bayes or remove prior_sweeps` });
  }
  const runCap = parsedScalars.success ? parsedScalars.data.run_cap : undefined;
  if (method !== undefined && parameters !== undefined && (parsedScalars.success || obj['run_cap'] === undefined)) {
    checkCombination(method, parameters, runCap, issues);
  }
  if (issues.length > 0 || !parsedScalars.success || method === undefined || resolved === undefined || parameters === undefined || dataset === undefined) {
    throw new SpecError(issues);
  }
  const s = parsedScalars.data;
  const spec: SweepSpec = { method, metric: resolved.metric, parameters, seed: s.seed, dataset };
  // Only with several objectives, so a single-metric spec resolves (and hashes) exactly as before.
  if (resolved.objectives !== undefined) spec.objectives = resolved.objectives;
  if (best !== undefined) spec.best = best;
  if (s.name !== undefined) spec.name = s.name;
  if (s.description !== undefined) spec.description = s.description;
  if (s.run_cap !== undefined) spec.run_cap = s.run_cap;
  if (bayes !== undefined) spec.bayes = bayes;
  if (s.max_in_flight !== undefined) spec.max_in_flight = s.max_in_flight;
  if (s.trial_timeout !== undefined) spec.trial_timeout = s.trial_timeout;
  if (s.prior_sweeps !== undefined) spec.prior_sweeps = [...new Set(s.prior_sweeps)];
  if (earlyTerminate !== undefined) spec.early_terminate = earlyTerminate;
  for (const key of IGNORED_WANDB_KEYS) {
    if (obj[key] !== undefined) ignored[key] = plainCopy(obj[key]);
  }
  if (Object.keys(ignored).length > 0) spec.ignored = ignored;
  return spec;
}
