import { SweepqError } from '@sweepq/runtime/errors';

/** Stable, machine-readable codes carried by {@link DatasetError}. */
export const DatasetErrorCode = {
  /** The file, object or built-in dataset does not exist. */
  NOT_FOUND: 'DATASET_NOT_FOUND',
  /** The configured text or label column is not in the header (or first JSONL object). */
  COLUMN_MISSING: 'DATASET_COLUMN_MISSING',
  /** No data rows at all. */
  EMPTY: 'DATASET_EMPTY',
  /** Fewer than two distinct labels. */
  ONE_CLASS: 'DATASET_ONE_CLASS',
  /** One row is unusable (empty text, missing label, wrong field count, not an object, ...). */
  BAD_ROW: 'DATASET_BAD_ROW',
  /** The file is larger than `maxBytes`. */
  TOO_LARGE: 'DATASET_TOO_LARGE',
  /** The format is unknown or the file cannot be parsed as the format. */
  FORMAT: 'DATASET_FORMAT',
  /** The URI scheme is unsupported, or an `s3://` URI was given without a fetcher. */
  SOURCE: 'DATASET_SOURCE',
  /** A serialized prepared dataset or a vocabulary failed validation. */
  CORRUPT: 'DATASET_CORRUPT',
  /** An option passed by the caller is out of range (split fractions, max_len, ...). */
  OPTIONS: 'DATASET_OPTIONS',
} as const;
export type DatasetErrorCode = (typeof DatasetErrorCode)[keyof typeof DatasetErrorCode];

/** Where in a dataset a problem was found; every field is optional. */
export interface DatasetErrorContext {
  /** File name or URI as the user wrote it. */
  readonly file?: string;
  /** 1-based data row (the header is not counted). */
  readonly row?: number;
  /** 1-based physical line in the file where the row starts. */
  readonly line?: number;
  /** Column (CSV/TSV) or field (JSONL) name. */
  readonly column?: string;
}

/**
 * Every deliberate failure of this package. The message names the file, the row/line, the column, what was
 * expected and what was found; the same facts are available as readonly fields. Bad data is deterministic:
 * callers should not retry on a `DatasetError`.
 */
export class DatasetError extends SweepqError implements DatasetErrorContext {
  declare readonly code: DatasetErrorCode;
  readonly file?: string;
  readonly row?: number;
  readonly line?: number;
  readonly column?: string;

  constructor(code: DatasetErrorCode, message: string, context: DatasetErrorContext = {}, options?: { cause?: unknown }) {
    super(code, message, options);
    if (context.file !== undefined) this.file = context.file;
    if (context.row !== undefined) this.row = context.row;
    if (context.line !== undefined) this.line = context.line;
    if (context.column !== undefined) this.column = context.column;
  }
}
