import { DatasetError, DatasetErrorCode } from './errors.js';
import type { TableRecord } from './tsv.js';

/** A column chosen by header name or by 0-based index. */
export type ColumnRef = string | number;

/** Where the text and the label are in a CSV/TSV table, and whether its first record is a header. */
export interface ColumnLayout {
  /** True when the first record names the columns (it is not a data row). */
  header: boolean;
  /** How `header` was decided. */
  headerFrom: 'option' | 'names' | 'labels';
  text: number;
  label: number;
  /** How the columns are named in messages: `"body"` with a header, `1` (0-based index) without. */
  textName: string;
  labelName: string;
  /** Header names, when there is a header. */
  columns?: string[];
}

/** Options of {@link resolveColumns}. */
export interface ColumnOptions {
  uri: string;
  format: 'csv' | 'tsv';
  /** true/false as configured; undefined means detect. */
  header: boolean | undefined;
  textField: ColumnRef | undefined;
  labelField: ColumnRef | undefined;
}

/** Records after the first that the heuristics look at. */
const SAMPLE = 2000;

const isNumeric = (s: string): boolean => s.trim() !== '' && Number.isFinite(Number(s));

function optionError(message: string, uri: string): DatasetError {
  return new DatasetError(DatasetErrorCode.OPTIONS, message, { file: uri });
}

/**
 * Which of two columns holds the label, from data rows only: the one with fewer distinct values (labels repeat,
 * texts rarely do), then the one with the shorter mean length. Undefined when the two look alike.
 */
function guessLabelOfTwo(rows: readonly TableRecord[], [a, b]: readonly [number, number]): number | undefined {
  const distinct = [new Set<string>(), new Set<string>()];
  const length = [0, 0];
  for (const r of rows) {
    for (const [k, c] of [[0, a], [1, b]] as const) {
      const v = (r.fields[c] ?? '').trim();
      distinct[k]?.add(v);
      length[k] = (length[k] as number) + v.length;
    }
  }
  const [d0, d1] = [distinct[0]?.size ?? 0, distinct[1]?.size ?? 0];
  if (d0 !== d1) return d0 < d1 ? a : b;
  if (length[0] !== length[1]) return (length[0] as number) < (length[1] as number) ? a : b;
  return undefined;
}

/**
 * The columns that carry data: all of a two-column table; in a wider one, those non-empty in at least half of the
 * rows after the first (so the empty trailing columns of `v1,v2,,,` exports do not count).
 */
function filledColumns(width: number, rest: readonly TableRecord[]): number[] {
  const all = Array.from({ length: width }, (_, c) => c);
  if (width <= 2 || rest.length === 0) return all;
  return all.filter((c) => 2 * rest.filter((r) => (r.fields[c] ?? '').trim() !== '').length >= rest.length);
}

/**
 * Does the first record name the columns? Decided on the label column, because labels repeat:
 * - no header if the first record's label occurs again among the labels of the records after it (it is a class);
 * - a header if the labels after it are all numbers and the first record's is not (`label` over `0`/`1`);
 * - a header if the labels after it repeat (they are classes) and the first record's does not occur among them.
 * Otherwise (too few rows, or every label distinct) undefined: the caller asks for `dataset.header`.
 */
export function looksLikeHeader(first: TableRecord, rest: readonly TableRecord[], label: number): boolean | undefined {
  const labels = rest.map((r) => (r.fields[label] ?? '').trim());
  const head = (first.fields[label] ?? '').trim();
  if (labels.length === 0) return undefined;
  if (labels.includes(head)) return false;
  if (labels.every(isNumeric) && !isNumeric(head)) return true;
  if (new Set(labels).size < labels.length) return true;
  return undefined;
}

function preview(r: TableRecord): string {
  return r.fields.map((f) => JSON.stringify(f.length > 30 ? `${f.slice(0, 30)}…` : f)).join(', ');
}

/** What the column decisions look at: the options (soft defaults resolved), the first record and a sample after it. */
interface Table {
  readonly uri: string;
  readonly opts: ColumnOptions;
  readonly records: readonly TableRecord[];
  readonly first: TableRecord;
  readonly width: number;
  /** Up to {@link SAMPLE} records after the first. */
  readonly rest: readonly TableRecord[];
  /** The columns that carry data ({@link filledColumns}). */
  readonly filled: readonly number[];
}

const optionName = (which: 'text' | 'label'): string => `dataset.${which}_field`;
const named = (f: ColumnRef | undefined): f is string => typeof f === 'string';

