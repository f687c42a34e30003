import { DEFAULT_PARAMS } from '@sweepq/sweep-config';
import { TrialState, type TrialCosts, type TrialResult } from './trial-result.js';

/**
 * A finished trial's result for tests (`@sweepq/results/testing`): trial `index` of sweep `s`, completed after one epoch
 * with val_accuracy `acc` (the metric, maximized) and val_loss `1 - acc`, the default parameters. `costs`: the
 * model's bytes (param_count a quarter of them, latency 1 ms), or a whole {@link TrialCosts}; absent, none recorded
 * (an older worker). `over` replaces any field.
 */
export function trialResult(index: number, acc: number | null, costs?: number | TrialCosts, over: Partial<TrialResult> = {}): TrialResult {
  return {
    sweepId: 's',
    trialId: `t${String(index).padStart(4, '0')}`,
    index,
    state: TrialState.Completed,
    params: { ...DEFAULT_PARAMS },
    metric: { name: 'val_accuracy', goal: 'maximize', value: acc },
    final: acc === null ? null : { epoch: 1, loss: 1, accuracy: acc, val_loss: 1 - acc, val_accuracy: acc, seconds: 1, samplesPerSec: 10 },
    ...(costs === undefined ? {} : { costs: typeof costs === 'number' ? { model_bytes: costs, param_count: costs / 4, latency_ms: 1 } : costs }),
    test: null,
    epochs: 1,
    durationSec: 1,
    samplesPerSec: 10,
    backend: 'wasm',
    tfjsVersion: '4.22.0',
    worker: 'w',
    attempt: 1,
    finishedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}
