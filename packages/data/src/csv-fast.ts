import type { TableRecord } from './tsv.js';

/**
 * The common case of a CSV file, read exactly as csv-parse reads it with the options of `csvRecords` (`delimiter
 * ','`, `relax_quotes`, `skip_empty_lines`, record delimiter auto-detected, `info` for line numbers), about ten
 * times faster; anything else is handed back to csv-parse from the start of the record where it appears.
 *
 * Hand-written, not a library, because no CSV library gives csv-parse's reading of the awkward cases together with
 * its line numbers (which error messages and the row checks cite): udsv and papaparse, the fast ones, document no
 * line number per record and read stray quotes their own way. So this reads only what is unambiguous, and csv-parse stays the one owner of
 * every other case (and of every error): records whose fields are either unquoted without `\r` or `\n` in them (a
 * `"` inside is literal, as csv-parse's `relax_quotes` reads it) or quoted with `""` for a quote and the closing
 * quote followed by `,`, the record delimiter or the end; `\n` or `\r\n` line ends (as the first one in the file);
 * every record as wide as the first. It stops ({@link CsvFastReader.stopped}) at the first record that is not so,
 * with that record unread; a differential test compares it with csv-parse on random files.
 *
 * Line numbers follow csv-parse's `info.lines`: one more for every `\r` or `\n` it visits (inside quotes too, so a
 * quoted `\r\n` counts twice; the `\n` of a `\r\n` record delimiter is skipped), and `info.empty_lines`.
 */
export class CsvFastReader {
  #buf = '';
  /** Start in `#buf` of the first record not read (the text from there on is what csv-parse is handed). */
  #pos = 0;
  /** 1: `\n` records, 2: `\r\n` records, 0: not known yet (no record delimiter seen). */
  #mode = 0;
  /** Fields of the first record; -1 before it. */
  #width = -1;
  /** csv-parse's `info.lines` at `#pos`. */
  #lines = 1;
  /** csv-parse's `info.empty_lines` at `#pos`. */
  #empty = 0;
  /** `info.lines` and `info.empty_lines` at the last record (for its successor's line number). */
  #prevEnd = 0;
  #prevEmpty = 0;
  /** Set when a record is not of the common case: the text from `#pos` on is csv-parse's. */
  stopped = false;

  /** A record that runs on for more than this many characters goes to csv-parse (bounds rescanning and buffer). */
  static readonly MAX_RECORD_CHARS = 4 * 1024 * 1024;

  /** Adds text; returns the records it completes (none once {@link CsvFastReader.stopped}). */
  push(text: string, out: TableRecord[]): void {
    this.#buf = this.#pos === 0 ? this.#buf + text : this.#buf.slice(this.#pos) + text;
    this.#pos = 0;
    if (!this.stopped) this.#scan(false, out);
  }

  /** The end of the text: the last record. */
  end(out: TableRecord[]): void {
    if (!this.stopped) this.#scan(true, out);
  }