/** With exactly two filled columns, the one that is not `c`. */
function otherOf(t: Table, c: number): number | undefined {
  return t.filled.length === 2 && t.filled.includes(c) ? t.filled.find((x) => x !== c) : undefined;
}

/** Indices in range, names only with a header, and two different columns; throws what is wrong otherwise. */
function checkFieldOptions(t: Table): void {
  const { uri, opts, first, width } = t;
  for (const [which, f] of [['text', opts.textField], ['label', opts.labelField]] as const) {
    if (typeof f === 'number' && (!Number.isInteger(f) || f < 0)) throw optionError(`${uri}: ${optionName(which)}: expected a column name or a 0-based column index, got ${f}`, uri);
    if (typeof f === 'number' && f >= width) {
      throw new DatasetError(
        DatasetErrorCode.COLUMN_MISSING,
        `${uri}: ${optionName(which)}: column index ${f} is out of range; the first row has ${width} column${width === 1 ? '' : 's'} (indices 0-${width - 1}): ${preview(first)}`,
        { file: uri, line: first.line, column: String(f) },
      );
    }
    if (named(f) && opts.header === false) {
      throw optionError(`${uri}: ${optionName(which)}: "${f}" is a column name, but dataset.header is false; give a 0-based column index instead (e.g. ${which}_field: ${which === 'text' ? 1 : 0})`, uri);
    }
  }
  if (opts.textField !== undefined && opts.textField === opts.labelField) {
    throw optionError(`${uri}: dataset.text_field and dataset.label_field are both ${JSON.stringify(opts.textField)}; expected two different columns`, uri);
  }
}

/** The index of the header column `name`, or a COLUMN_MISSING error listing the columns there are. */
function columnByName(t: Table, name: string, which: 'text' | 'label'): number {
  const { uri, opts, first, width } = t;
  const i = first.fields.indexOf(name);
  if (i >= 0) return i;
  const other = opts.format === 'csv' ? 'tab' : 'comma';
  const oneColumn =
    width === 1 && (first.fields[0] ?? '').includes(opts.format === 'csv' ? '\t' : ',')
      ? `; the first row has a single column that contains ${other}s: is this ${opts.format === 'csv' ? 'a TSV' : 'a CSV'} file? (set dataset.format)`
      : '';
  throw new DatasetError(
    DatasetErrorCode.COLUMN_MISSING,
    `${uri}: column "${name}" not found; columns are: ${first.fields.join(', ')} (set ${optionName(which)}; ` +
      `if the file has no header row, give 0-based column indices, e.g. text_field: 1, label_field: 0)${oneColumn}`,
    { file: uri, line: first.line, column: name },
  );
}

function layoutOf(t: Table, header: boolean, headerFrom: ColumnLayout['headerFrom'], text: number, label: number): ColumnLayout {
  return {
    header,
    headerFrom,
    text,
    label,
    textName: header ? `"${t.first.fields[text] ?? ''}"` : String(text),
    labelName: header ? `"${t.first.fields[label] ?? ''}"` : String(label),
    ...(header ? { columns: t.first.fields } : {}),
  };
}

/** A field given by name: the first record is the header that holds it; the other field by name or by elimination. */
function layoutFromNames(t: Table): ColumnLayout {
  const { uri, opts, first, width } = t;
  const text = named(opts.textField) ? columnByName(t, opts.textField, 'text') : opts.textField;
  const label = named(opts.labelField) ? columnByName(t, opts.labelField, 'label') : opts.labelField;
  const fill = (known: number, which: 'text' | 'label'): number => {
    const dflt = first.fields.indexOf(which);
    if (dflt >= 0 && dflt !== known) return dflt;
    const other = otherOf(t, known);
    if (other !== undefined) return other;
    throw optionError(`${uri}: ${optionName(which)} is not set and the ${width} columns (${first.fields.join(', ')}) include no "${which}"; set ${optionName(which)}`, uri);
  };
  const ti = text ?? fill(label as number, 'text');
  const li = label ?? fill(ti, 'label');
  return layoutOf(t, true, opts.header === true ? 'option' : 'names', ti, li);
}

/** No fields given: a header naming "text" and "label" (or one of them over two filled columns), else undefined. */
function layoutFromDefaultNames(t: Table): ColumnLayout | undefined {
  const { opts, first } = t;
  const ti = first.fields.indexOf('text');
  const li = first.fields.indexOf('label');
  const from = opts.header === true ? 'option' : 'names';
  if (ti >= 0 && li >= 0) return layoutOf(t, true, from, ti, li);
  // One of the two names over two filled columns: a header, and the other column has the other role.
  const ot = otherOf(t, ti);
  const ol = otherOf(t, li);
  if (ot !== undefined) return layoutOf(t, true, from, ti, ot);
  if (ol !== undefined) return layoutOf(t, true, from, ol, li);
  return undefined;
}

