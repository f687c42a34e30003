import { createHash, type Hash } from 'node:crypto';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DatasetSpec } from '@sweepq/sweep-config';
import { datasetSource, emptyValidationError, type DatasetSummary } from './check.js';
import { sortClasses, type PreparedDataset } from './prepared.js';
import { checkClasses, readDataset, type ObjectFetcher } from './readers.js';
import { int32Bytes, preparedPrefix, type SplitCounts } from './serialize.js';
import { stratifiedSplit, type SplitIndices } from './split.js';
import { KERAS_DEFAULT_FILTERS } from './tokenizer.js';
import { WordIds } from './word-ids.js';

/** Progress of {@link prepareDatasetFile}, reported about once per megabyte of input. */
export interface PrepareProgress {
  /** `read`: parsing and tokenizing the source; `encode`: counting, ordering and writing the prepared data. */
  phase: 'read' | 'encode';
  rows: number;
  /** Bytes of the source read so far, as stored. */
  bytes: number;
}

/** Options of {@link prepareDatasetFile}. */
export interface PrepareFileOptions {
  /** Folder for temporary files (a subfolder is made and removed). */
  tmpDir: string;
  /** Where the prepared data is written (format `sweepq-prepared` version 1, as {@link serializePrepared}). */
  outFile: string;
  /** Reads `s3://` URIs (streams preferred). */
  fetcher?: ObjectFetcher;
  /** Size guard of the source (see `DatasetSource.maxBytes`). */
  maxBytes?: number;
  onProgress?: (p: PrepareProgress) => void;
  /** Stops the preparation between chunks (throws the signal's reason). */
  signal?: AbortSignal;
  /** The longest stretch of work between two turns of the event loop, in ms. Default 20. */
  sliceMs?: number;
  /**
   * Int32 values per temporary bucket and per read of the token file: the memory these passes use. Default about
   * 4 Mi (16 MB), more for files of over 800 M tokens (at most 200 buckets). Tests set it small to run many buckets.
   */
  chunkValues?: number;
}

/** What {@link prepareDatasetFile} wrote. */
export interface PreparedFileInfo {
  summary: DatasetSummary;
  /** SHA-256 (hex) of the whole file: {@link preparedHash} of its bytes. */
  hash: string;
  /** Size of the file. */
  bytes: number;
  classes: string[];
  classCounts: Record<string, number>;
  /** Words in the vocabulary (fitted on the training split). */
  vocabulary: number;
}

const LIST_CHUNK = 1 << 16;

/** A growable Int32Array. */
class IntList {
  a = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
  view(): Int32Array {
    return this.a.subarray(0, this.length);
  }
}

/**
 * Int32 values appended to a file, buffered; {@link Int32File.flush} writes what was pushed since the last one. Its
 * callers wait for the flush before they push again, so the buffers are written as they are (no copy) and then
 * reused: hundreds of MB of copies and short-lived buffers were a good part of preparation's GC time.
 *
 * Every file of a preparation is in its `openFiles` set until closed, so that a preparation that fails or is aborted
 * between two passes closes them all ({@link prepareDatasetFile}'s `finally`) instead of leaving them to the
 * garbage collector (Node's DEP0137 warning, and file descriptors held until a collection).
 */
