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
 *
 * A record cut across many pieces of text (a stream of tiny chunks, a long record) is read on from where the last
 * piece ended, its text so far kept in pieces: each character is scanned once and copied a bounded number of times,
 * however the text is cut ({@link CsvFastReader.scanned}).
 */
export class CsvFastReader {
  /**
   * The text being read: the character the last scan could not decide on (a `"` or `\r` it ended with), if any, and
   * the text added since.
   */
  #buf = '';
  /** Start in `#buf` of the first record not read, unless it starts in `#held`. */
  #pos = 0;
  /**
   * Text not read that is before `#buf`: the start of the record in progress (and before a first record, the empty
   * lines before it).
   */
  #held = new Pieces();
  /** Offset of `#buf` in the whole text. */
  #base = 0;
  /** 1: `\n` records, 2: `\r\n` records, 0: not known yet (no record delimiter seen). */
  #mode = 0;
  /** Fields of the first record; -1 before it. */
  #width = -1;
  /** csv-parse's `info.lines` at the first record not read. */
  #lines = 1;
  /** csv-parse's `info.empty_lines` at the first record not read. */
  #empty = 0;
  /** `info.lines` and `info.empty_lines` at the last record (for its successor's line number). */
  #prevEnd = 0;
  #prevEmpty = 0;
  /** Characters handed to the scans: each of the text once, and at most one more per piece of text added. */
  #scanned = 0;
  /** Set when a record is not of the common case: the text from the first record not read on is csv-parse's. */
  stopped = false;

  /*
   * Where the last scan stopped, to go on from there with the next text. `#state` says what is at `#at` (the start
   * of a record, of a field after a comma, inside an unquoted or a quoted field, at a record delimiter); the record in
   * progress has `#fields` so far, `#part` (the value so far of the field at `#at`), `#recLines` (`info.lines` so
   * far); `#atLines` and `#atEmpty` are `info.lines` and `info.empty_lines` at its start (before a first record they
   * count the empty lines not committed).
   */
  #state: State = REC;
  #at = 0;
  /** Offset in the whole text of the start of the record in progress. */
  #recStart = 0;
  #fields: string[] = [];
  #part = new Pieces();
  #recLines = 1;
  #atLines = 1;
  #atEmpty = 0;
  /** Whether the last record read ended with a record delimiter (not with the end of the text). */
  #delimited = false;

  /** A record that runs on for more than this many characters goes to csv-parse (bounds the text kept). */
  static readonly MAX_RECORD_CHARS = 4 * 1024 * 1024;

  /** Characters handed to the scans so far: at most the length of the text plus the number of pushes (tests check it). */
  get scanned(): number {
    return this.#scanned;
  }

