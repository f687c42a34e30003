import { describeValue, suggestName, unknownKeyMessage } from './describe.js';
import type { SpecIssue } from './errors.js';
import { isPlainMapping } from './normalize-parameter.js';
import { METRIC_GOALS, METRIC_NAMES, defaultGoal, isCostMetric } from './types.js';
import type { BestRule, MetricGoal, MetricName, MetricSpec } from './types.js';

/** Objectives a `metric:` list may hold. Two is the usual trade-off; beyond four a Pareto front is most of the trials. */
export const MIN_OBJECTIVES = 2;
export const MAX_OBJECTIVES = 4;

const LIST_EXAMPLE = '[{name: val_accuracy, goal: maximize}, {name: model_bytes, goal: minimize}]';
const OBJECTIVE_KEYS = ['name', 'goal'] as const;
const BEST_KEYS = ['pick', 'within'] as const;

function checkObjective(raw: unknown, path: string, issues: SpecIssue[]): MetricSpec | undefined {
  if (!isPlainMapping(raw)) {
    issues.push({ path, message: `expected a mapping {name, goal} such as {name: model_bytes, goal: minimize}, got ${describeValue(raw)}` });
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(raw)) {
    if (key === 'target') {
      issues.push({ path: `${path}.target`, message: 'not allowed in the list form: with several objectives no single value ends the sweep; remove target, or write metric: as one mapping {name, goal, target}' });
      ok = false;
    } else if (!(OBJECTIVE_KEYS as readonly string[]).includes(key)) {
      issues.push({ path: `${path}.${key}`, message: unknownKeyMessage('key', key, OBJECTIVE_KEYS) });
      ok = false;
    }
  }
  const name = raw['name'];
  if (typeof name !== 'string' || !(METRIC_NAMES as readonly string[]).includes(name)) {
    const s = typeof name === 'string' ? suggestName(name, METRIC_NAMES) : undefined;
    const got = name === undefined ? 'required' : `got ${describeValue(name)}`;
    issues.push({ path: `${path}.name`, message: `${got}: expected one of ${METRIC_NAMES.join(', ')}${s === undefined ? '' : `. Did you mean ${s}?`}` });
    return undefined;
  }
  const goal = raw['goal'];
  if (goal !== undefined && !(METRIC_GOALS as readonly unknown[]).includes(goal)) {
    issues.push({ path: `${path}.goal`, message: `expected one of ${METRIC_GOALS.join(', ')}, got ${describeValue(goal)}` });
    return undefined;
  }
  return ok ? { name: name as MetricName, goal: (goal as MetricGoal | undefined) ?? defaultGoal(name as MetricName) } : undefined;
}

/**
 * `metric:` written as a list: 2-4 mappings `{name, goal}` with distinct names (goal defaulted as for one metric).
 * Returns the objectives in the order written, or undefined after pushing the issues.
 */
export function checkObjectives(raw: readonly unknown[], issues: SpecIssue[]): MetricSpec[] | undefined {
  if (raw.length < MIN_OBJECTIVES || raw.length > MAX_OBJECTIVES) {
    const one = raw.length === 1 ? '; for one metric write a mapping, metric: {name: val_accuracy, goal: maximize}' : '';
    issues.push({ path: 'metric', message: `a list of metrics holds ${MIN_OBJECTIVES} to ${MAX_OBJECTIVES} objectives such as ${LIST_EXAMPLE}, got ${raw.length}${one}` });
    return undefined;
  }
  const out: MetricSpec[] = [];
  let ok = true;
  raw.forEach((item, i) => {
    const m = checkObjective(item, `metric[${i}]`, issues);
    if (m === undefined) ok = false;
    else if (out.some((o) => o.name === m.name)) {
      issues.push({ path: `metric[${i}].name`, message: `${m.name} is already objective ${out.findIndex((o) => o.name === m.name)}; each objective must be a different metric` });
      ok = false;
    } else out.push(m);
  });
  return ok ? out : undefined;
}

/** A metric name that must be one of the sweep's objectives; pushes an issue naming them when it is not. */
function checkObjectiveName(raw: unknown, path: string, names: readonly string[], issues: SpecIssue[]): raw is MetricName {
  if (typeof raw === 'string' && names.includes(raw)) return true;
  const s = typeof raw === 'string' ? suggestName(raw, names) : undefined;
  const what = raw === undefined ? 'required' : typeof raw === 'string' && (METRIC_NAMES as readonly string[]).includes(raw) ? `${raw} is not an objective of this sweep` : `got ${describeValue(raw)}`;
  issues.push({ path, message: `${what}: expected one of the objectives ${names.join(', ')}${s === undefined ? '' : `. Did you mean ${s}?`}` });
  return false;
}

/**
 * sweepq's `best:` (several objectives only): `{pick: <objective>, within: {<objective>: <number >= 0>, …}}`.
 * `objectives` undefined means the spec has one metric, where the rule has nothing to choose between.
 */
