import { buildLeaderboard, sweepObjectives, type Evaluation, type SweepRecord, type TrialResult } from '@sweepq/results';
import { PARAMETER_NAMES, rungEpochs, type ParameterSpec, type SweepSpec, type TrialParams } from '@sweepq/sweep-config';
import { pedAnovaImportance, type ImportanceResult } from './param-importance.js';
import { paretoData, type ReportPareto, type TrialObjectives } from './pareto-data.js';
import { buildTimeline, type Timeline } from './trial-timeline.js';

/** Where a trial stands when the report is built: a final state from its result, or still open. */
export type ReportTrialState = TrialResult['state'] | 'running' | 'queued';

/** Per-epoch series of one trial, from its `metrics.jsonl` (arrays of equal length, ordered by epoch). */
export interface LearningCurve {
  epoch: number[];
  loss: number[];
  accuracy: number[];
  val_loss: number[];
  val_accuracy: number[];
}

/** One leaderboard row of the report. */
export interface ReportTrial {
  trialId: string;
  index: number;
  state: ReportTrialState;
  /** 1-based rank by the sweep's metric; null for trials without a value (failed, running, …). */
  rank: number | null;
  reason?: string;
  error?: string;
  /** The sweep metric's final value, null when there is none. */
  metric: number | null;
  params: Partial<TrialParams>;
  final: { loss: number | null; accuracy: number | null; val_loss: number | null; val_accuracy: number | null } | null;
  testAccuracy: number | null;
  /** Epochs finished (from the result, else from the metrics so far). */
  epochs: number;
  durationSec: number | null;
  samplesPerSec: number | null;
  backend: string | null;
  worker: string | null;
  /** BullMQ attempt that finished the trial (1 unless it was retried or resumed); null while open. */
  attempt: number | null;
  /** ISO time the result was written; null while open. */
  finishedAt: string | null;
  /** For a trial stopped by early termination: the epoch (rung) it stopped at. */
  stoppedAtEpoch?: number;
  curve: LearningCurve;
  /** Several objectives only: the trial's value of each, in {@link ReportPareto.objectives} order (null: none). */
  objectives?: (number | null)[];
  /** Several objectives only: Pareto rank among the ranked trials (0 = on the front); null when unranked or a value is missing. */
  front?: number | null;
}

/**
 * Best value so far as trials finish: `[x, value, bestSoFar, trialId]` rows, by trial index (`byIndex`, x = index)
 * and by finishing time (`byTime`, x = milliseconds since the epoch). Only trials with a ranked metric count.
 */
export interface OptimizationHistory {
  byIndex: [number, number, number, string][];
  byTime: [number, number, number, string][];
}

/** Analyses computed when the report is built. */
export interface ReportAnalysis {
  /** PED-ANOVA importance of the varying parameters; null with fewer than 5 ranked trials. */
  importance: ImportanceResult | null;
  history: OptimizationHistory;
  /** Epochs at which the sweep's early_terminate rule decides (its rungs); empty without early termination. */
  rungs: number[];
  /** The rule's type (`hyperband` or `median`), null without early termination. */
  earlyTerminate: string | null;
  timeline: Timeline;
}

/** How the report draws one parameter. */
export interface ReportParameter {
  name: string;
  /** `numeric` for numbers, `categorical` for strings (optimizer) or mixed values. */
  type: 'numeric' | 'categorical';
  /** Draw on a log axis (see {@link isLogScaled}). */
  log: boolean;
  /** True when trials differ in this parameter, so it gets an axis and a scatter plot. */
  varying: boolean;
  /**
   * Distinct values seen, sorted (numbers ascending), when the parameter is drawn on a category axis: strings, and
   * numbers the spec lists as `values` (up to {@link MAX_CATEGORY_VALUES}) unless they are log-scaled.
   */
  values?: (string | number)[];
  /** The parameter's distribution in the spec, e.g. `log_uniform_values`; absent when the spec does not name it. */
  distribution?: string;
}

/** Everything {@link renderReport} needs; plain JSON, embedded in the page as data. */
export interface ReportData {
  format: 'sweepq-report/1';
  sweepId: string;
  /** ISO time the data was collected. */
  generatedAt: string;
  /** True for the report written when the sweep finished; false for a snapshot of a running sweep. */
  final: boolean;
  /** `sweep.json` without the resolved spec (which is in {@link ReportData.spec}). */
  sweep: Omit<SweepRecord, 'spec'>;
  /** `spec.yaml` as submitted, when it exists. Untrusted text: rendered only as text. */
  specText: string | null;
  /** The resolved spec from `sweep.json`, when present. */
  spec: SweepSpec | null;
  metric: { name: string; goal: 'maximize' | 'minimize' };
  parameters: ReportParameter[];
  /**
   * Leaderboard order: ranked trials by the metric (with several objectives: by Pareto rank, then the first
   * objective, as the leaderboard orders them), then the rest by index.
   */
  trials: ReportTrial[];
  /** The top-ranked trial and its held-out evaluation, when there is one. */
  best: { trialId: string; metric: number | null; evaluation: Evaluation | null } | null;
  analysis: ReportAnalysis;
  /** Several objectives only (`spec.objectives`): the objectives and their fronts; absent for a single metric. */
  pareto?: ReportPareto;
}