class Int32File {
  #buf = new Int32Array(LIST_CHUNK);
  #n = 0;
  #full: Int32Array<ArrayBuffer>[] = [];
  /** Buffers written, to be filled again. */
  #spare: Int32Array<ArrayBuffer>[] = [];
  /** Values pushed in all. */
  count = 0;
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly openFiles: Set<Int32File>,
  ) {
    openFiles.add(this);
  }

  static async create(path: string, openFiles: Set<Int32File>): Promise<Int32File> {
    return new Int32File(path, await open(path, 'w'), openFiles);
  }

  /** Appends all of `vs`. */
  pushAll(vs: Int32Array): void {
    let from = 0;
    while (from < vs.length) {
      if (this.#n === this.#buf.length) this.#next();
      const k = Math.min(vs.length - from, this.#buf.length - this.#n);
      this.#buf.set(vs.subarray(from, from + k), this.#n);
      this.#n += k;
      from += k;
    }
    this.count += vs.length;
  }

  #next(): void {
    this.#full.push(this.#buf);
    this.#buf = this.#spare.pop() ?? new Int32Array(LIST_CHUNK);
    this.#n = 0;
  }

  push(v: number): void {
    if (this.#n === this.#buf.length) this.#next();
    this.#buf[this.#n++] = v;
    this.count++;
  }

  async flush(): Promise<void> {
    const full = this.#full;
    const parts = [...full, this.#buf.subarray(0, this.#n)].filter((p) => p.length > 0);
    this.#full = [];
    if (parts.length > 0) await this.fh.writev(parts.map((p) => int32Bytes(p)));
    this.#n = 0;
    this.#spare.push(...full);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.release();
    // The file stays referenced until the passes end; its buffers need not.
    this.#spare = [];
    this.#buf = new Int32Array(0);
  }

  /** Closes the file without writing what is buffered (a failed preparation); does nothing once closed. */
  async release(): Promise<void> {
    if (!this.openFiles.delete(this)) return;
    await this.fh.close();
  }
}

/** Reads a file of int32 values front to back, handing out runs of `n` values (each at most `capacity`). */
class Int32Reader {
  #buf: Int32Array;
  #start = 0;
  #end = 0;
  #filePos = 0;
  private constructor(
    private readonly fh: FileHandle,
    capacity: number,
  ) {
    this.#buf = new Int32Array(capacity);
  }

  static async open(path: string, capacity: number): Promise<Int32Reader> {
    return new Int32Reader(await open(path, 'r'), capacity);
  }

  /** Values available without reading the file. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Make at least `n` values available (throws at the end of the file); returns the buffer and the start index. */
  async need(n: number): Promise<void> {
    if (this.#end - this.#start >= n) return;
    this.#buf.copyWithin(0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
    while (this.#end < n) {
      const view = new Uint8Array(this.#buf.buffer, this.#end * 4, (this.#buf.length - this.#end) * 4);
      const { bytesRead } = await this.fh.read(view, 0, view.length, this.#filePos);
      if (bytesRead === 0 || bytesRead % 4 !== 0) throw new Error('temporary token file ended early');
      this.#filePos += bytesRead;
      this.#end += bytesRead / 4;
    }
  }

  /** The next `n` values (call {@link Int32Reader.need} first); valid until the next `need`. */
  take(n: number): Int32Array {
    const out = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Gives the event loop a turn whenever `sliceMs` of work have passed. */
class Slicer {
  #last = performance.now();
  constructor(
    private readonly sliceMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {}
  async maybe(): Promise<void> {
    this.signal?.throwIfAborted();
    if (performance.now() - this.#last < this.sliceMs) return;
    await nextTurn();
    this.#last = performance.now();
    this.signal?.throwIfAborted();
  }
}

const SPLITS = ['train', 'validation', 'test'] as const;

/**
 * Prepare a dataset in bounded memory and write it to `outFile`, byte for byte what
 * `serializePrepared(prepareDataset(loadCheckedDataset(dataset).raw, …))` gives for the same file and seed (same
 * stratified split, same Keras word index, same token ids), with the same checks and messages.
 *
 * The source is read once, as a stream: each row is tokenized and its words get provisional ids (in order of first
 * appearance) written to a temporary file; only per-row integers (class, length) and the vocabulary stay in
 * memory. After the split, a pass over the temporary file counts the training words (with the place of each
 * word's first occurrence in training order, Keras' tie-break) and scatters rows into temporary buckets by their
 * position in their split; then each bucket, in order, is renumbered with the final word ids and appended. So memory
 * is about 40 bytes per row plus the vocabulary plus one bucket (at most a few tens of MB), whatever the file size.
 * The event loop gets a turn at least every `sliceMs` (the caller's lock renewals and heartbeats keep running).
 */
export async function prepareDatasetFile(dataset: DatasetSpec, opts: PrepareFileOptions): Promise<PreparedFileInfo> {
  const dir = await mkdtemp(join(opts.tmpDir, 'sweepq-prepare-'));
  const openFiles = new Set<Int32File>();
  try {
    return await prepareIn(dir, openFiles, dataset, opts);
  } finally {
    // A failed read or an abort between two passes leaves temporary files open: closed here, on every path.
    await Promise.allSettled([...openFiles].map((f) => f.release()));
    await rm(dir, { recursive: true, force: true });
  }
}

/** One preparation's working state: its temporary folder, options, event-loop slicer and progress report. */
interface Job {
  readonly dir: string;
  /** Its temporary files not closed yet. */
  readonly openFiles: Set<Int32File>;
  readonly dataset: DatasetSpec;
  readonly opts: PrepareFileOptions;
  readonly slicer: Slicer;
  readonly progress: (p: PrepareProgress) => void;
  /** Bytes of the source read so far. */
  readonly counter: { bytes: number };
}

async function prepareIn(dir: string, openFiles: Set<Int32File>, dataset: DatasetSpec, opts: PrepareFileOptions): Promise<PreparedFileInfo> {
  const job: Job = { dir, openFiles, dataset, opts, slicer: new Slicer(opts.sliceMs ?? 20, opts.signal), progress: opts.onProgress ?? (() => undefined), counter: { bytes: 0 } };
  const tokenized = await readAndTokenize(job);
  const split = await splitRows(job, tokenized);
  const placed = await placeRows(job, tokenized, split);
  const { count, first } = await countAndScatter(job, tokenized, placed);
  const { finalId, words } = wordIndex(count, first, tokenized.wordList);
  await job.slicer.maybe();
  const out = await renumberBuckets(job, split, placed, finalId);
  const { summary, classes, classCounts } = split;
  const meta: Omit<PreparedDataset, 'splits'> = {
    version: 1,
    classes,
    words,
    tokenizer: { filters: KERAS_DEFAULT_FILTERS, lower: true, split: ' ' },
    source: { uri: dataset.uri, rows: summary.rows, classCounts },
  };
  const { hash, bytes } = await writePrepared(job, meta, out);
  return { summary, hash, bytes, classes, classCounts, vocabulary: words.length };
}

/** What pass A leaves: per-row class and length, the words in order of first appearance, the token file. */
interface Tokenized {
  read: Awaited<ReturnType<typeof readDataset>>;
  wordList: string[];
  classIds: Map<string, number>;
  rowClass: IntList;
  rowLen: IntList;
  maxLen: number;
  tokensFile: Int32File;
}

/** Pass A: read, check, tokenize; provisional word ids in order of first appearance in the file. */
async function readAndTokenize(job: Job): Promise<Tokenized> {
  const { dataset, opts, slicer, progress, counter } = job;
  const wordIds = new WordIds();
  const classIds = new Map<string, number>();
  const rowClass = new IntList();
  const rowLen = new IntList();
  let maxLen = 0;
  const tokensFile = await Int32File.create(join(job.dir, 'rows.i32'), job.openFiles);
  const read = await readDataset(
    datasetSource(dataset, opts.maxBytes),
    {
      row(text, label) {
        let c = classIds.get(label);
        if (c === undefined) classIds.set(label, (c = classIds.size));
        rowClass.push(c);
        const ids = wordIds.tokenize(text);
        rowLen.push(ids.length);
        if (ids.length > maxLen) maxLen = ids.length;
        tokensFile.pushAll(ids);
      },
      async chunk() {
        await tokensFile.flush();
        progress({ phase: 'read', rows: rowClass.length, bytes: counter.bytes });
        await slicer.maybe();
      },
    },
    opts.fetcher,
    counter,
  );
  await tokensFile.close();
  checkClasses(read, dataset.uri);
  return { read, wordList: wordIds.words, classIds, rowClass, rowLen, maxLen, tokensFile };
}

/** The split and the summary: final class of each row (`y`), the split's row indices, class counts. */
interface SplitRows {
  classes: string[];
  classCounts: Record<string, number>;
  y: Int32Array;
  idx: SplitIndices;
  summary: DatasetSummary;
}

/** The split, on the labels alone (as prepareDataset and loadCheckedDataset do it). */
async function splitRows(job: Job, tokenized: Tokenized): Promise<SplitRows> {
  const { dataset, slicer } = job;
  const { read, classIds, rowClass } = tokenized;
  const n = read.rows;
  const classes = sortClasses(read.classCounts.keys());
  const finalClass = new Int32Array(classIds.size);
  for (const [name, id] of classIds) finalClass[id] = classes.indexOf(name);
  const y = new Int32Array(n);
  const rc = rowClass.view();
  for (let r = 0; r < n; r++) y[r] = finalClass[rc[r] as number] as number;
  rowClass.a = new Int32Array(0);
  const classCounts: Record<string, number> = {};
  for (const c of classes) classCounts[c] = read.classCounts.get(c) ?? 0;
  await slicer.maybe();
  const idx: SplitIndices = stratifiedSplit(y, { validation: dataset.validation_split, test: dataset.test_split, seed: dataset.seed });
  const sizes = { train: idx.train.length, validation: idx.validation.length, test: idx.test.length };
  if (sizes.validation === 0) throw emptyValidationError(dataset, n, classes, classCounts);
  const summary: DatasetSummary = { uri: dataset.uri, rows: n, classes, classCounts, sizes };
  if (read.layout !== undefined) summary.layout = read.layout;
  await slicer.maybe();
  return { classes, classCounts, y, idx, summary };
}

/** A temporary file of rows `first .. first + rows - 1` of one split. */
interface Bucket {
  split: number;
  first: number;
  rows: number;
  file: Int32File;
}

/** Where each row goes: its split, its position there, and the bucket files of each split. */
interface Placement {
  splitOf: Uint8Array;
  posOf: Int32Array;
  buckets: Bucket[][];
  /** Rows per bucket, per split. */
  perBucket: number[];
}

async function placeRows(job: Job, tokenized: Tokenized, split: SplitRows): Promise<Placement> {
  const { opts, slicer } = job;
  const { idx } = split;
  const n = tokenized.read.rows;
  const splitOf = new Uint8Array(n);
  const posOf = new Int32Array(n);
  const lens = tokenized.rowLen.view();
  const splitTokens = [0, 0, 0];
  SPLITS.forEach((s, si) => {
    const rows = idx[s];
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k] as number;
      splitOf[r] = si;
      posOf[r] = k;
      splitTokens[si] = (splitTokens[si] as number) + (lens[r] as number);
    }
  });
  await slicer.maybe();

  // Buckets: contiguous position ranges of a split, small enough to renumber in memory.
  const total = splitTokens.reduce((a, b) => a + b, 0);
  const bucketValues = opts.chunkValues ?? Math.max(4 << 20, Math.ceil(total / 200));
  const buckets: Bucket[][] = [];
  for (let si = 0; si < 3; si++) {
    const rows = idx[SPLITS[si] as (typeof SPLITS)[number]].length;
    const k = Math.max(1, Math.min(rows, Math.ceil(((splitTokens[si] as number) + 2 * rows) / bucketValues)));
    const per = Math.max(1, Math.ceil(rows / k));
    const list = [];
    for (let b = 0; b * per < rows || (b === 0 && rows === 0); b++) {
      list.push({ split: si, first: b * per, rows: Math.min(per, rows - b * per), file: await Int32File.create(join(job.dir, `bucket-${si}-${b}.i32`), job.openFiles) });
    }
    buckets.push(list);
  }
  const perBucket = buckets.map((list) => list[0]?.rows ?? 1);
  return { splitOf, posOf, buckets, perBucket };
}

/** Pass B: count training words, with the place of their first occurrence in training order, and scatter rows. */
async function countAndScatter(job: Job, tokenized: Tokenized, placed: Placement): Promise<{ count: Int32Array; first: Float64Array }> {
  const { opts, slicer, progress, counter } = job;
  const { wordList, maxLen, tokensFile } = tokenized;
  const { splitOf, posOf, buckets, perBucket } = placed;
  const n = tokenized.read.rows;
  const lens = tokenized.rowLen.view();
  const nWords = wordList.length;
  const count = new Int32Array(nWords);
  const first = new Float64Array(nWords).fill(Number.POSITIVE_INFINITY);
  const stride = maxLen + 1;
  const reader = await Int32Reader.open(tokensFile.path, Math.max(opts.chunkValues ?? 1 << 20, maxLen));
  try {
    for (let r = 0; r < n; r++) {
      const len = lens[r] as number;
      if (reader.buffered < len) {
        for (const list of buckets) for (const b of list) await b.file.flush();
        progress({ phase: 'encode', rows: r, bytes: counter.bytes });
        await slicer.maybe();
        await reader.need(len);
      }
      const tok = reader.take(len);
      const si = splitOf[r] as number;
      const pos = posOf[r] as number;
      if (si === 0) {
        const base = pos * stride;
        for (let p = 0; p < len; p++) {
          const w = tok[p] as number;
          count[w] = (count[w] as number) + 1;
          if (base + p < (first[w] as number)) first[w] = base + p;
        }
      }
      const bucket = (buckets[si] as Bucket[])[Math.floor(pos / (perBucket[si] as number))] as Bucket;
      bucket.file.push(pos);
      bucket.file.push(len);
      bucket.file.pushAll(tok);
    }
  } finally {
    await reader.close();
  }
  for (const list of buckets) for (const b of list) await b.file.close();
  await rm(tokensFile.path, { force: true });
  await slicer.maybe();
  return { count, first };
}

/**
 * Keras' word index: by count, descending; ties in order of first occurrence in the training texts. `finalId` maps a
 * provisional id to its 1-based final id (0: not a training word). Empties `wordList`.
 */
function wordIndex(count: Int32Array, first: Float64Array, wordList: string[]): { finalId: Int32Array; words: string[] } {
  const nWords = wordList.length;
  let used = 0;
  for (let w = 0; w < nWords; w++) if ((count[w] as number) > 0) used++;
  const vocab = new Int32Array(used);
  for (let w = 0, k = 0; w < nWords; w++) if ((count[w] as number) > 0) vocab[k++] = w;
  vocab.sort((a, b) => (count[b] as number) - (count[a] as number) || (first[a] as number) - (first[b] as number));
  const finalId = new Int32Array(nWords);
  const words: string[] = new Array<string>(used);
  for (let i = 0; i < used; i++) {
    const w = vocab[i] as number;
    finalId[w] = i + 1;
    words[i] = wordList[w] as string;
  }
  wordList.length = 0;
  return { finalId, words };
}

/** Per split: labels, row offsets into its tokens, and the file of its final token ids. */
interface SplitOutput {
  labels: Int32Array[];
  offsets: Int32Array[];
  outTokens: Int32File[];
}

/** Pass C: each bucket in order, renumbered, appended to its split's token file. */
async function renumberBuckets(job: Job, split: SplitRows, placed: Placement, finalId: Int32Array): Promise<SplitOutput> {
  const { slicer, progress, counter } = job;
  const { idx, y } = split;
  const n = split.summary.rows;
  const labels: Int32Array[] = [];
  const offsets: Int32Array[] = [];
  const outTokens: Int32File[] = [];
  // Final ids of a bucket, appended to the split's file in one piece (a bucket renumbers to fewer values).
  let ids = new Int32Array(0);
  for (let si = 0; si < 3; si++) {
    const rows = idx[SPLITS[si] as (typeof SPLITS)[number]];
    const lab = new Int32Array(rows.length);
    for (let k = 0; k < rows.length; k++) lab[k] = y[rows[k] as number] as number;
    labels.push(lab);
    const off = new Int32Array(rows.length + 1);
    const out = await Int32File.create(join(job.dir, `tokens-${si}.i32`), job.openFiles);
    for (const b of placed.buckets[si] as Bucket[]) {
      const data = await readInt32File(b.file.path);
      await rm(b.file.path, { force: true });
      const start = new Int32Array(b.rows);
      for (let i = 0; i < data.length; ) {
        start[(data[i] as number) - b.first] = i + 1;
        i += 2 + (data[i + 1] as number);
      }
      if (ids.length < data.length) ids = new Int32Array(data.length);
      const base = out.count;
      let k = 0;
      for (let local = 0; local < b.rows; local++) {
        const at = start[local] as number;
        const len = data[at] as number;
        for (let p = at + 1; p <= at + len; p++) {
          const f = finalId[data[p] as number] as number;
          if (f > 0) ids[k++] = f;
        }
        off[b.first + local + 1] = base + k;
      }
      out.pushAll(ids.subarray(0, k));
      await out.flush();
      progress({ phase: 'encode', rows: n, bytes: counter.bytes });
      await slicer.maybe();
    }
    await out.close();
    offsets.push(off);
    outTokens.push(out);
  }
  return { labels, offsets, outTokens };
}

/** Writes header and payload to `outFile`; the payload checksum goes into the header, so the payload is hashed first. */
async function writePrepared(job: Job, meta: Omit<PreparedDataset, 'splits'>, out: SplitOutput): Promise<{ hash: string; bytes: number }> {
  const { slicer } = job;
  const { labels, offsets, outTokens } = out;
  const payload = createHash('sha256');
  for (let si = 0; si < 3; si++) {
    payload.update(int32Bytes(labels[si] as Int32Array));
    payload.update(int32Bytes(offsets[si] as Int32Array));
    await hashFile((outTokens[si] as Int32File).path, [payload], slicer);
  }
  const counts = {} as SplitCounts;
  SPLITS.forEach((s, si) => (counts[s] = { rows: (labels[si] as Int32Array).length, tokens: (outTokens[si] as Int32File).count }));
  const prefix = preparedPrefix(meta, counts, payload.digest('hex'));
  const whole = createHash('sha256');
  const fh = await open(job.opts.outFile, 'w');
  let size = 0;
  try {
    const write = async (b: Uint8Array): Promise<void> => {
      whole.update(b);
      await fh.write(b);
      size += b.length;
    };
    await write(prefix);
    for (let si = 0; si < 3; si++) {
      await write(int32Bytes(labels[si] as Int32Array));
      await write(int32Bytes(offsets[si] as Int32Array));
      size += await hashFile((outTokens[si] as Int32File).path, [whole], slicer, fh);
      await rm((outTokens[si] as Int32File).path, { force: true });
    }
  } finally {
    await fh.close();
  }
  return { hash: whole.digest('hex'), bytes: size };
}

async function readInt32File(path: string): Promise<Int32Array> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const out = new Int32Array(size / 4);
    const view = new Uint8Array(out.buffer);
    for (let pos = 0; pos < size; ) {
      const { bytesRead } = await fh.read(view, pos, size - pos, pos);
      if (bytesRead === 0) throw new Error(`temporary file ${path} ended early`);
      pos += bytesRead;
    }
    if (int32Bytes(new Int32Array([1]))[0] !== 1) {
      const dv = new DataView(out.buffer);
      for (let i = 0; i < out.length; i++) out[i] = dv.getInt32(i * 4, true);
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** Feed a file to `hashes` (and append it to `copyTo`), a megabyte at a time; returns its size. */
async function hashFile(path: string, hashes: Hash[], slicer: Slicer, copyTo?: FileHandle): Promise<number> {
  const fh = await open(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  let pos = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return pos;
      const chunk = buf.subarray(0, bytesRead);
      for (const h of hashes) h.update(chunk);
      if (copyTo !== undefined) await copyTo.write(chunk);
      pos += bytesRead;
      await slicer.maybe();
    }
  } finally {
    await fh.close();
  }
}
