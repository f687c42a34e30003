import type { DatasetSpec } from '@sweepq/spec';
import { DatasetError, DatasetErrorCode } from './errors.js';
import { sortClasses } from './prepared.js';
import { loadDataset, type DatasetSource, type FileLayout, type ObjectFetcher, type RawDataset } from './readers.js';
import { stratifiedSplit } from './split.js';

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
  const classes = sortClasses(raw.labels);
  const index = new Map(classes.map((c, i) => [c, i]));
  const classCounts: Record<string, number> = {};
  for (const c of classes) classCounts[c] = 0;
  const y = new Int32Array(raw.labels.length);
  raw.labels.forEach((l, i) => {
    y[i] = index.get(l) as number;
    classCounts[l] = (classCounts[l] as number) + 1;
  });
  const split = stratifiedSplit(y, { validation: dataset.validation_split, test: dataset.test_split, seed: dataset.seed });
  const sizes = { train: split.train.length, validation: split.validation.length, test: split.test.length };
  if (sizes.validation === 0) throw emptyValidationError(dataset, raw.texts.length, classes, classCounts);
  const summary: DatasetSummary = { uri: dataset.uri, rows: raw.texts.length, classes, classCounts, sizes };
  if (raw.layout !== undefined) summary.layout = raw.layout;
  return { raw, summary };
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
  const parts = [`${s.rows} rows, ${s.classes.length} classes (${counts}${more})`];
  const l = s.layout;
  if (l !== undefined) {
    parts.push(`${l.format.toUpperCase()}${l.gzip ? ' (gzip)' : ''}${l.formatFrom === 'option' ? '' : ` by ${l.formatFrom}`}`);
    if (l.header !== undefined) parts.push(l.header ? 'header row' : 'no header row');
    const noun = l.format === 'jsonl' ? 'field' : 'column';
    parts.push(`text ${noun} ${l.text}, label ${noun} ${l.label}`);
  }
  parts.push(`split ${s.sizes.train}/${s.sizes.validation}/${s.sizes.test}`);
  return parts.join('; ');
}