  /**
   * After {@link CsvFastReader.stopped}: the text csv-parse reads from here, prefixed with one record as wide as the
   * first (so its field count check and line ends are the ones of the file; its record is to be skipped), and the
   * offsets that turn csv-parse's `info.lines`/`empty_lines` on that text into this file's. Without a first record
   * yet, the whole text from the start, no prefix.
   */
  rest(): { text: string; primed: boolean; lineOffset: number; emptyOffset: number } {
    const text = this.#buf.slice(this.#pos);
    this.#buf = '';
    this.#pos = 0;
    if (this.#width < 0) return { text, primed: false, lineOffset: 0, emptyOffset: 0 };
    const prime = `""${','.repeat(this.#width - 1)}${this.#mode === 2 ? '\r\n' : '\n'}`;
    // csv-parse's lines are 2 at the start of the text after the prime, and `#lines` here.
    return { text: prime + text, primed: true, lineOffset: this.#lines - 2, emptyOffset: this.#empty };
  }

  /** The line of a record that csv-parse reports with `info.lines` `end` and `info.empty_lines` `empty`. */
  lineOf(end: number, empty: number): number {
    const line = this.#prevEnd + 1 + (empty - this.#prevEmpty);
    this.#prevEnd = end;
    this.#prevEmpty = empty;
    return line;
  }

  #stop(): void {
    this.stopped = true;
  }

  #scan(final: boolean, out: TableRecord[]): void {
    const s = this.#buf;
    const n = s.length;
    let pos = this.#pos;
    // The searches go forward from `pos` only.
    this.#comma = this.#nl = this.#cr = -1;
    // `info.lines` and `info.empty_lines` at `pos`; committed with `#pos` (before the first record, empty lines are
    // not: they stay in the text csv-parse would get, which then has no prefix).
    let atLines = this.#lines;
    let atEmpty = this.#empty;
    for (;;) {
      if (pos >= n) break;
      const recStart = pos;
      let lines = atLines;
      const first = s.charCodeAt(pos);
      // An empty line.
      if (first === 10 || first === 13) {
        const d = this.#delimiterAt(s, pos, final);
        if (d === MORE) break;
        if (d === BAD) return this.#stop();
        pos += d;
        atLines++;
        atEmpty++;
        if (this.#width >= 0) this.#commit(pos, atLines, atEmpty);
        continue;
      }
      const fields: string[] = [];
      let endLen = 0;
      let complete = false;
      for (;;) {
        let c = s.charCodeAt(pos);
        if (c === 34) {
          const p = this.#quoted(s, pos, final);
          if (p === MORE) break;
          if (p === BAD) return this.#stop();
          fields.push(this.#value);
          lines += this.#valueLines;
          pos = p;
          if (pos >= n) {
            complete = true;
            break;
          }
          c = s.charCodeAt(pos);
          if (c === 44) {
            pos++;
            continue;
          }
          if (c !== 10 && c !== 13) return this.#stop();
        } else {
          const a = pos;
          pos = this.#fieldEnd(s, pos);
          c = s.charCodeAt(pos);
          fields.push(s.slice(a, pos));
          if (pos >= n) {
            if (final) complete = true;
            break;
          }
          if (c === 44) {
            // (A comma at the very end: the next turn reads the empty last field.)
            pos++;
            continue;
          }
        }
        const d = this.#delimiterAt(s, pos, final);
        if (d === MORE) break;
        if (d === BAD) return this.#stop();
        endLen = d;
        complete = true;
        break;
      }
      if (!complete) {
        if (n - recStart > CsvFastReader.MAX_RECORD_CHARS) return this.#stop();
        break;
      }
      if (this.#width < 0) this.#width = fields.length;
      else if (fields.length !== this.#width) return this.#stop();
      out.push({ fields, line: this.lineOf(lines, atEmpty) });
      pos += endLen;
      atLines = lines + (endLen > 0 ? 1 : 0);
      this.#commit(pos, atLines, atEmpty);
    }
    // Empty lines without end before a first record: csv-parse's (bounds the buffer).
    if (this.#width < 0 && n > CsvFastReader.MAX_RECORD_CHARS) this.#stop();
  }

  /** Value of the last quoted field read by {@link CsvFastReader.#quoted}, and the `\r`/`\n` in it. */
  #value = '';
  #valueLines = 0;

  /**
   * The quoted field opening at `pos`: `""` is a quote, the closing quote is the next lone one. Returns the position
   * after it ({@link MORE} when the text ends first and more may come, {@link BAD} when it never closes).
   */
  #quoted(s: string, pos: number, final: boolean): number {
    const n = s.length;
    let from = pos + 1;
    let value = '';
    let lines = 0;
    for (;;) {
      const q = s.indexOf('"', from);
      if (q < 0) return final ? BAD : MORE;
      if (q + 1 >= n && !final) return MORE;
      lines += this.#breaks(s, from, q);
      if (s.charCodeAt(q + 1) === 34) {
        value += s.slice(from, q + 1);
        from = q + 2;
        continue;
      }
      this.#value = value + s.slice(from, q);
      this.#valueLines = lines;
      return q + 1;
    }
  }

  /*
   * The next ',', '\n' and '\r' in `#buf` at or after where they were last looked for (n: none), so that the text
   * is searched with indexOf (native, many times faster than a loop over code units) and each character once.
   */
  #comma = -1;
  #nl = -1;
  #cr = -1;

  /** The first ',', '\n' or '\r' at or after `pos` (or the end of `s`). */
  #fieldEnd(s: string, pos: number): number {
    if (this.#comma < pos) this.#comma = found(s.indexOf(',', pos), s.length);
    if (this.#nl < pos) this.#nl = found(s.indexOf('\n', pos), s.length);
    if (this.#cr < pos) this.#cr = found(s.indexOf('\r', pos), s.length);
    return Math.min(this.#comma, this.#nl, this.#cr);
  }

  /** The number of '\n' and '\r' in `s[a, b)`. */
  #breaks(s: string, a: number, b: number): number {
    let k = 0;
    if (this.#nl < a) this.#nl = found(s.indexOf('\n', a), s.length);
    while (this.#nl < b) {
      k++;
      this.#nl = found(s.indexOf('\n', this.#nl + 1), s.length);
    }
    if (this.#cr < a) this.#cr = found(s.indexOf('\r', a), s.length);
    while (this.#cr < b) {
      k++;
      this.#cr = found(s.indexOf('\r', this.#cr + 1), s.length);
    }
    return k;
  }

  #commit(pos: number, lines: number, empty: number): void {
    this.#pos = pos;
    this.#lines = lines;
    this.#empty = empty;
  }

  /** Length of the record delimiter at `pos` (a `\r` or `\n` there), {@link MORE} or {@link BAD}; learns the line ends. */
  #delimiterAt(s: string, pos: number, final: boolean): number {
    const c = s.charCodeAt(pos);
    if (c === 10) {
      if (this.#mode === 0) this.#mode = 1;
      return this.#mode === 1 ? 1 : BAD;
    }
    // c === 13
    if (pos + 1 >= s.length) return final ? BAD : MORE;
    if (s.charCodeAt(pos + 1) !== 10) return BAD;
    if (this.#mode === 0) this.#mode = 2;
    return this.#mode === 2 ? 2 : BAD;
  }
}

/** `i` from indexOf, or `n` for not found. */
function found(i: number, n: number): number {
  return i < 0 ? n : i;
}

/** More text is needed to decide. */
const MORE = -1;
/** Not the common case. */
const BAD = -2;