export function checkBest(raw: unknown, objectives: readonly MetricSpec[] | undefined, single: boolean, issues: SpecIssue[]): BestRule | undefined {
  if (single) {
    issues.push({ path: 'best', message: `chooses among the Pareto front of several objectives, but this spec has one metric (best/ holds its best trial); remove best, or write metric: as a list such as ${LIST_EXAMPLE}` });
    return undefined;
  }
  if (objectives === undefined) return undefined; // the metric list has its own issues
  const example = `{pick: ${objectives[1]?.name ?? 'model_bytes'}, within: {${objectives[0]?.name ?? 'val_accuracy'}: 0.005}}`;
  if (!isPlainMapping(raw)) {
    issues.push({ path: 'best', message: `expected a mapping such as ${example}, got ${describeValue(raw)}` });
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(raw)) {
    if (!(BEST_KEYS as readonly string[]).includes(key)) {
      issues.push({ path: `best.${key}`, message: unknownKeyMessage('key', key, BEST_KEYS) });
      ok = false;
    }
  }
  const names = objectives.map((o) => o.name);
  const pick = raw['pick'];
  if (!checkObjectiveName(pick, 'best.pick', names, issues)) ok = false;
  const within = checkWithin(raw['within'], names, example, issues);
  if (!ok || within === null) return undefined;
  const rule: BestRule = { pick: pick as MetricName };
  if (within !== undefined) rule.within = within;
  return rule;
}

/** `best.within`: absent (undefined), valid (the mapping), or invalid (null, issues pushed). */
function checkWithin(raw: unknown, names: readonly string[], example: string, issues: SpecIssue[]): BestRule['within'] | null | undefined {
  if (raw === undefined) return undefined;
  if (!isPlainMapping(raw)) {
    issues.push({ path: 'best.within', message: `expected a mapping of objectives to how far (>= 0, in the metric's own units) a trial may be from the front's best value, as in ${example}; got ${describeValue(raw)}` });
    return null;
  }
  const out: Partial<Record<MetricName, number>> = {};
  let ok = true;
  for (const [key, value] of Object.entries(raw)) {
    if (!checkObjectiveName(key, `best.within.${key}`, names, issues)) ok = false;
    else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      issues.push({ path: `best.within.${key}`, message: `expected a number >= 0 (how far from the front's best ${key} a trial may be), got ${describeValue(value)}` });
      ok = false;
    } else out[key] = value;
  }
  return ok ? out : null;
}

/**
 * Early termination ranks trials at a rung by one metric, as it is during training. Refused with several objectives
 * (a small, fast model on the Pareto front would be stopped for being less accurate at the rung) and with a cost
 * metric (measured once training ends, so there is nothing to rank at a rung).
 */
export function checkEarlyTerminateObjectives(metric: MetricSpec | undefined, objectives: readonly MetricSpec[] | undefined, issues: SpecIssue[]): void {
  if (objectives !== undefined) {
    issues.push({
      path: 'early_terminate',
      message: `not available with several objectives: a rung ranks trials by ${objectives[0]?.name ?? 'the first objective'} alone, so it would stop a trial on the Pareto front (a small or fast model that is less accurate at the rung); remove early_terminate (keep epochs small instead), or optimise one metric`,
    });
  } else if (metric !== undefined && isCostMetric(metric.name)) {
    issues.push({ path: 'early_terminate', message: `${metric.name} is measured once a trial's training ends, so a rung has nothing to rank trials by; remove early_terminate, or optimise a training metric (${METRIC_NAMES.filter((n) => !isCostMetric(n)).join(', ')})` });
  }
}

/**
 * A `best:` rule in words, for notices, status, the leaderboard and best.json: `lowest model_bytes within 0.005 of
 * the front's best val_accuracy`. A name's goal is its objective's (`defaultGoal` for a name that is none).
 */
export function describeBestRule(rule: BestRule, objectives: readonly { name: string; goal: MetricGoal }[]): string {
  const goal = objectives.find((o) => o.name === rule.pick)?.goal ?? defaultGoal(rule.pick);
  const what = `${goal === 'maximize' ? 'highest' : 'lowest'} ${rule.pick}`;
  const within = Object.entries(rule.within ?? {}).filter(([, m]) => m !== undefined);
  return within.length === 0 ? what : `${what} within ${within.map(([n, m]) => `${m} of the front's best ${n}`).join(' and ')}`;
}

/**
 * The objectives a sweep searches a Pareto front of — `objectives` when it lists two or more, each as `{name, goal}` —
 * or undefined for a single metric. The one test of "several objectives" that the sampler, the leaderboard and
 * `status` apply.
 */
export function paretoObjectives(objectives: readonly { name: string; goal: MetricGoal }[] | undefined): { name: string; goal: MetricGoal }[] | undefined {
  return objectives !== undefined && objectives.length >= MIN_OBJECTIVES ? objectives.map(({ name, goal }) => ({ name, goal })) : undefined;
}
