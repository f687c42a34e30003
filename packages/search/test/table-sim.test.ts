import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { configOf, parseTable, sampleConfigIds, spaceSize } from '../bench/table-format.js';
import type { Table, TableHeader, TableRow } from '../bench/table-format.js';
import { TableLookup, blockVerdict, percentile, regretAt, simulateSweep, tableBest } from '../bench/table-sim.js';

const space = { learning_rate: [0.1, 0.01], optimizer: ['adam', 'sgd'] };

const header: TableHeader = {
  kind: 'header',
  version: 1,
  dataset: { name: 'tiny', source: 'hand-made', classes: ['a', 'b'], trainRows: 1, validationRows: 1, note: '' },
  space,
  fixed: { max_len: 10, epochs: 3, seed: 1 },
  command: 'test',
  machine: { node: 'v24', backend: 'cpu', tfjs: '0', platform: 'test', cpus: 'test', cores: 1, date: '2026-01-01', loadavg: [0, 0, 0] },
};

function row(id: number, valAccuracy: number[], seconds = [1, 1, 1]): TableRow {
  return { kind: 'config', id, params: configOf(id, space), val_accuracy: valAccuracy, val_loss: valAccuracy.map((v) => 1 - v), seconds, loss: valAccuracy.map((v) => 1 - v), diverged: false, param_count: 1, model_bytes: 1, latency_ms: 1, loadavg1: 0 };
}

// Grid order (last key fastest): (0.1, adam), (0.1, sgd), (0.01, adam), (0.01, sgd). The best is (0.01, adam) at epoch 3.
const table: Table = {
  header,
  rows: [row(0, [0.5, 0.6, 0.7]), row(1, [0.4, 0.5, 0.55]), row(2, [0.6, 0.8, 0.9]), row(3, [0.3, 0.3, 0.3], [2, 2, 2])],
};

describe('table format', () => {
  it('numbers configurations of the product, last parameter fastest, and samples distinct ids', () => {
    expect(configOf(1, space)).toEqual({ learning_rate: 0.1, optimizer: 'sgd' });
    expect(configOf(2, space)).toEqual({ learning_rate: 0.01, optimizer: 'adam' });
    const ids = sampleConfigIds(150, 1);
    expect(new Set(ids).size).toBe(150);
    expect(ids.every((i) => i >= 0 && i < spaceSize())).toBe(true);
    expect(sampleConfigIds(150, 1)).toEqual(ids);
    expect(sampleConfigIds(4, 1, 4).sort()).toEqual([0, 1, 2, 3]);
  });

  it('reads gzip members appended one by one, keeping the first copy of a repeated row', () => {
    const bytes = Buffer.concat([gzipSync(`${JSON.stringify(header)}\n`), gzipSync(`${JSON.stringify(row(2, [0.1]))}\n`), gzipSync(`${JSON.stringify(row(2, [0.9]))}\n`)]);
    const t = parseTable(bytes);
    expect(t.header.dataset.name).toBe('tiny');
    expect(t.rows.map((r) => r.val_accuracy)).toEqual([[0.1]]);
  });
});

describe('table lookup', () => {
  it('finds a configuration in the table, and the nearest (first on ties) for one that is not', () => {
    const lookup = new TableLookup(table);
    expect(lookup.row({ learning_rate: 0.01, optimizer: 'adam' }).id).toBe(2);
    const partial = new TableLookup({ header, rows: table.rows.slice(0, 3) });
    // (0.01, sgd) is one step from (0.1, sgd) and from (0.01, adam): the first of them in the table wins.
    expect(partial.row({ learning_rate: 0.01, optimizer: 'sgd' }).id).toBe(1);
    expect(() => lookup.row({ learning_rate: 0.5, optimizer: 'adam' })).toThrow(/learning_rate = 0.5/);
  });
});

