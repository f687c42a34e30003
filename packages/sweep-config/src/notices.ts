import { isLogUniform, logUniformBounds } from './distributions.js';
import { describeBestRule } from './objectives.js';
import { IGNORED_WANDB_KEYS } from './types.js';
import type { BestRule, MetricSpec, SweepSpec } from './types.js';

const fmt = (x: number): string => String(Number(x.toPrecision(4)));

/**
 * One-line notices about a valid spec, for a CLI to print before it submits: the W&B keys accepted but unused (sweepq
 * trains its own model, so `program`, `command`, `project`, … have nothing to act on), and, for W&B's exponent
 * distributions (`log_uniform`, `q_log_uniform`, `inv_log_uniform`), the values they actually produce — a
 * `log_uniform` with min 0.0001 and max 0.1 samples numbers between 1.0001 and 1.105, not a learning rate.
 * With several objectives, first a line naming them and what `best/` will hold. Empty when there is nothing to say.
 */
export function specNotices(spec: Pick<SweepSpec, 'parameters' | 'ignored' | 'objectives' | 'best'>): string[] {
  const out: string[] = [];
  if (spec.objectives !== undefined) out.push(objectivesNotice(spec.objectives, spec.best));
  const ignored = IGNORED_WANDB_KEYS.filter((k) => spec.ignored !== undefined && Object.hasOwn(spec.ignored, k));
  if (ignored.length > 0) {
    out.push(`W&B key${ignored.length === 1 ? '' : 's'} ${ignored.join(', ')} accepted and ignored: sweepq trains its own model (the Keras-style LSTM) on its own workers and keeps results in its bucket`);
  }
  const impute = spec.ignored?.metric?.impute;
  if (impute !== undefined && impute !== 'worst') {
    out.push(`metric.impute: ${impute} accepted and ignored: sweepq ranks failed trials below every other (W&B's worst)`);
  }
  const whileRunning = spec.ignored?.metric?.impute_while_running;
  if (whileRunning !== undefined && whileRunning !== false && whileRunning !== 'false') {
    out.push(`metric.impute_while_running: ${String(whileRunning)} accepted and ignored: sweepq's bayes search treats running trials as pending configurations with the worst value`);
  }
  for (const [name, ps] of Object.entries(spec.parameters)) {
    if (!isLogUniform(ps) || !(ps.kind === 'log_uniform' || ps.kind === 'q_log_uniform' || ps.kind === 'inv_log_uniform')) continue;
    const [lo, hi] = logUniformBounds(ps);
    const how = ps.kind === 'inv_log_uniform' ? `e^${-ps.max} to e^${-ps.min}` : `e^${ps.min} to e^${ps.max}`;
    out.push(`parameters.${name}: ${ps.kind} takes natural-log exponents (W&B), so it samples ${how} = ${fmt(lo)} to ${fmt(hi)}; use ${ps.kind === 'q_log_uniform' ? 'q_log_uniform_values' : ps.kind === 'inv_log_uniform' ? 'inv_log_uniform_values' : 'log_uniform_values'} to give the values themselves`);
  }
  return out;
}

/** "2 objectives: val_accuracy (maximize), model_bytes (minimize); … best/ holds …" */
function objectivesNotice(objectives: readonly MetricSpec[], best: BestRule | undefined): string {
  const list = objectives.map((o) => `${o.name} (${o.goal})`).join(', ');
  const holds = best === undefined ? 'every trial of the front' : `the front trial with the ${describeBestRule(best, objectives)}`;
  return `${objectives.length} objectives: ${list}; the sweep searches for their Pareto front (the trials no other trial beats on every objective) and best/ holds ${holds}`;
}
