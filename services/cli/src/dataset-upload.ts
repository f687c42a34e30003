import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { ArtifactStore } from '@sweepq/storage';

/** Where {@link uploadLocalDataset} put a file. */
export interface UploadedDataset {
  /** `s3://bucket/[prefix/]datasets/uploads/<sha256>/<name>`. */
  uri: string;
  key: string;
  bytes: number;
  /** False when an object with the same content address was already there (nothing was sent). */
  uploaded: boolean;
}

/** The local file a dataset URI names, or undefined for `builtin:`, `s3://` and anything not a regular file here. */
async function localFile(uri: string): Promise<{ path: string; size: number } | undefined> {
  if (uri.startsWith('builtin:') || /^[a-z][a-z0-9+.-]*:\/\//i.test(uri.replace(/^file:\/\//, ''))) return undefined;
  let path: string;
  try {
    path = resolve(uri.startsWith('file:') ? fileURLToPath(uri) : uri);
  } catch {
    return undefined;
  }
  const st = await stat(path).catch(() => undefined);
  return st?.isFile() === true ? { path, size: st.size } : undefined;
}

/**
 * Copy a local dataset file into the bucket, content addressed (`datasets/uploads/<sha256>/<name>`, skipped when
 * that object is already there), so a coordinator on another machine reads the same bytes. Streamed: hashed, then
 * sent from disk. Returns undefined when `uri` is not a local file on this machine (built-in, `s3://`, or a path
 * that exists only where the coordinator runs).
 */
export async function uploadLocalDataset(
  store: ArtifactStore,
  uri: string,
  opts: { onProgress?: (sent: number, total: number) => void } = {},
): Promise<UploadedDataset | undefined> {
  const file = await localFile(uri);
  if (file === undefined) return undefined;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file.path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  // The name keeps its extensions (the format is read from them); other characters become "_" for a plain key.
  const name = basename(file.path).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'dataset';
  const key = `datasets/uploads/${hash.digest('hex')}/${name}`;
  const there = await store.exists(key);
  // Multipart: a file of gigabytes goes in parts, several at once, each retried on its own.
  if (!there) await store.uploadFile(key, file.path, opts.onProgress ? { onProgress: opts.onProgress } : {});
  return { uri: store.uri(key), key, bytes: file.size, uploaded: !there };
}

/**
 * Progress of an upload for people: on a TTY one line rewritten in place (`uploading d.csv: 42% (210/500 MB)`),
 * elsewhere (logs, CI) a line each time another `everyPercent` is done. Quiet for files under `minBytes` (default
 * 16 MiB, one request).
 */
export function uploadProgressPrinter(
  name: string,
  out: NodeJS.WriteStream = process.stderr,
  opts: { everyPercent?: number; minBytes?: number } = {},
): (sent: number, total: number) => void {
  const every = opts.everyPercent ?? 10;
  let lastStep = -1;
  return (sent, total) => {
    if (total < (opts.minBytes ?? 16 << 20)) return;
    const pct = Math.min(100, Math.floor((100 * sent) / total));
    const line = `uploading ${name}: ${pct}% (${Math.round(sent / 1e6)}/${Math.round(total / 1e6)} MB)`;
    if (out.isTTY) {
      out.write(`\r${line}${sent >= total ? '\n' : ''}`);
      return;
    }
    const step = Math.floor(pct / every);
    if (step === lastStep) return;
    lastStep = step;
    out.write(`${line}\n`);
  };
}

/** The spec text with `dataset.uri` replaced (comments and layout kept, as far as YAML allows). */
export function withDatasetUri(specText: string, uri: string): string {
  const doc = parseDocument(specText);
  doc.setIn(['dataset', 'uri'], uri);
  return doc.toString();
}
