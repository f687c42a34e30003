import type { SweepRecord, TrialCosts, TrialResult } from '@sweepq/results';
import { DEFAULT_PARAMS, type MetricSpec, type SweepSpec } from '@sweepq/sweep-config';

export const SPEC: SweepSpec = {
  name: 'fixture',
  method: 'random',
  metric: { name: 'val_accuracy', goal: 'maximize' },
  parameters: {
    learning_rate: { kind: 'log_uniform_values', min: 0.0005, max: 0.02 },
    lstm_units: { kind: 'categorical', values: [8, 16, 32] },
    optimizer: { kind: 'categorical', values: ['adam', 'rmsprop'] },
    dropout: { kind: 'uniform', min: 0, max: 0.5 },
    batch_size: { kind: 'categorical', values: [16, 256, 1024] },
    epochs: { kind: 'constant', value: 3 },
  },
  run_cap: 1000,
  seed: 1,
  dataset: { uri: 'builtin:spam-assassin', text_field: 'text', label_field: 'label', validation_split: 0.2, test_split: 0.1, seed: 42 },
};

export function sweepRecord(patch: Partial<SweepRecord> = {}): SweepRecord {
  return {
    sweepId: 'fixture-sweep',
    name: 'fixture',
    state: 'running',
    method: 'random',
    metric: { name: 'val_accuracy', goal: 'maximize' },
    spec: SPEC,
    dataset: {
      uri: 'builtin:spam-assassin',
      key: 'datasets/abc/prepared.bin',
      hash: 'abc',
      classes: ['ham', 'spam'],
      rows: 100,
      classCounts: { ham: 70, spam: 30 },
      sizes: { train: 70, validation: 20, test: 10 },
      vocabulary: 500,
      majorityRate: 0.7,
    },
    trials: { total: 3, completed: 2, stopped: 0, failed: 1, cancelled: 0, running: 0, queued: 0 },
    submittedAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:01.000Z',
    updatedAt: '2026-01-01T00:01:00.000Z',
    ...patch,
  };
}

/** A seeded generator of numbers in [0, 1) (a linear congruential one: plenty for fixtures). */
export const rnd = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

/** A trial result; `value` null makes a failed trial without metrics. */
export function trialResult(index: number, value: number | null, patch: Partial<TrialResult> = {}): TrialResult {
  const r = rnd(index + 1);
  const failed = value === null;
  return {
    sweepId: 'fixture-sweep',
    trialId: `t${String(index).padStart(4, '0')}`,
    index,
    state: failed ? 'failed' : 'completed',
    ...(failed ? { reason: 'error', error: 'Error: boom' } : {}),
    params: {
      ...DEFAULT_PARAMS,
      learning_rate: 0.0005 * Math.exp(r() * Math.log(40)),
      lstm_units: [8, 16, 32][index % 3]!,
      optimizer: index % 2 ? 'adam' : 'rmsprop',
      dropout: r() * 0.5,
      batch_size: [16, 256, 1024][index % 3]!,
      epochs: 3,
    },
    metric: { name: 'val_accuracy', goal: 'maximize', value },
    final: failed ? null : { epoch: 3, loss: 0.3, accuracy: 0.9, val_loss: 0.35, val_accuracy: value, seconds: 2, samplesPerSec: 100 },
    test: failed ? null : { loss: 0.4, accuracy: value - 0.01 },
    ...(failed
      ? {}
      : {
          evaluation: {
            split: 'test' as const,
            classes: ['ham', 'spam'],
            confusion: [
              [6, 1],
              [1, 2],
            ],
            accuracy: 0.8,
            perClass: [
              { label: 'ham', precision: 6 / 7, recall: 6 / 7, f1: 6 / 7, support: 7 },
              { label: 'spam', precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, support: 3 },
            ],
            samples: [],
          },
        }),
    epochs: failed ? 0 : 3,
    durationSec: failed ? 0 : 10 + r() * 50,
    samplesPerSec: failed ? null : 100,
    backend: 'wasm',
    tfjsVersion: '4.22.0',
    worker: 'w1',
    attempt: 1,
    finishedAt: '2026-01-01T00:01:00.000Z',
    ...patch,
  };
}

