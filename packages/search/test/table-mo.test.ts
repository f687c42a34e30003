import { describe, expect, it } from 'vitest';
import { configOf } from '../bench/table-format.js';
import type { Table, TableHeader, TableRow } from '../bench/table-format.js';
import { HypervolumeScale, parseObjectives, rowValues, simulateMoSweep, trialSeconds } from '../bench/table-mo.js';
import { TableLookup } from '../bench/table-sim.js';

const space = { learning_rate: [0.1, 0.01], optimizer: ['adam', 'sgd'] };
const header: TableHeader = {
  kind: 'header',
  version: 1,
  dataset: { name: 'tiny', source: 'hand-made', classes: ['a', 'b'], trainRows: 1, validationRows: 1, note: '' },
  space,
  fixed: { max_len: 10, epochs: 2, seed: 1 },
  command: 'test',
  machine: { node: 'v24', backend: 'cpu', tfjs: '0', platform: 'test', cpus: 'test', cores: 1, date: '2026-01-01', loadavg: [0, 0, 0] },
};

function row(id: number, acc: number[], bytes: number, seconds = [1, 2]): TableRow {
  return { kind: 'config', id, params: configOf(id, space), val_accuracy: acc, val_loss: acc.map((v) => 1 - v), seconds, loss: acc.map((v) => 1 - v), diverged: acc.length < 2, param_count: bytes / 4, model_bytes: bytes, latency_ms: 1, loadavg1: 0 };
}

// (0.1, adam) 0.9 at 1000 bytes and (0.01, adam) 0.6 at 10 bytes form the front; (0.1, sgd) is dominated;
// (0.01, sgd) diverges in epoch 2.
const table: Table = { header, rows: [row(0, [0.5, 0.9], 1000), row(1, [0.4, 0.5], 1000), row(2, [0.3, 0.6], 10), row(3, [0.5], 10, [3])] };
const objectives = parseObjectives('val_accuracy:max,model_bytes:min');

describe('multi-objective table replay', () => {
  it('parses objectives and names what is wrong', () => {
    expect(objectives).toEqual([
      { name: 'val_accuracy', goal: 'maximize' },
      { name: 'model_bytes', goal: 'minimize' },
    ]);
    expect(() => parseObjectives('val_accuracy:max')).toThrow(/2 to 4 comma-separated name:goal pairs, got 1/);
    expect(() => parseObjectives('val_accuracy:max,accuracy:max')).toThrow(/accuracy is a metric, but the table has no value of it/);
    expect(() => parseObjectives('val_accuracy:up,model_bytes:min')).toThrow(/expected the goal max or min after the colon, got "up"/);
    expect(() => parseObjectives('model_bytes:min,model_bytes:min')).toThrow(/model_bytes is listed twice/);
  });

  it('a trial is its row: last-epoch values and costs; a diverged row fails after the epoch it diverged in', () => {
    expect(rowValues(table.rows[0] as TableRow, objectives, 2)).toEqual([0.9, 1000]);
    expect(rowValues(table.rows[3] as TableRow, objectives, 2)).toBeNull();
    expect(trialSeconds(table.rows[0] as TableRow, 2)).toBe(3);
    // Epoch 2 has no recorded seconds: it costs the row's mean.
    expect(trialSeconds(table.rows[3] as TableRow, 2)).toBe(6);
  });

  it('hypervolume on the table scale: 0 best, 1 worst (bytes on a log scale), reference 1.1; the true front has the most', () => {
    const scale = new HypervolumeScale(table, objectives);
    // Accuracy 0.5-0.9 (the diverged row left out), bytes 10-1000 on a log scale: row 0 scales to (0, 1), row 2 to
    // (0.75, 0), row 1 to (1, 1), the worst.
    expect(scale.of([0])).toBeCloseTo(1.1 * 0.1, 12);
    expect(scale.of([0, 2])).toBeCloseTo(1.1 * 0.1 + 0.35 * 1.0, 12);
    expect(scale.of([0, 1, 2, 3])).toBeCloseTo(scale.best, 12);
    expect(scale.best).toBeCloseTo(scale.of([0, 2]), 12);
    expect(scale.of([1, 3])).toBeCloseTo(0.1 * 0.1, 12);
    expect(scale.frontSize).toBe(2);
    expect(scale.at([1, 0, 2], 3, 0.5)).toBeCloseTo(scale.of([1]), 12);
  });

  it('replays every trial once, in the order they finish, random and MOTPE alike', () => {
    const lookup = new TableLookup(table);
    for (const method of ['random', 'motpe'] as const) {
      const order = simulateMoSweep(lookup, { method, seed: 3, trials: 4, inFlight: 2, objectives, startup: 2 });
      // A bayes sweep never repeats a configuration: 4 trials cover the 4 rows.
      if (method === 'motpe') expect([...order].sort()).toEqual([0, 1, 2, 3]);
      expect(order).toHaveLength(4);
      expect(simulateMoSweep(lookup, { method, seed: 3, trials: 4, inFlight: 2, objectives, startup: 2 })).toEqual(order);
    }
  });
});
