import type { DatasetSpec } from '@sweepq/sweep-config';
import { DatasetError, DatasetErrorCode } from './errors.js';
import { sortClasses } from './prepared.js';
import { checkClasses, loadDataset, readDataset, type DatasetSource, type FileLayout, type ObjectFetcher, type RawDataset } from './readers.js';
import { splitSizes } from './split.js';

/** What a dataset turned out to be: how it was read, its classes and the split sizes it gives. */
export interface DatasetSummary {
  uri: string;
  /** How a file was read (format, header, columns); absent for built-in datasets. */
  layout?: FileLayout;
  rows: number;
  /** Sorted as the prepared dataset sorts them. */
  classes: string[];
  classCounts: Record<string, number>;
  sizes: { train: number; validation: number; test: number };
  /**
   * Only the head of the file was read ({@link checkDatasetHead}): `rows`, `classes` and `classCounts` describe
   * that head, and `sizes` are unknown (zeros).
   */
  partial?: true;
}

/** The reader's options for a spec's `dataset` block. */
export function datasetSource(dataset: DatasetSpec, maxBytes?: number): DatasetSource {
  return {
    uri: dataset.uri,
    ...(dataset.format !== undefined ? { format: dataset.format } : {}),
    ...(dataset.header !== undefined ? { header: dataset.header } : {}),
    ...(dataset.text_field !== undefined ? { textField: dataset.text_field } : {}),
    ...(dataset.label_field !== undefined ? { labelField: dataset.label_field } : {}),
    ...(dataset.max_rows !== undefined ? { maxRows: dataset.max_rows } : {}),
    ...(maxBytes !== undefined ? { maxBytes } : {}),
  };
}

/**
 * Read a spec's `dataset` block and check it the way a sweep needs it: every rule of {@link loadDataset} (file
 * exists and parses, columns present, no empty text or label, at least two classes), plus a non-empty train and
 * validation split at the configured fractions. The CLI runs it before submitting, and the coordinator before
 * preparing, so both enforce the same rules. Throws {@link DatasetError}; fetcher errors propagate unchanged.
 */
export async function loadCheckedDataset(dataset: DatasetSpec, fetcher?: ObjectFetcher): Promise<{ raw: RawDataset; summary: DatasetSummary }> {
  const raw = await loadDataset(datasetSource(dataset), fetcher);
  const counts = new Map<string, number>();
  for (const l of raw.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return { raw, summary: summarize(dataset, raw.texts.length, counts, raw.layout) };
}

/** Classes (sorted), counts and split sizes of a whole dataset; throws when the validation split comes out empty. */
function summarize(dataset: DatasetSpec, rows: number, counts: Map<string, number>, layout: FileLayout | undefined): DatasetSummary {
  const classes = sortClasses(counts.keys());
  const classCounts: Record<string, number> = {};
  for (const c of classes) classCounts[c] = counts.get(c) ?? 0;
  const sizes = splitSizes(
    classes.map((c) => classCounts[c] as number),
    { validation: dataset.validation_split, test: dataset.test_split, seed: dataset.seed },
  );
  if (sizes.validation === 0) throw emptyValidationError(dataset, rows, classes, classCounts);
  const summary: DatasetSummary = { uri: dataset.uri, rows, classes, classCounts, sizes };
  if (layout !== undefined) summary.layout = layout;
  return summary;
}

/** Rows {@link checkDatasetHead} reads before it leaves the rest to the coordinator. */
export const HEAD_ROWS = 10_000;

/**
 * The light check `sweepq submit` and the demo run before enqueueing: the head of the file (format, header,
 * columns, and the shape of its first `headRows` rows), streamed, so a large file is neither downloaded nor held
 * in memory. When the whole dataset fits in the head, every rule of {@link loadCheckedDataset} applies (classes,
 * split sizes); otherwise the summary says `partial` and the coordinator checks the rest while it prepares.
 */
export async function checkDatasetHead(dataset: DatasetSpec, fetcher?: ObjectFetcher, headRows = HEAD_ROWS): Promise<DatasetSummary> {
  const src = datasetSource(dataset);
  src.maxRows = Math.min(dataset.max_rows ?? Number.POSITIVE_INFINITY, headRows + 1);
  const counts = new Map<string, number>();
  let rows = 0;
  const sink = {
    row(_text: string, label: string): void {
      if (rows++ < headRows) counts.set(label, (counts.get(label) ?? 0) + 1);
    },
  };
  const read = await readDataset(src, sink, fetcher);
  const layout = read.layout;
  // One class in the head says nothing about the rest of a file (it may be sorted by class).
  if (rows <= headRows) {
    checkClasses(read, dataset.uri);
    return summarize(dataset, rows, counts, layout);
  }
  const classes = sortClasses(counts.keys());
  const classCounts: Record<string, number> = {};
  for (const c of classes) classCounts[c] = counts.get(c) ?? 0;
  const summary: DatasetSummary = { uri: dataset.uri, rows: headRows, classes, classCounts, sizes: { train: 0, validation: 0, test: 0 }, partial: true };
  if (layout !== undefined) summary.layout = layout;
  return summary;
}

/** The error of a dataset whose validation split comes out empty (for {@link loadCheckedDataset} and the streaming preparation). */
export function emptyValidationError(dataset: DatasetSpec, rows: number, classes: string[], classCounts: Record<string, number>): DatasetError {
  const counts = classes.map((c) => `${c}: ${classCounts[c] ?? 0}`).join(', ');
  return new DatasetError(
    DatasetErrorCode.EMPTY,
    `${dataset.uri}: ${rows} rows (${counts}) leave the validation split empty at validation_split ${dataset.validation_split}; ` +
      (dataset.validation_split === 0
        ? 'set dataset.validation_split above 0 (trials are ranked on validation metrics)'
        : 'provide more rows (a class of 3 or more rows always gives one to validation) or raise dataset.validation_split'),
    { file: dataset.uri },
  );
}

/** One line for people: `5 rows, 2 classes (ham 3, spam 2), TSV (content), no header, text column 1, label column 0`. */
export function describeDataset(s: DatasetSummary): string {
  const counts = s.classes
    .slice(0, 8)
    .map((c) => `${c} ${s.classCounts[c] ?? 0}`)
    .join(', ');
  const more = s.classes.length > 8 ? `, … ${s.classes.length - 8} more` : '';
  const parts = [
    s.partial === true
      ? `first ${s.rows} rows checked (more follow; the coordinator checks them all), ${s.classes.length} classes so far (${counts}${more})`
      : `${s.rows} rows, ${s.classes.length} classes (${counts}${more})`,
  ];
  const l = s.layout;
  if (l !== undefined) {
    parts.push(`${l.format.toUpperCase()}${l.gzip ? ' (gzip)' : ''}${l.formatFrom === 'option' ? '' : ` by ${l.formatFrom}`}`);
    if (l.header !== undefined) parts.push(l.header ? 'header row' : 'no header row');
    const noun = l.format === 'jsonl' ? 'field' : 'column';
    parts.push(`text ${noun} ${l.text}, label ${noun} ${l.label}`);
  }
  if (s.partial !== true) parts.push(`split ${s.sizes.train}/${s.sizes.validation}/${s.sizes.test}`);
  return parts.join('; ');
}
