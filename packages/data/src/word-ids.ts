import { asciiSeparators, KERAS_DEFAULT_FILTERS, textToWordSequence } from './tokenizer.js';

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
/** The packed-word fields of a slot whose word is in the pool (no packed word has it: packed bytes are below 128). */
const NOT_PACKED = -1;

/** ASCII upper case to lower case, other code units unchanged (what `toLowerCase` does to ASCII text). */
function lowerUnit(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** Spreads FNV's low bits (the table is indexed by them). */
function mix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x7feb352d);
  return x ^ (x >>> 15);
}

/**
 * Words to ids in order of first appearance, for texts split with {@link textToWordSequence}'s default rules
 * (Keras' default filters, lower case, split on spaces): `tokenize(text)` gives the ids of exactly the words
 * `textToWordSequence(text)` gives, and `words[id]` is the word.
 *
 * Hand-written rather than a `Map<string, number>` fed by `textToWordSequence`, because that was the largest cost of
 * preparing a large file (a profile of 300,000 rows: half the time, most of it hashing and comparing freshly sliced
 * strings and collecting them). Here a row of ASCII text is scanned once: each word is hashed (lower-cased) as it is
 * read and looked up by its code units in an open-addressing table, and a string is made only for a word not seen
 * before. A row with any code unit of 128 or more takes the exact general path (`toLowerCase` of a non-ASCII text
 * can change its length or make ASCII letters, e.g. the Kelvin sign) and looks its words up in the same table; the
 * words its ASCII start already added are words of the row, in the same order, so the ids stay in order of first
 * appearance.
 */
export class WordIds {
  /** Word of each id. */
  readonly words: string[] = [];
  readonly #sep: Uint8Array;
  /**
   * Open addressing, linear probing, four int32 per slot: the word's hash, its id + 1 (0: empty slot), and the word
   * itself packed in two int32 when it has at most 8 code units, each 1..127 ({@link NOT_PACKED} twice otherwise).
   * Most words are that short, so their lookups read one cache line and never the pool: with a vocabulary of 100,000
   * words the lookups of rarer words miss the caches, and a miss each for slot, length and pool took twice the time.
   */
  #slots = new Int32Array(4 << 16);
  /** Per id: start in the pool and length. */
  #meta = new Int32Array(2 << 12);
  /** Code units of all words, one after the other. */
  #pool = new Uint16Array(1 << 18);
  #poolUsed = 0;
  /** Ids of the row last tokenized. */
  #row = new Int32Array(1 << 10);

  constructor() {
    const sep = asciiSeparators(KERAS_DEFAULT_FILTERS, ' ');
    if (sep === undefined) throw new Error('WordIds: the default Keras filters are expected to be ASCII');
    this.#sep = sep;
  }

  /** UTF-8 of the row last tokenized (its code units, when it is ASCII). */
  #bytes = new Uint8Array(1 << 16);
  readonly #encoder = new TextEncoder();

  /** Ids of the words of `text` (as `textToWordSequence(text)` splits it); the array is reused by the next call. */
  tokenize(text: string): Int32Array {
    // At most one word per two code units (words are separated), so the row buffer is sized once per row.
    const len = text.length;
    const most = (len >>> 1) + 1;
    if (this.#row.length < most) this.#row = new Int32Array(Math.max(most, this.#row.length * 2));
    if (this.#bytes.length < len) this.#bytes = new Uint8Array(Math.max(len, this.#bytes.length * 2));
    // An ASCII text is its UTF-8 bytes one for one (anything else makes more bytes, or does not fit): scanned as
    // bytes, which reads faster than charCodeAt on the sliced strings a CSV reader hands out.
    const bytes = this.#bytes;
    const enc = this.#encoder.encodeInto(text, bytes);
    if (enc.read !== len || enc.written !== len) return this.#general(text);
    const row = this.#row;
    const sep = this.#sep;
    let n = 0;
    let start = -1;
    let h = 0;
    for (let i = 0; i < len; i++) {
      const c = bytes[i] as number;
      if (sep[c] === 1) {
        if (start >= 0) {
          this.#packBytes(bytes, start, i);
          row[n++] = this.#find(text, start, i, h);
          start = -1;
        }
      } else {
        if (start < 0) {
          start = i;
          h = FNV_OFFSET;
        }
        h = Math.imul(h ^ lowerUnit(c), FNV_PRIME);
      }
    }
    if (start >= 0) {
      this.#packBytes(bytes, start, len);
      row[n++] = this.#find(text, start, len, h);
    }
    return row.subarray(0, n);
  }

  /** Any text: `textToWordSequence`, then each word by its code units (lower-case already, so `lowerUnit` keeps them). */
  #general(text: string): Int32Array {
    const seq = textToWordSequence(text);
    if (this.#row.length < seq.length) this.#row = new Int32Array(seq.length);
    const row = this.#row;
    for (let k = 0; k < seq.length; k++) {
      const w = seq[k] as string;
      let h = FNV_OFFSET;
      for (let i = 0; i < w.length; i++) h = Math.imul(h ^ lowerUnit(w.charCodeAt(i)), FNV_PRIME);
      this.#packUnits(w);
      row[k] = this.#find(w, 0, w.length, h, true);
    }
    return row.subarray(0, seq.length);
  }

  /** The word packed in a slot (see {@link WordIds.#slots}), set by #packBytes and #packUnits for #find. */
  #k0 = 0;
  #k1 = 0;

  /** Packs the word `bytes[a, b)`, lower-cased, if it has at most 8 bytes, each 1..127 (else {@link NOT_PACKED}). */
  #packBytes(bytes: Uint8Array, a: number, b: number): void {
    let k0 = 0;
    let k1 = 0;
    if (b - a > 8) k0 = k1 = NOT_PACKED;
    for (let k = 0; k < b - a && k0 !== NOT_PACKED; k++) {
      const c = lowerUnit(bytes[a + k] as number);
      if (c === 0 || c >= 128) k0 = k1 = NOT_PACKED;
      else if (k < 4) k0 |= c << (8 * k);
      else k1 |= c << (8 * (k - 4));
    }
    this.#k0 = k0;
    this.#k1 = k1;
  }

  /**
   * Packs the word `w` (lower-case already) through its UTF-8: a word with a code unit of 128 or more has more bytes
   * than code units, so it is not packed, as in the pool's comparison by code units.
   */
  #packUnits(w: string): void {
    const enc = this.#encoder.encodeInto(w, this.#bytes.subarray(0, 9));
    if (enc.read === w.length && enc.written === w.length) this.#packBytes(this.#bytes, 0, w.length);
    else this.#k0 = this.#k1 = NOT_PACKED;
  }