/** What {@link buildReportData} is built from: the sweep's files, already read. */
export interface ReportInputs {
  sweep: SweepRecord;
  specText?: string | null;
  /** Every `result.json` found. */
  results: readonly TrialResult[];
  /** Results of runs that `sweepq retry` replaced (`trials/<id>/attempts/`): drawn on the timeline only. */
  earlier?: readonly TrialResult[];
  /** `metrics.jsonl` content per trial id (finished or running). */
  metrics: ReadonlyMap<string, string>;
  /** Trials known to exist without a result (planned or started): id -> index and params when known. */
  pending?: ReadonlyMap<string, { index: number; params?: Partial<TrialParams> }>;
  final?: boolean;
  now?: Date;
}

const LOG_DISTRIBUTIONS: ReadonlySet<string> = new Set(['log_uniform_values', 'q_log_uniform_values', 'log_normal', 'log_uniform', 'q_log_uniform', 'inv_log_uniform', 'inv_log_uniform_values', 'q_log_normal']);

/** Most distinct numeric `values` of a spec parameter that are drawn as categories rather than on a value axis. */
export const MAX_CATEGORY_VALUES = 12;

/** Smallest max/min ratio of a list of positive numeric values for which a log axis reads better. */
export const LOG_AXIS_MIN_RATIO = 100;

/**
 * Whether a parameter should be drawn on a log axis: yes when the spec samples it log-scaled
 * (`log_uniform_values`, `q_log_uniform_values`, `log_normal`), and for an explicit list of positive numbers
 * spanning at least two decades (max/min >= {@link LOG_AXIS_MIN_RATIO}, e.g. learning rates 0.0001, 0.001, 0.01),
 * which is how grid sweeps write log-spaced values.
 */
