import type { SweepRecord, TrialResult } from '@sweepq/results';
import { DEFAULT_PARAMS, type SweepSpec } from '@sweepq/spec';

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

const rnd = (seed: number) => () => {
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
