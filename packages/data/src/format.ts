import { formatFromExtension } from '@sweepq/sweep-config';
import { DatasetError, DatasetErrorCode } from './errors.js';

/** File formats the readers understand. */
export const FORMATS = ['csv', 'tsv', 'jsonl'] as const;
export type Format = (typeof FORMATS)[number];

/** How a format was decided, for summaries. */
export type FormatSource = 'option' | 'extension' | 'content';

/**
 * Guess the format from the first lines: a line opening with `{` is JSON Lines; a tab on every one of the first
 * (up to 20) non-empty lines is TSV; otherwise a comma on the first line is CSV. Anything else is an error that
 * asks for `dataset.format`.
 */
export function formatFromContent(uri: string, text: string): Format {
  const lines: string[] = [];
  for (let i = 0; i < text.length && lines.length < 20; ) {
    const nl = text.indexOf('\n', i);
    const line = text.slice(i, nl < 0 ? text.length : nl).replace(/\r$/, '');
    if (line.trim() !== '') lines.push(line);
    i = nl < 0 ? text.length : nl + 1;
  }
  const first = lines[0];
  if (first === undefined) return 'csv';
  const t = first.trimStart();
  if (t.startsWith('{')) return 'jsonl';
  if (t.startsWith('[')) {
    throw new DatasetError(
      DatasetErrorCode.FORMAT,
      `${uri}: the file starts with "[" (a JSON array?); expected JSON Lines (one object per line), CSV or TSV`,
      { file: uri, line: 1 },
    );
  }
  if (lines.every((l) => l.includes('\t'))) return 'tsv';
  if (first.includes(',')) return 'csv';
  throw new DatasetError(
    DatasetErrorCode.FORMAT,
    `${uri}: cannot tell the format from the content (the first line has no tab, no comma and is not a JSON object); set dataset.format to csv, tsv or jsonl`,
    { file: uri, line: 1 },
  );
}

/** `format` if given (checked), else from the extension (the spec package's rule), else from the content. */
export function resolveFormat(uri: string, format: string | undefined, text: () => string): { format: Format; from: FormatSource } {
  if (format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new DatasetError(DatasetErrorCode.FORMAT, `${uri}: dataset.format: expected "csv", "tsv" or "jsonl", got ${JSON.stringify(format)}`, { file: uri });
    }
    return { format: format as Format, from: 'option' };
  }
  const byExt = formatFromExtension(uri);
  if (byExt !== undefined) return { format: byExt, from: 'extension' };
  return { format: formatFromContent(uri, text()), from: 'content' };
}
