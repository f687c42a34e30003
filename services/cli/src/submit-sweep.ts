import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { LifecycleError, LifecycleErrorCode } from '@sweepq/lifecycle';
import { SpecError, parseSpec, type SweepSpec } from '@sweepq/sweep-config';
import { SAFE_ID } from '@sweepq/storage';
import { checkSpecDataset } from './dataset-check.js';
import { uploadLocalDataset, uploadProgressPrinter, withDatasetUri } from './dataset-upload.js';
import { CliError, ExitCode } from './errors.js';
import type { CliContext } from './context.js';

/** Largest spec file accepted. */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** Read and validate a spec file; a bad file is a usage error (exit 2) and nothing is enqueued. */
export async function readSpecFile(path: string): Promise<{ text: string; spec: SweepSpec }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new CliError(`${path}: no such file; pass the path of a sweep spec (YAML)`, ExitCode.Usage);
  }
  if (size > MAX_SPEC_BYTES) {
    throw new CliError(`${path}: ${size} bytes is larger than the ${MAX_SPEC_BYTES}-byte limit for a spec`, ExitCode.Usage);
  }
  const text = await readFile(path, 'utf8');
  try {
    return { text, spec: parseSpec(text, { source: path, maxBytes: MAX_SPEC_BYTES }) };
  } catch (err) {
    if (err instanceof SpecError) throw new CliError(`${path}: invalid sweep spec\n${err.message}`, ExitCode.Usage);
    throw err;
  }
}

/** A new sweep id: the spec's name as a slug, a timestamp and a random suffix, in the safe id charset. */
export function newSweepId(name: string | undefined, now: Date = new Date()): string {
  const slug = (name ?? 'sweep')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32);
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${slug || 'sweep'}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * Check the dataset (unless `checkDataset: false`; a bad one is exit 2), upload a local dataset file to the bucket
 * (unless `upload: false`; the stored spec then names its `s3://` copy, so any coordinator reads it), store the
 * spec and sweep.json, then add the sweep job. Returns the sweep id.
 */
export async function submitSweep(
  ctx: CliContext,
  text: string,
  spec: SweepSpec,
  opts: { id?: string; checkDataset?: boolean; upload?: boolean; note?: (line: string) => void; uploadProgress?: (sent: number, total: number) => void } = {},
): Promise<string> {
  const sweepId = opts.id ?? newSweepId(spec.name);
  if (!SAFE_ID.test(sweepId)) {
    throw new CliError(`--id "${sweepId}": use 1-64 characters of a-z, 0-9 and "-", starting with a letter or digit`, ExitCode.Usage);
  }
  if (opts.checkDataset !== false) await checkSpecDataset(spec.dataset, ctx.store);
  let specText = text;
  if (opts.upload !== false) {
    const up = await uploadLocalDataset(ctx.store, spec.dataset.uri, { onProgress: opts.uploadProgress ?? uploadProgressPrinter(spec.dataset.uri) });
    if (up !== undefined) {
      specText = withDatasetUri(text, up.uri);
      const note = opts.note ?? ((line: string) => process.stderr.write(`${line}\n`));
      note(`dataset ${spec.dataset.uri}: ${up.uploaded ? 'uploaded to' : 'already in the bucket as'} ${up.uri} (${(up.bytes / 1e6).toFixed(1)} MB)`);
    }
  }
  try {
    await ctx.lifecycle.submit({ sweepId, specText, ...(spec.name ? { name: spec.name } : {}) });
  } catch (err) {
    if (err instanceof LifecycleError && err.code === LifecycleErrorCode.Exists) throw new CliError(err.message, ExitCode.Usage);
    throw err;
  }
  return sweepId;
}