  /** Adds text; returns the records it completes (none once {@link CsvFastReader.stopped}). */
  push(text: string, out: TableRecord[]): void {
    this.#buf += text;
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
    const text = this.#held.take(this.#buf.slice(this.#pos));
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
    let pos = this.#at;
    this.#scanned += n - pos;
    // The searches go forward from `pos` only.
    this.#comma = this.#nl = this.#cr = -1;
    for (;;) {
      if (this.#state === REC) {
        if (pos >= n) break;
        const first = s.charCodeAt(pos);
        // An empty line (before the first record, not committed: it stays in the text csv-parse would get, which then
        // has no prefix).
        if (first === 10 || first === 13) {
          const d = this.#delimiterAt(s, pos, final);
          if (d === MORE) break;
          if (d === BAD) return this.#stop();
          pos += d;
          this.#atLines++;
          this.#atEmpty++;
          if (this.#width >= 0) this.#commit(pos);
          continue;
        }
        this.#recStart = this.#base + pos;
        this.#recLines = this.#atLines;
        this.#fields = [];
        this.#state = FIELD;
      }
      const end = this.#record(s, pos, final);
      if (end === BAD) return this.#stop();
      if (end === MORE) {
        if (this.#base + n - this.#recStart > CsvFastReader.MAX_RECORD_CHARS) return this.#stop();
        pos = this.#at;
        break;
      }
      const fields = this.#fields;
      if (this.#width < 0) this.#width = fields.length;
      else if (fields.length !== this.#width) return this.#stop();
      out.push({ fields, line: this.lineOf(this.#recLines, this.#atEmpty) });
      this.#state = REC;
      pos = end;
      this.#atLines = this.#recLines + (this.#delimited ? 1 : 0);
      this.#commit(pos);
    }
    // Empty lines without end before a first record: csv-parse's (bounds the text kept).
    if (this.#width < 0 && this.#base + n > CsvFastReader.MAX_RECORD_CHARS) return this.#stop();
    // The text read but not committed moves to `#held`; `#buf` keeps what is after `pos` (at most one character).
    if (this.#pos < pos) this.#held.push(s.slice(this.#pos, pos));
    this.#buf = s.slice(pos);
    this.#base += pos;
    this.#pos = 0;
    this.#at = 0;
  }

  /**
   * Reads the record in progress on from `pos`, where `#state` says it is. Returns the position after it
   * (`#delimited`: whether a record delimiter ended it), {@link BAD}, or {@link MORE} with the state kept to go on
   * from `#at` with more text.
   */
  #record(s: string, pos: number, final: boolean): number {
    const n = s.length;
    const fields = this.#fields;
    for (;;) {
      const state = this.#state;
      if (state === FIELD && s.charCodeAt(pos) === 34) {
        this.#state = QUOTED;
        pos++;
      } else if (state === FIELD || state === UNQUOTED) {
        const a = pos;
        pos = this.#fieldEnd(s, pos);
        if (pos >= n && !final) {
          // (Nothing read yet after a comma: still a field start, where a `"` opens quotes.)
          if (pos > a) this.#state = UNQUOTED;
          this.#part.push(s.slice(a, pos));
          return this.#more(pos);
        }
        fields.push(this.#part.take(s.slice(a, pos)));
        if (pos >= n) return this.#end(pos, false);
        if (s.charCodeAt(pos) === 44) {
          // (A comma at the very end: the next turn reads the empty last field.)
          pos++;
          this.#state = FIELD;
        } else this.#state = DELIM;
      } else if (state === QUOTED) {
        const p = this.#quoted(s, pos, final);
        if (p < 0) return p;
        fields.push(this.#value);
        pos = p;
        if (pos >= n) return this.#end(pos, false);
        const c = s.charCodeAt(pos);
        if (c === 44) {
          pos++;
          this.#state = FIELD;
        } else if (c === 10 || c === 13) this.#state = DELIM;
        else return BAD;
      } else {
        const d = this.#delimiterAt(s, pos, final);
        if (d === MORE) return this.#more(pos);
        if (d === BAD) return BAD;
        return this.#end(pos + d, true);
      }
    }
  }

  #more(at: number): number {
    this.#at = at;
    return MORE;
  }

  #end(pos: number, delimited: boolean): number {
    this.#delimited = delimited;
    return pos;
  }

  /** Value of the last quoted field read by {@link CsvFastReader.#quoted}. */
  #value = '';

  /**
   * The quoted field on from `from` (after its opening quote, or where the last text ended in it): `""` is a quote,
   * the closing quote is the next lone one. Returns the position after it, {@link MORE} when the text ends first and
   * more may come (the value so far in `#part`), {@link BAD} when it never closes. Counts its `\r` and `\n`.
   */
  #quoted(s: string, from: number, final: boolean): number {
    const n = s.length;
    // The value read from this text (what earlier texts gave is in `#part`).
    let value = '';
    for (;;) {
      const q = s.indexOf('"', from);
      if (q < 0 && final) return BAD;
      if (q < 0 || (q + 1 >= n && !final)) {
        // The text ends inside the quotes, or at a quote that may be the first of `""`: go on from there.
        const to = q < 0 ? n : q;
        this.#recLines += this.#breaks(s, from, to);
        this.#part.push(value + s.slice(from, to));
        return this.#more(to);
      }
      this.#recLines += this.#breaks(s, from, q);
      if (s.charCodeAt(q + 1) === 34) {
        value += s.slice(from, q + 1);
        from = q + 2;
        continue;
      }
      this.#value = this.#part.take(value + s.slice(from, q));
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

  /** The first record not read starts at `pos` (with `#atLines` and `#atEmpty`). */
  #commit(pos: number): void {
    this.#pos = pos;
    this.#held.clear();
    this.#lines = this.#atLines;
    this.#empty = this.#atEmpty;
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

/**
 * Text kept in pieces and joined once, when taken: appending each piece to a string would copy all of it every time
 * it is searched (or keep a rope of millions of nodes when the pieces are tiny). Runs of many pieces are joined as
 * they come, so a text cut into single characters is kept in runs of {@link Pieces.RUN}.
 */
class Pieces {
  static readonly RUN = 1024;
  #runs: string[] = [];
  #run: string[] = [];

  push(t: string): void {
    if (t === '') return;
    this.#run.push(t);
    if (this.#run.length === Pieces.RUN) {
      this.#runs.push(this.#run.join(''));
      this.#run = [];
    }
  }

  clear(): void {
    if (this.#run.length > 0) this.#run = [];
    if (this.#runs.length > 0) this.#runs = [];
  }

  /** The pieces and then `last`, joined; empties them. */
  take(last = ''): string {
    if (this.#run.length === 0 && this.#runs.length === 0) return last;
    const all = this.#runs.concat(this.#run);
    all.push(last);
    this.#runs = [];
    this.#run = [];
    return all.join('');
  }
}

/**
 * What is at the position where a scan goes on: the start of a record, of a field (after a comma), the inside of an
 * unquoted or a quoted field, a record delimiter.
 */
const REC = 0;
const FIELD = 1;
const UNQUOTED = 2;
const QUOTED = 3;
const DELIM = 4;
type State = typeof REC | typeof FIELD | typeof UNQUOTED | typeof QUOTED | typeof DELIM;

/** `i` from indexOf, or `n` for not found. */
function found(i: number, n: number): number {
  return i < 0 ? n : i;
}

/** More text is needed to decide. */
const MORE = -1;
/** Not the common case. */
const BAD = -2;
