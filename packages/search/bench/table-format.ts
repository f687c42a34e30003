/**
 * The tabular benchmark's file format and search space (issue 26), shared by `make-table.ts` (which trains every
 * configuration and writes the table), `table-sim.ts` (which replays sweeps against it) and `optuna-peer.py`.
 *
 * A table is gzip-compressed JSON Lines: the first line is the header ({@link TableHeader}: the space, the dataset,
 * the command and the machine), every other line one configuration ({@link TableRow}). While `make-table.ts` runs it
 * appends one gzip member per row (a multi-member gzip file is still one gzip stream to `zlib.gunzipSync` and to
 * Python's `gzip`), so an interrupted run loses at most the configuration in training.
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { createRng } from '@sweepq/sweep-config';
import type { TrialParams } from '@sweepq/sweep-config';

/**
 * The discrete space: every value list of the model's real hyperparameters. The full product has 19,440
 * configurations; a table holds a seeded random subset of it ({@link sampleConfigIds}).
 */
export const TABLE_SPACE = {
  learning_rate: [3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
  optimizer: ['adam', 'rmsprop', 'sgd'],
  embedding_dim: [8, 16, 32],
  lstm_units: [8, 16, 32],
  dropout: [0, 0.2, 0.4],
  batch_size: [32, 64],
  max_words: [500, 2000, 8000],
  lstm_layers: [1, 2],
  bidirectional: [false, true],
  cell: ['lstm', 'gru'],
} as const satisfies { [K in keyof TrialParams]?: ReadonlyArray<TrialParams[K]> };

export type SpaceName = keyof typeof TABLE_SPACE;
export const SPACE_NAMES = Object.keys(TABLE_SPACE) as SpaceName[];
/** Parameter values of one configuration, by name (a subset of {@link TrialParams}). */
export type TableConfig = { [K in SpaceName]: (typeof TABLE_SPACE)[K][number] };

/** Size of the full product of {@link TABLE_SPACE}. */
export function spaceSize(space: Readonly<Record<string, readonly unknown[]>> = TABLE_SPACE): number {
  return Object.values(space).reduce((n, v) => n * v.length, 1);
}

/** Configuration number `id` of the full product (mixed radix, the last parameter varying fastest). */
export function configOf(id: number, space: Readonly<Record<string, readonly unknown[]>> = TABLE_SPACE): Record<string, unknown> {
  const names = Object.keys(space);
  const out: Record<string, unknown> = {};
  let rest = id;
  for (let i = names.length - 1; i >= 0; i--) {
    const name = names[i] as string;
    const values = space[name] as readonly unknown[];
    out[name] = values[rest % values.length];
    rest = Math.floor(rest / values.length);
  }
  return Object.fromEntries(names.map((n) => [n, out[n]]));
}

/** `count` distinct configuration ids of the full product, drawn with `seed` (partial Fisher-Yates), in draw order. */
export function sampleConfigIds(count: number, seed: number, total: number = spaceSize()): number[] {
  const rng = createRng(seed, 0x7ab1e);
  const picked = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < Math.min(count, total); i++) {
    const j = i + Math.floor(rng.next() * (total - i));
    const atJ = picked.get(j) ?? j;
    picked.set(j, picked.get(i) ?? i);
    out.push(atJ);
  }
  return out;
}

/** First line of a table file. */
export interface TableHeader {
  kind: 'header';
  /** Format version. */
  version: 1;
  /** The dataset: its name, where it came from and which rows were used. */
  dataset: { name: string; source: string; classes: string[]; trainRows: number; validationRows: number; note: string };
  /** The space the configurations come from (value lists by parameter). */
  space: Record<string, readonly unknown[]>;
  /** Settings every configuration shares. */
  fixed: { max_len: number; epochs: number; seed: number };
  /** The command that made the table, and the machine's state when it started. */
  command: string;
  machine: { node: string; backend: string; tfjs: string; platform: string; cpus: string; cores: number; date: string; loadavg: number[] };
  /** Written by `make-table.ts --compact`: when the generation started and ended, and how it was run. */
  generation?: { started: string; finished: string; note: string };
}

/** One trained configuration. */
export interface TableRow {
  kind: 'config';
  /** Number of the configuration in the full product of the header's space. */
  id: number;
  params: Record<string, unknown>;
  /** Per epoch (index 0 is epoch 1): validation accuracy and loss, seconds the epoch took (validation included). */
  val_accuracy: number[];
  val_loss: number[];
  seconds: number[];
  /** Training loss per epoch. */
  loss: number[];
  /** True when the loss diverged (NaN): the curves stop at the last finite epoch. */
  diverged: boolean;
  /** Trainable and non-trainable weights. */
  param_count: number;
  /** Bytes of the saved model (topology JSON + weights), as a trial stores it. */
  model_bytes: number;
  /** Median milliseconds to classify one text (batch of 1), after warm-up. */
  latency_ms: number;
  /** 1-minute load average when the configuration finished (the machine is shared). */
  loadavg1: number;
}

export interface Table {
  header: TableHeader;
  rows: TableRow[];
}

/** Parse a table file's bytes (gzip or plain JSON Lines). Rows repeated by a resumed run keep their first copy. */
export function parseTable(bytes: Buffer): Table {
  const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  let header: TableHeader | undefined;
  const rows: TableRow[] = [];
  const seen = new Set<number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const rec = JSON.parse(line) as TableHeader | TableRow;
    if (rec.kind === 'header') header ??= rec;
    else if (!seen.has(rec.id)) {
      seen.add(rec.id);
      rows.push(rec);
    }
  }
  if (header === undefined) throw new Error('table: no header line; expected a first line with "kind": "header"');
  return { header, rows };
}

/** Read a table file (see {@link parseTable}). */
export function readTable(path: string): Table {
  return parseTable(readFileSync(path));
}