describe('simulated sweep', () => {
  const lookup = new TableLookup(table);
  const best = tableBest(table);

  it('grid search, one in flight, trains the grid in order and finds the known best; regret follows the trace', () => {
    expect(best).toBe(0.9);
    const r = simulateSweep(lookup, { method: 'grid', seed: 1, budget: { kind: 'epochs', amount: 100 }, inFlight: 1 });
    expect(r.trials).toBe(4);
    expect(r.trace.map((p) => p.best)).toEqual([0.5, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9]);
    expect(r.trace.at(-1)).toEqual({ epochs: 12, seconds: 15, best: 0.9 });
    expect(regretAt(r.trace, 'epochs', 6, best)).toBeCloseTo(0.2, 12);
    expect(regretAt(r.trace, 'epochs', 8, best)).toBeCloseTo(0.1, 12);
    expect(regretAt(r.trace, 'epochs', 9, best)).toBe(0);
    expect(regretAt(r.trace, 'epochs', 0, best)).toBe(0.9);
    expect(regretAt(r.trace, 'seconds', 7.5, best)).toBeCloseTo(0.2, 12);
  });

  it('stops at the budget: an epoch that would overrun it is not trained', () => {
    const r = simulateSweep(lookup, { method: 'grid', seed: 1, budget: { kind: 'epochs', amount: 8 }, inFlight: 1 });
    expect(r.trace).toHaveLength(8);
    expect(regretAt(r.trace, 'epochs', 8, best)).toBeCloseTo(0.1, 12);
    const s = simulateSweep(lookup, { method: 'grid', seed: 1, budget: { kind: 'seconds', amount: 8.5 }, inFlight: 1 });
    expect(s.trace.at(-1)?.seconds).toBe(8);
  });

  it('with two in flight, epochs end in clock order across trials', () => {
    const r = simulateSweep(lookup, { method: 'grid', seed: 1, budget: { kind: 'epochs', amount: 100 }, inFlight: 2 });
    // Trials 0 and 1 alternate (equal seconds, the older first); then 2 and 3, where 3's epochs take 2 s.
    expect(r.trace.map((p) => p.best)).toEqual([0.5, 0.5, 0.6, 0.6, 0.7, 0.7, 0.7, 0.8, 0.8, 0.9, 0.9, 0.9]);
  });

  it('bayes (TPE) never repeats a configuration, so it tries all four and reaches regret 0', () => {
    const r = simulateSweep(lookup, { method: 'tpe', seed: 3, budget: { kind: 'epochs', amount: 100 }, inFlight: 2 });
    expect(r.trials).toBe(4);
    expect(regretAt(r.trace, 'epochs', 100, best)).toBe(0);
  });

  it('percentile interpolates as numpy does', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([0, 10], 90)).toBe(9);
  });
});

describe('blockVerdict', () => {
  it('counts, per fraction, the blocks where the best sweepq median is at or better than the best optuna median', () => {
    // Two fractions, 6 seeds in blocks of 3 (a 7th seed would be left out).
    const results = [
      { engine: 'sweepq', values: [[1, 1, 1, 5, 5, 5], [0, 0, 0, 0, 0, 0]] },
      { engine: 'sweepq', values: [[3, 3, 3, 4, 4, 4], [9, 9, 9, 9, 9, 9]] },
      { engine: 'optuna', values: [[2, 2, 2, 3, 3, 3], [0, 0, 0, 1, 1, 1]] },
    ];
    expect(blockVerdict(results, 2, 3, true)).toEqual({ blocks: 2, won: [1, 2] });
    // Higher is better (hypervolume): sweepq's best is 3 then 5 against 2 then 3; 9 against 0 then 1.
    expect(blockVerdict(results, 2, 3, false)).toEqual({ blocks: 2, won: [2, 2] });
    expect(blockVerdict(results, 2, 4, true).blocks).toBe(1);
    // One engine without a method: nothing to compare.
    expect(blockVerdict(results.slice(0, 2), 2, 3, true)).toEqual({ blocks: 0, won: [0, 0] });
  });
});
