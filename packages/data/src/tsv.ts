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

/**
 * Scan one record with CSV-style quoting (tab-delimited) from `start`. Returns undefined when a field that opens
 * with `"` is not well formed (an undoubled `"` not followed by a tab or the end of the line), so the caller keeps
 * the literal reading.
 */
function scanQuoted(text: string, start: number): { fields: string[]; end: number; lines: number } | undefined {
  const fields: string[] = [];
  let i = start;
  let lines = 1;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) return undefined;
        const c = text[i] as string;
        if (c === '"') {
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
      const raw = text.slice(i, j);
      fields.push(raw.endsWith('\r') && text[j] !== '\t' ? raw.slice(0, -1) : raw);
      i = j;
    }
    if (text[i] === '\t') {
      i++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') i++;
    if (i >= text.length || text[i] === '\n') return { fields, end: i + 1, lines };
    return undefined;
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
  const starts: number[] = [];
  for (let i = 0; i < text.length; ) {
    starts.push(i);
    const nl = text.indexOf('\n', i);
    i = nl < 0 ? text.length : nl + 1;
  }
  const lineAt = (k: number): string => {
    const s = starts[k] as number;
    const nl = text.indexOf('\n', s);
    const raw = text.slice(s, nl < 0 ? text.length : nl);
    return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  };
  const counts = new Map<number, number>();
  for (let k = 0, seen = 0; k < starts.length && seen < 1000; k++) {
    const l = lineAt(k);
    if (l === '') continue;
    seen++;
    const n = l.split('\t').length;
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  let usual = 0;
  let best = -1;
  for (const [n, c] of counts) if (c > best || (c === best && n > usual)) [usual, best] = [n, c];

  const out: TableRecord[] = [];
  for (let k = 0; k < starts.length && out.length < maxRecords; k++) {
    const l = lineAt(k);
    if (l === '') continue;
    const literal = l.split('\t');
    if (literal.length < usual && l.includes('"')) {
      const q = scanQuoted(text, starts[k] as number);
      if (q !== undefined && q.fields.length === usual && q.lines > 1) {
        out.push({ fields: q.fields, line: k + 1 });
        k += q.lines - 1;
        continue;
      }
    }
    out.push({ fields: literal.map(unquote), line: k + 1 });
  }
  return out;
}