export function isLogScaled(p: ParameterSpec | undefined): boolean {
  if (!p) return false;
  if (LOG_DISTRIBUTIONS.has(p.kind)) return true;
  if (p.kind === 'categorical') {
    const nums = p.values.filter((v): v is number => typeof v === 'number');
    if (nums.length < 2 || nums.length !== p.values.length || nums.some((v) => !(v > 0))) return false;
    return Math.max(...nums) / Math.min(...nums) >= LOG_AXIS_MIN_RATIO;
  }
  return false;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Parse `metrics.jsonl` into per-epoch series. Tolerant of what a live or resumed trial leaves behind: blank or
 * half-written lines are skipped, a repeated epoch (written again after a resume) keeps its last line, and
 * missing or non-finite values become `NaN` (a gap in the plot), so every array has one entry per epoch.
 */
export function parseLearningCurve(jsonl: string | undefined): LearningCurve {
  const byEpoch = new Map<number, Record<string, unknown>>();
  for (const line of (jsonl ?? '').split('\n')) {
    const t = line.trim();
    if (!t) continue;
    let row: unknown;
    try {
      row = JSON.parse(t);
    } catch {
      continue;
    }
    if (row === null || typeof row !== 'object') continue;
    const epoch = num((row as Record<string, unknown>).epoch);
    if (epoch === null || !Number.isInteger(epoch) || epoch < 1) continue;
    byEpoch.set(epoch, row as Record<string, unknown>);
  }
  const epochs = [...byEpoch.keys()].sort((a, b) => a - b);
  const series = (k: string) => epochs.map((e) => num(byEpoch.get(e)?.[k]) ?? Number.NaN);
  return { epoch: epochs, loss: series('loss'), accuracy: series('accuracy'), val_loss: series('val_loss'), val_accuracy: series('val_accuracy') };
}

function paramType(values: unknown[]): 'numeric' | 'categorical' {
  return values.length > 0 && values.every((v) => typeof v === 'number' && Number.isFinite(v)) ? 'numeric' : 'categorical';
}

/**
 * How to draw each parameter: type from the values trials used, log scale from the spec
 * ({@link isLogScaled}; never for values that are not all positive), varying when trials differ or the spec
 * samples it. Every known parameter is listed, in {@link PARAMETER_NAMES} order.
 */
export function describeParameters(spec: SweepSpec | null, trials: readonly Pick<ReportTrial, 'params'>[]): ReportParameter[] {
  return PARAMETER_NAMES.map((name) => {
    const values = trials.map((t) => t.params[name]).filter((v) => v !== undefined);
    const distinct = [...new Set(values)];
    const ps = spec && Object.hasOwn(spec.parameters, name) ? spec.parameters[name] : undefined;
    const type = paramType(distinct);
    const positive = distinct.every((v) => typeof v === 'number' && v > 0);
    const out: ReportParameter = {
      name,
      type,
      log: type === 'numeric' && positive && isLogScaled(ps),
      varying: distinct.length > 1 || (ps !== undefined && ps.kind !== 'constant' && distinct.length !== 1),
    };
    if (ps) out.distribution = ps.kind;
    // Strings, and a short list of numbers the spec names one by one (a grid), read best as categories.
    if (type === 'categorical' || (ps?.kind === 'categorical' && !out.log && distinct.length <= MAX_CATEGORY_VALUES)) {
      out.values = distinct
        .map((v) => (typeof v === 'number' ? v : String(v)))
        .sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
    }
    return out;
  });
}

/** Round to 6 significant digits: plenty for a plot or a table, and it keeps 1,000 trials' curves small. */
export function roundSig(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  return Number(v.toPrecision(6));
}

function roundCurve(c: LearningCurve): LearningCurve {
  return {
    epoch: c.epoch,
    loss: c.loss.map(roundSig),
    accuracy: c.accuracy.map(roundSig),
    val_loss: c.val_loss.map(roundSig),
    val_accuracy: c.val_accuracy.map(roundSig),
  };
}

const roundOrNull = (v: unknown): number | null => {
  const n = num(v);
  return n === null ? null : roundSig(n);
};

/** Keep a reader's page light: long error texts (stack traces) are cut. */
const MAX_ERROR_CHARS = 2000;

/**
 * Build {@link ReportData} from a sweep's files. Pure: the same inputs give the same data. Trials are in
 * leaderboard order (the metric's goal decides the direction; failed, cancelled, running and queued trials
 * follow, by index). A trial without metrics, or a failed one without a final epoch, still gets a row with
 * null values and empty curves.
 */
export function buildReportData(inputs: ReportInputs): ReportData {
  const { sweep } = inputs;
  const spec = (sweep.spec ?? null) as SweepSpec | null;
  const metric = sweep.metric ?? spec?.metric ?? { name: 'val_accuracy', goal: 'maximize' as const };
  // The objectives and best rule as the leaderboard reads them from the resolved spec (one reader: sweepObjectives).
  const several = sweepObjectives(sweep);
  const lb = buildLeaderboard(sweep.sweepId, metric, inputs.results, inputs.now, several);
  const mo = several.objectives ? paretoData(several.objectives, lb.rows) : null;

  const trials: ReportTrial[] = lb.rows.map((row) => {
    const r = row.result;
    const curve = roundCurve(parseLearningCurve(inputs.metrics.get(r.trialId)));
    const t: ReportTrial = {
      trialId: r.trialId,
      index: r.index,
      state: r.state,
      rank: row.rank,
      metric: roundOrNull(row.metric),
      params: { ...r.params },
      final: r.final
        ? { loss: roundOrNull(r.final.loss), accuracy: roundOrNull(r.final.accuracy), val_loss: roundOrNull(r.final.val_loss), val_accuracy: roundOrNull(r.final.val_accuracy) }
        : null,
      testAccuracy: roundOrNull(r.test?.accuracy),
      epochs: num(r.epochs) ?? curve.epoch.length,
      durationSec: roundOrNull(r.durationSec),
      samplesPerSec: roundOrNull(r.samplesPerSec),
      backend: r.backend ?? null,
      worker: r.worker ?? null,
      attempt: num(r.attempt),
      finishedAt: r.finishedAt ?? null,
      curve,
    };
    if (r.stoppedAtEpoch !== undefined) t.stoppedAtEpoch = r.stoppedAtEpoch;
    if (r.reason) t.reason = r.reason;
    if (r.error) t.error = r.error.length > MAX_ERROR_CHARS ? `${r.error.slice(0, MAX_ERROR_CHARS)}…` : r.error;
    if (mo) setObjectives(t, mo.byTrial.get(r.trialId));
    return t;
  });

  const finished = new Set(trials.map((t) => t.trialId));
  const open: ReportTrial[] = [];
  for (const [trialId, p] of inputs.pending ?? []) {
    if (finished.has(trialId)) continue;
    const curve = roundCurve(parseLearningCurve(inputs.metrics.get(trialId)));
    const last = curve.epoch.length - 1;
    const at = (k: keyof Omit<LearningCurve, 'epoch'>) => (last >= 0 ? roundOrNull(curve[k][last]) : null);
    const started = inputs.metrics.has(trialId);
    const lastValue = last >= 0 && (metric.name in curve) ? roundOrNull(curve[metric.name as keyof Omit<LearningCurve, 'epoch'>][last]) : null;
    open.push({
      trialId,
      index: p.index,
      state: started ? 'running' : 'queued',
      rank: null,
      metric: lastValue,
      params: { ...(p.params ?? {}) },
      final: last >= 0 ? { loss: at('loss'), accuracy: at('accuracy'), val_loss: at('val_loss'), val_accuracy: at('val_accuracy') } : null,
      testAccuracy: null,
      epochs: curve.epoch.length,
      durationSec: null,
      samplesPerSec: null,
      backend: null,
      worker: null,
      attempt: null,
      finishedAt: null,
      curve,
      ...(several.objectives ? { objectives: several.objectives.map(() => null), front: null } : {}),
    });
  }
  open.sort((a, b) => a.index - b.index);
  // In leaderboard order (with several objectives: by Pareto rank, then the first objective).
  const ranked = trials.filter((t) => t.rank !== null);
  const all = [...ranked, ...[...trials.filter((t) => t.rank === null), ...open].sort((a, b) => a.index - b.index)];

  // The best trial: a `best:` rule's pick, else the leaderboard's top (with several objectives, the front trial best
  // on the first objective), as finalize chooses sweep.json's best.
  const top = lb.pick ? trials.find((t) => t.trialId === lb.pick) : trials[0];
  const bestResult = top && top.rank !== null ? inputs.results.find((r) => r.trialId === top.trialId) : undefined;
  const { spec: _spec, ...sweepRest } = sweep;
  const parameters = describeParameters(spec, all);
  return {
    format: 'sweepq-report/1',
    sweepId: sweep.sweepId,
    generatedAt: (inputs.now ?? new Date()).toISOString(),
    final: inputs.final ?? false,
    sweep: sweepRest,
    specText: inputs.specText ?? null,
    spec,
    metric,
    parameters,
    trials: all,
    best: top && top.rank !== null ? { trialId: top.trialId, metric: top.metric, evaluation: bestResult?.evaluation ?? null } : null,
    analysis: {
      importance: pedAnovaImportance(
        trials.filter((t) => t.rank !== null && t.metric !== null).map((t) => ({ params: t.params, value: t.metric as number })),
        parameters.filter((p) => p.varying).map((p) => p.name),
        { maximize: metric.goal === 'maximize', log: new Set(parameters.filter((p) => p.log).map((p) => p.name)) },
      ),
      history: optimizationHistory(trials, metric.goal === 'maximize'),
      rungs: spec?.early_terminate ? rungEpochs(spec) : [],
      earlyTerminate: spec?.early_terminate?.type ?? null,
      timeline: buildTimeline(inputs.results, sweep, inputs.earlier),
    },
    ...(mo ? { pareto: mo.pareto } : {}),
  };
}

/** Objective values for the page: integers (bytes, counts) exact, the rest to 6 significant digits like every metric. */
function setObjectives(t: ReportTrial, o: TrialObjectives | undefined): void {
  t.objectives = (o?.values ?? []).map((v) => (v === null || Number.isInteger(v) ? v : roundSig(v)));
  t.front = o?.front ?? null;
}

/** Best-so-far series of the ranked trials, by index and by finishing time (see {@link OptimizationHistory}). */
export function optimizationHistory(trials: readonly ReportTrial[], maximize: boolean): OptimizationHistory {
  const ranked = trials.filter((t): t is ReportTrial & { metric: number } => t.rank !== null && t.metric !== null);
  const run = <X>(rows: { x: X; t: ReportTrial & { metric: number } }[]): [X, number, number, string][] => {
    let best = maximize ? -Infinity : Infinity;
    return rows.map(({ x, t }) => {
      best = maximize ? Math.max(best, t.metric) : Math.min(best, t.metric);
      return [x, t.metric, best, t.trialId];
    });
  };
  const byIndex = run([...ranked].sort((a, b) => a.index - b.index).map((t) => ({ x: t.index, t })));
  const timed = ranked.flatMap((t) => {
    const at = t.finishedAt === null ? Number.NaN : Date.parse(t.finishedAt);
    return Number.isFinite(at) ? [{ x: at, t }] : [];
  });
  const byTime = run(timed.sort((a, b) => a.x - b.x || a.t.index - b.t.index));
  return { byIndex, byTime };
}
