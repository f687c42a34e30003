/** One record of a delimited file: its fields and the 1-based line where it starts. */
export interface TableRecord {
  fields: string[];
  line: number;
}

/** `"…"` with every inner quote doubled: a field written by a CSV-style quoting writer. */
const QUOTED = /^"((?:[^"]|"")*)"$/s;

function unquote(field: string): string {
  const m = QUOTED.exec(field);
  return m === null ? field : (m[1] as string).replace(/""/g, '"');
}

/** {@link scanQuoted} reached the end of the text it has before the record ended: more text is needed. */
const MORE = 'more' as const;

/**
 * Scan one record with CSV-style quoting (tab-delimited) from `start`. Returns undefined when a field that opens
 * with `"` is not well formed (an undoubled `"` not followed by a tab or the end of the line), so the caller keeps
 * the literal reading. Unless `final` (the text is all there is), running into the end of `text` returns
 * {@link MORE}: the answer depends on text not read yet.
 */
function scanQuoted(text: string, start: number, final: boolean): { fields: string[]; end: number; lines: number } | undefined | typeof MORE {
  const fields: string[] = [];
  let i = start;
  let lines = 1;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) return final ? undefined : MORE;
        const c = text[i] as string;
        if (c === '"') {
          if (i + 1 >= text.length && !final) return MORE;
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') lines++;
        value += c;
        i++;
      }
      fields.push(value);
    } else {
      let j = i;
      while (j < text.length && text[j] !== '\t' && text[j] !== '\n') j++;
      if (j >= text.length && !final) return MORE;
      const raw = text.slice(i, j);
      fields.push(raw.endsWith('\r') && text[j] !== '\t' ? raw.slice(0, -1) : raw);
      i = j;
    }
    if (i + 1 >= text.length && !final) return MORE;
    if (text[i] === '\t') {
      i++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') i++;
    if (i >= text.length || text[i] === '\n') return { fields, end: i + 1, lines };
    return undefined;
  }
}

/** Lines whose field counts decide the usual count of a file. */
export const TSV_SAMPLE_LINES = 1000;

/** A quoted record that runs on for more than this many characters is read literally (bounds the buffer). */
const MAX_QUOTED_SPAN = 64 * 1024 * 1024;

/** The most common number of tab-separated fields over the first {@link TSV_SAMPLE_LINES} non-empty lines of `head`. */
export function usualFieldCount(head: string): number {
  const counts = new Map<number, number>();
  let seen = 0;
  for (let i = 0; i < head.length && seen < TSV_SAMPLE_LINES; ) {
    const nl = head.indexOf('\n', i);
    let l = head.slice(i, nl < 0 ? head.length : nl);
    if (l.endsWith('\r')) l = l.slice(0, -1);
    i = nl < 0 ? head.length : nl + 1;
    if (l === '') continue;
    seen++;
    const n = l.split('\t').length;
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  let usual = 0;
  let best = -1;
  for (const [n, c] of counts) if (c > best || (c === best && n > usual)) [usual, best] = [n, c];
  return usual;
}

/**
 * Incremental {@link parseTsv}: `push` text as it arrives, `end` after the last piece; each returns the records
 * completed so far. `usual` is {@link usualFieldCount} of the file's head.
 */
export class TsvRecordReader {
  #buf = '';
  #pos = 0;
  #line = 1;
  constructor(private readonly usual: number) {}

  push(text: string): TableRecord[] {
    this.#buf = this.#pos === 0 ? this.#buf + text : this.#buf.slice(this.#pos) + text;
    this.#pos = 0;
    return this.#scan(false);
  }

  end(): TableRecord[] {
    return this.#scan(true);
  }

  #scan(final: boolean): TableRecord[] {
    const out: TableRecord[] = [];
    const text = this.#buf;
    const usual = this.usual;
    while (this.#pos < text.length) {
      const start = this.#pos;
      const nl = text.indexOf('\n', start);
      if (nl < 0 && !final) break;
      const next = nl < 0 ? text.length : nl + 1;
      let l = text.slice(start, nl < 0 ? text.length : nl);
      if (l.endsWith('\r')) l = l.slice(0, -1);
      if (l === '') {
        this.#pos = next;
        this.#line++;
        continue;
      }
      const literal = l.split('\t');
      if (literal.length < usual && l.includes('"')) {
        const q = scanQuoted(text, start, final || text.length - start > MAX_QUOTED_SPAN);
        if (q === MORE) break;
        if (q !== undefined && q.fields.length === usual && q.lines > 1) {
          out.push({ fields: q.fields, line: this.#line });
          // The record spans q.lines physical lines; the next record starts after them.
          let p = start;
          for (let k = 0; k < q.lines && p < text.length; k++) {
            const e = text.indexOf('\n', p);
            p = e < 0 ? text.length : e + 1;
          }
          this.#pos = p;
          this.#line += q.lines;
          continue;
        }
      }
      out.push({ fields: literal.map(unquote), line: this.#line });
      this.#pos = next;
      this.#line++;
    }
    return out;
  }
}

/**
 * Read tab-separated text. TSV as most tools write it has no quoting, and real files (the UCI SMS Spam Collection,
 * for one) carry bare `"` characters inside their texts, so quotes are honoured only where they cannot be text:
 *
 * - a record is one line; a field that is exactly `"…"` with every inner quote doubled (as pandas, Python's csv
 *   module and spreadsheets write a field that needs quoting) is unquoted; any other `"` is a literal character;
 * - a record continues onto the next lines only when its line has fewer fields than the file's usual count (the
 *   most common number of fields per line) and reading it with CSV-style quoting, from a field that opens with `"`
 *   to a well-formed closing quote on a later line, gives exactly the usual count.
 *
 * So a message such as `"Hey" he said` stays as written, and a message that merely starts with `"` never swallows
 * the lines after it. Empty lines are skipped; `\r\n` line ends are accepted. Reads at most `maxRecords` records.
 */
export function parseTsv(text: string, maxRecords: number): TableRecord[] {
  const reader = new TsvRecordReader(usualFieldCount(text));
  reader.push(text);
  const out = reader.end();
  return out.length > maxRecords ? out.slice(0, maxRecords) : out;
}