/** metrics.jsonl with `epochs` lines ending at the given validation accuracy. */
export function metricsJsonl(epochs: number, finalAcc: number): string {
  const lines = [];
  for (let e = 1; e <= epochs; e++) {
    const f = e / epochs;
    lines.push(
      JSON.stringify({ epoch: e, loss: 1 - 0.6 * f, accuracy: 0.5 + 0.4 * f, val_loss: 1.1 - 0.6 * f, val_accuracy: 0.5 + (finalAcc - 0.5) * f, seconds: 1, samplesPerSec: 100 }),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Options of {@link syntheticSweep}. */
export interface SyntheticSweepOptions {
  trials: number;
  epochs?: number;
  /** Workers trials are spread over; default 4. */
  workers?: number;
  seed?: number;
  /** Hyperband rungs at 1, 3, 9, …: trials below the running median at a rung stop there; default true. */
  earlyTerminate?: boolean;
  /** Every n-th trial was handed off to another worker mid-way (a resume); default 23 (0: never). */
  handOffEvery?: number;
  /** Record `attempts` in result.json as a current worker would; default false (the fields of today's workers). */
  attempts?: boolean;
  /**
   * Several objectives (spec `objectives`, the first must be val_accuracy): trials then also vary max_words
   * (1,000-20,000), larger models score a little better, and every result records `costs` computed from its
   * parameters as an Embedding -> LSTM -> Dense model's, so the Pareto front trades accuracy for size.
   */
  objectives?: MetricSpec[];
}

/** Trainable parameters, saved bytes and a latency of the fixture's model (one LSTM layer, two classes). */
export function fixtureCosts(p: { max_words: number; embedding_dim: number; lstm_units: number }): TrialCosts {
  const u = p.lstm_units;
  const param_count = p.max_words * p.embedding_dim + 4 * u * (p.embedding_dim + u + 1) + 2 * (u + 1);
  return { param_count, model_bytes: 4 * param_count + 3_000 + 9 * p.max_words, latency_ms: 0.4 + (u * (p.embedding_dim + u)) / 20_000 };
}

/**
 * A random sweep over five parameters as the bucket would hold it, for benches and browser tests: learning_rate
 * (log-uniform) decides most of the metric, dropout a little, the rest nothing; trials run on `workers` workers one
 * after another with small idle gaps; under hyperband some stop early at a rung; some are handed off (resumed on
 * another worker) and one in 31 fails. Deterministic for a seed.
 */
export function syntheticSweep(opts: SyntheticSweepOptions): { sweep: SweepRecord; results: TrialResult[]; metrics: Map<string, string> } {
  const epochs = opts.epochs ?? 20;
  const workers = opts.workers ?? 4;
  const et = opts.earlyTerminate ?? true;
  const handOff = opts.handOffEvery ?? 23;
  const r = rnd(opts.seed ?? 7);
  const spec: SweepSpec = {
    ...SPEC,
    name: 'synthetic',
    parameters: {
      learning_rate: { kind: 'log_uniform_values', min: 0.0001, max: 0.1 },
      dropout: { kind: 'uniform', min: 0, max: 0.5 },
      lstm_units: { kind: 'categorical', values: [16, 32, 64, 128] },
      optimizer: { kind: 'categorical', values: ['adam', 'rmsprop', 'sgd'] },
      embedding_dim: { kind: 'categorical', values: [16, 32, 64] },
      epochs: { kind: 'constant', value: epochs },
    },
    run_cap: opts.trials,
    ...(et ? { early_terminate: { type: 'hyperband' as const, min_iter: 1, eta: 3 } } : {}),
  };
  if (opts.objectives) {
    spec.metric = opts.objectives[0]!;
    spec.objectives = opts.objectives;
    spec.parameters.max_words = { kind: 'categorical', values: [1000, 5000, 20000] };
  }
  const t0 = Date.parse('2026-03-01T08:00:00.000Z');
  const free = Array.from({ length: workers }, () => t0);
  const results: TrialResult[] = [];
  const metrics = new Map<string, string>();
  const atRung = new Map<number, number[]>();
  for (let i = 0; i < opts.trials; i++) {
    const p = {
      learning_rate: 0.0001 * 1000 ** r(),
      dropout: r() * 0.5,
      lstm_units: [16, 32, 64, 128][Math.floor(r() * 4)]!,
      optimizer: (['adam', 'rmsprop', 'sgd'] as const)[Math.floor(r() * 3)]!,
      embedding_dim: [16, 32, 64][Math.floor(r() * 3)]!,
      ...(opts.objectives ? { max_words: [1000, 5000, 20000][Math.floor(r() * 3)]! } : {}),
    };
    const size = opts.objectives ? 0.012 * Math.log2((p.lstm_units / 16) * (p.embedding_dim / 16) * ((p.max_words ?? 1000) / 1000)) : 0;
    const quality = Math.exp(-((Math.log10(p.learning_rate) + 2.5) ** 2)) - 0.3 * (p.dropout - 0.15) ** 2 + size;
    const ceiling = 0.62 + 0.36 * quality + 0.01 * r();
    const failed = i % 31 === 30;
    let stopAt: number | undefined;
    const lines: string[] = [];
    for (let e = 1; e <= epochs; e++) {
      const acc = 0.5 + (ceiling - 0.5) * (1 - Math.exp(-e / 3)) + 0.004 * (r() - 0.5);
      lines.push(JSON.stringify({ epoch: e, loss: 1.2 - acc, accuracy: Math.min(1, acc + 0.02), val_loss: 1.25 - acc, val_accuracy: acc, seconds: 1.5, samplesPerSec: 300 }));
      if (failed && e === 2) break;
      if (et && (e === 1 || e === 3 || e === 9) && e < epochs) {
        const seen = atRung.get(e) ?? [];
        seen.push(acc);
        atRung.set(e, seen);
        const sorted = [...seen].sort((a, b) => b - a);
        if (seen.length >= 3 && acc < sorted[Math.floor(seen.length / 3)]!) {
          stopAt = e;
          break;
        }
      }
    }
    const done = lines.length;
    const last = JSON.parse(lines.at(-1)!) as { val_accuracy: number; loss: number; accuracy: number; val_loss: number };
    const w = free.indexOf(Math.min(...free));
    const start = free[w]! + Math.floor(r() * 4000);
    const seconds = done * 1.5 + 2;
    const handedOff = handOff > 0 && i % handOff === handOff - 1 && done > 2 && !failed;
    const other = (w + 1) % workers;
    const fromEpoch = Math.floor(done / 2);
    const resumeAt = start + fromEpoch * 1500 + 9000;
    const end = handedOff ? resumeAt + (done - fromEpoch) * 1500 + 2000 : start + seconds * 1000;
    free[w] = handedOff ? start + fromEpoch * 1500 : end;
    if (handedOff) free[other] = Math.max(free[other]!, end);
    const trialId = `t${String(i).padStart(4, '0')}`;
    const state = failed ? 'failed' : stopAt !== undefined ? 'stopped' : 'completed';
    const finalAttempt = handedOff ? 2 : 1;
    const result = trialResult(i, failed ? null : last.val_accuracy, {
      sweepId: 'synthetic-sweep',
      trialId,
      state,
      params: { ...DEFAULT_PARAMS, ...p, epochs },
      ...(stopAt !== undefined ? { reason: 'early_terminated', stoppedAtEpoch: stopAt } : {}),
      ...(failed ? { reason: 'diverged', error: 'Error: loss is NaN at epoch 2' } : {}),
      final: failed ? null : { epoch: done, loss: last.loss, accuracy: last.accuracy, val_loss: last.val_loss, val_accuracy: last.val_accuracy, seconds: 1.5, samplesPerSec: 300 },
      test: failed ? null : { loss: last.val_loss, accuracy: last.val_accuracy - 0.01 },
      epochs: failed ? 2 : done,
      worker: `w${handedOff ? other + 1 : w + 1}`,
      attempt: finalAttempt,
      durationSec: ((handedOff ? end - resumeAt : end - start) / 1000),
      finishedAt: new Date(end).toISOString(),
      ...(handedOff ? { resumes: [{ attempt: 2, worker: `w${other + 1}`, fromEpoch, at: new Date(resumeAt).toISOString() }] } : {}),
      ...(opts.objectives && !failed ? { costs: fixtureCosts({ ...DEFAULT_PARAMS, ...p }) } : {}),
      ...(opts.attempts
        ? {
            attempts: [
              { attempt: 1, worker: `w${w + 1}`, startedAt: new Date(start).toISOString(), fromEpoch: 0, ...(handedOff ? { endedAt: new Date(start + fromEpoch * 1500).toISOString() } : {}) },
              ...(handedOff ? [{ attempt: 2, worker: `w${other + 1}`, startedAt: new Date(resumeAt).toISOString(), fromEpoch }] : []),
            ],
          }
        : {}),
    });
    results.push(result);
    metrics.set(trialId, `${lines.join('\n')}\n`);
  }
  const counts = { total: opts.trials, completed: 0, stopped: 0, failed: 0, cancelled: 0, running: 0, queued: 0 };
  for (const x of results) counts[x.state] += 1;
  const sweep = sweepRecord({
    sweepId: 'synthetic-sweep',
    name: `synthetic: ${opts.trials} trials, 5 parameters`,
    state: 'completed',
    spec,
    trials: counts,
    startedAt: new Date(t0).toISOString(),
    finishedAt: new Date(Math.max(...free)).toISOString(),
  });
  return { sweep, results, metrics };
}