/** Text and label indices from the indices given, completing a missing one from two filled columns. */
function inferIndices(t: Table): { text: number; label: number } {
  const { uri, opts, first, width, filled, rest, records } = t;
  const text = opts.textField as number | undefined;
  const label = opts.labelField as number | undefined;
  if (text !== undefined && label !== undefined) return { text, label };
  const known = text ?? label;
  if (known === undefined ? filled.length !== 2 : otherOf(t, known) === undefined) {
    const what = width === 1 ? 'one column' : `${width} columns${filled.length === width ? '' : `, ${filled.length} of them filled in most rows`}`;
    const hint =
      width === 1 && opts.format === 'csv' && (first.fields[0] ?? '').includes('\t')
        ? ' (it contains tabs: is this a TSV file? set dataset.format: tsv)'
        : width === 1 && opts.format === 'tsv' && (first.fields[0] ?? '').includes(',')
          ? ' (it contains commas: is this a CSV file? set dataset.format: csv)'
          : '';
    throw optionError(
      `${uri}: cannot tell which columns hold the text and the label: the first row has ${what}${hint} (${preview(first)}); ` +
        'set dataset.text_field and dataset.label_field to header names or 0-based column indices',
      uri,
    );
  }
  if (text !== undefined) return { text, label: otherOf(t, text) as number };
  if (label !== undefined) return { text: otherOf(t, label) as number, label };
  const pair = filled as [number, number];
  const guess = guessLabelOfTwo(rest.length > 0 ? rest : records, pair);
  if (guess === undefined) {
    throw optionError(
      `${uri}: cannot tell which of the two columns is the label (they have as many distinct values and the same length); ` +
        'set dataset.text_field and dataset.label_field (0-based column indices, or header names)',
      uri,
    );
  }
  return { text: guess === pair[0] ? pair[1] : pair[0], label: guess };
}

/**
 * Decide where the text and label are and whether there is a header row.
 *
 * - `textField`/`labelField` given as names: the first record must contain them (it is the header); with
 *   `header: false` names are an error (give 0-based indices).
 * - Given as indices: used as they are; the header is taken from `header` or detected ({@link looksLikeHeader}).
 * - Not given, or the defaults `text`/`label` that no column is called: columns named `text` and `label` in the
 *   first record are used (a header). Otherwise, when two columns carry data ({@link filledColumns}), the label
 *   column is the one with fewer distinct values (shorter, if equal), the other one is the text; the header is then
 *   taken from `header` or detected. Other tables need the fields set.
 */
export function resolveColumns(records: readonly TableRecord[], options: ColumnOptions): ColumnLayout {
  const { uri } = options;
  const first = records[0];
  if (first === undefined) {
    throw new DatasetError(DatasetErrorCode.EMPTY, `${uri}: the file is empty; expected rows of text and label (with or without a header row)`, { file: uri });
  }
  const width = first.fields.length;
  const rest = records.slice(1, 1 + SAMPLE);
  // The spec's defaults `text` and `label` are soft: when the first row has no such column, the column is inferred.
  const soft = (f: ColumnRef | undefined, dflt: string): ColumnRef | undefined =>
    f === dflt && (options.header === false || !first.fields.includes(dflt)) ? undefined : f;
  const opts = { ...options, textField: soft(options.textField, 'text'), labelField: soft(options.labelField, 'label') };
  const t: Table = { uri, opts, records, first, width, rest, filled: filledColumns(width, rest) };
  checkFieldOptions(t);

  if (named(opts.textField) || named(opts.labelField)) return layoutFromNames(t);
  if (opts.textField === undefined && opts.labelField === undefined && opts.header !== false) {
    const byDefaultNames = layoutFromDefaultNames(t);
    if (byDefaultNames !== undefined) return byDefaultNames;
  }
  const { text, label } = inferIndices(t);
  if (opts.header !== undefined) return layoutOf(t, opts.header, 'option', text, label);
  const header = looksLikeHeader(first, rest, label);
  if (header === undefined) {
    throw optionError(
      `${uri}: cannot tell whether the first row (${preview(first)}) is a header: ` +
        (rest.length === 0 ? 'there are no rows after it' : 'no label repeats in the rows after it') +
        '; set dataset.header: true or false',
      uri,
    );
  }
  return layoutOf(t, header, 'labels', text, label);
}