  /**
   * Id of `text[a, b)` lower-cased, whose FNV hash is `fnv` and packed form `#k0`, `#k1`; a new id if it is new.
   * `isWord`: `text` is a whole word from `textToWordSequence`, kept as it is (lower-cased already, and it holds no
   * A-Z for `lowerUnit` to change).
   */
  #find(text: string, a: number, b: number, fnv: number, isWord = false): number {
    const h = mix(fnv);
    const len = b - a;
    const k0 = this.#k0;
    const k1 = this.#k1;
    const slots = this.#slots;
    const mask = (slots.length >>> 2) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = 4 * slot;
      const v = slots[at + 1] as number;
      if (v === 0) {
        this.#insertAt(at, h, k0, k1);
        return this.#insert(isWord ? text : text.slice(a, b).toLowerCase(), k0 === NOT_PACKED);
      }
      if (slots[at] === h && slots[at + 2] === k0 && slots[at + 3] === k1 && (k0 !== NOT_PACKED || this.#same(v - 1, text, a, len))) return v - 1;
    }
  }

  #same(id: number, text: string, a: number, len: number): boolean {
    if (this.#meta[2 * id + 1] !== len) return false;
    const pool = this.#pool;
    const s = this.#meta[2 * id] as number;
    for (let k = 0; k < len; k++) if (pool[s + k] !== lowerUnit(text.charCodeAt(a + k))) return false;
    return true;
  }

  /** Fills the empty slot at `at` with the next id. */
  #insertAt(at: number, h: number, k0: number, k1: number): void {
    const slots = this.#slots;
    slots[at] = h;
    slots[at + 1] = this.words.length + 1;
    slots[at + 2] = k0;
    slots[at + 3] = k1;
  }

  /** The next id is `word`'s (its slot is filled); its code units go to the pool when it is not packed in the slot. */
  #insert(word: string, inPool: boolean): number {
    const id = this.words.length;
    if (2 * id === this.#meta.length) this.#meta = grown(this.#meta, 4 * id);
    if (inPool) {
      if (this.#poolUsed + word.length > this.#pool.length) {
        const p = new Uint16Array(Math.max(this.#pool.length * 2, this.#poolUsed + word.length));
        p.set(this.#pool.subarray(0, this.#poolUsed));
        this.#pool = p;
      }
      for (let k = 0; k < word.length; k++) this.#pool[this.#poolUsed + k] = word.charCodeAt(k);
      this.#meta[2 * id] = this.#poolUsed;
      this.#poolUsed += word.length;
    }
    this.#meta[2 * id + 1] = word.length;
    this.words.push(word);
    // At most half full: short probes.
    if (this.words.length * 8 > this.#slots.length) this.#rehash();
    return id;
  }

  #rehash(): void {
    const old = this.#slots;
    const slots = new Int32Array(old.length * 2);
    const mask = (slots.length >>> 2) - 1;
    for (let i = 0; i < old.length; i += 4) {
      if (old[i + 1] === 0) continue;
      let slot = (old[i] as number) & mask;
      while (slots[4 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots.set(old.subarray(i, i + 4), 4 * slot);
    }
    this.#slots = slots;
  }
}

function grown(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
