import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { committedResult, type Leaderboard, type ReopenedTrial, type SweepRecord, type TrialResult } from '@sweepq/results';
import { SAFE_ID, StorageError, StorageErrorCode, layout, parseS3Uri, type ArtifactStore } from '@sweepq/storage';
import type { TrialVocabulary } from '@sweepq/data';
import { CliError, ExitCode } from './errors.js';

/** Where a model was loaded from. */
export interface ModelSource {
  /** `s3://…/model.json` or a local path. */
  location: string;
  sweepId?: string;
  trialId?: string;
}

/** A saved model's files, read into memory, and where they came from. */
export interface ModelFiles {
  source: ModelSource;
  modelJson: Record<string, unknown>;
  weights: Uint8Array;
  vocab: TrialVocabulary;
}

type Reader = (name: string) => Promise<Uint8Array | undefined>;

async function readModelFiles(read: Reader, where: string, source: ModelSource): Promise<ModelFiles> {
  const text = async (name: string) => {
    const body = await read(name);
    if (body === undefined) throw new CliError(`${where}${name} does not exist; expected model.json, weights.bin and vocab.json there`, ExitCode.Failure);
    return new TextDecoder().decode(body);
  };
  const modelJson = JSON.parse(await text('model.json')) as Record<string, unknown>;
  const vocab = JSON.parse(await text('vocab.json')) as TrialVocabulary;
  const manifest = (modelJson.weightsManifest ?? []) as { paths?: string[] }[];
  const paths = manifest.flatMap((g) => g.paths ?? []);
  const shards: Uint8Array[] = [];
  for (const p of paths) {
    // Shard paths are relative to model.json; never let one climb out of the model's folder.
    if (p.includes('..') || p.startsWith('/')) throw new CliError(`${where}model.json: weight path "${p}" is not allowed`, ExitCode.Failure);
    const body = await read(p);
    if (body === undefined) throw new CliError(`${where}${p} does not exist (listed in model.json)`, ExitCode.Failure);
    shards.push(body);
  }
  const weights = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  let off = 0;
  for (const s of shards) {
    weights.set(s, off);
    off += s.byteLength;
  }
  return { source, modelJson, weights, vocab };
}

/** Whether `path` is a local folder or file (and which). */
export async function isLocal(path: string): Promise<'dir' | 'file' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Find a model's files. `target` is a sweep id (its `best/` model, or the top of its leaderboard when `best/` is not
 * written yet; `trialId` picks a trial's model instead), an `s3://bucket/key` of a model folder or its model.json, or
 * a local folder or model.json path.
 */
export async function locateModel(store: ArtifactStore | undefined, target: string, trialId?: string): Promise<ModelFiles> {
  const local = await isLocal(target);
  if (local) {
    if (trialId) throw new CliError('--trial applies to a sweep id, not to a local path', ExitCode.Usage);
    const dir = local === 'dir' ? target : dirname(target);
    const read: Reader = async (name) => {
      try {
        return await readFile(join(dir, name));
      } catch {
        return undefined;
      }
    };
    return readModelFiles(read, `${dir}/`, { location: join(dir, 'model.json') });
  }
  if (!store) throw new CliError(`"${target}" is not a local model folder`, ExitCode.Usage);
  if (target.startsWith('s3://')) {
    if (trialId) throw new CliError('--trial applies to a sweep id, not to an s3:// URI', ExitCode.Usage);
    const { bucket, key } = parseS3Uri(target);
    const folder = key.endsWith('.json') ? key.slice(0, key.lastIndexOf('/') + 1) : key.endsWith('/') || key === '' ? key : `${key}/`;
    const read: Reader = async (name) => {
      try {
        return await store.getUri(`s3://${bucket}/${folder}${name}`);
      } catch (err) {
        if (err instanceof StorageError && err.code === StorageErrorCode.NotFound) return undefined;
        throw err;
      }
    };
    return readModelFiles(read, `s3://${bucket}/${folder}`, { location: `s3://${bucket}/${folder}model.json` });
  }
  if (!SAFE_ID.test(target)) {
    throw new CliError(`"${target}" is neither a sweep id, an s3:// URI nor a local model folder`, ExitCode.Usage);
  }
  const sweepId = target;
  const sweep = await store.getJson<SweepRecord>(layout.sweepJson(sweepId));
  if (!sweep) throw new CliError(`no sweep "${sweepId}" in ${store.uri('sweeps/')}`, ExitCode.Failure);
  let prefix: string;
  let trial = trialId;
  if (trial) {
    if (!SAFE_ID.test(trial)) throw new CliError(`--trial: "${trial}" is not a trial id such as t0003`, ExitCode.Usage);
    const result = committedResult(await store.getJson<TrialResult | ReopenedTrial>(layout.result(sweepId, trial)));
    if (!result) throw new CliError(`sweep ${sweepId} has no finished trial "${trial}"`, ExitCode.Failure);
    prefix = layout.resultModelPrefix({ sweepId, trialId: trial, attemptKey: result.attemptKey });
  } else if (await store.exists(`${layout.bestPrefix(sweepId)}model.json`)) {
    prefix = layout.bestPrefix(sweepId);
    const best = await store.getJson<{ trialId?: string }>(`${prefix}best.json`);
    trial = best?.trialId ?? sweep.best?.trialId;
  } else {
    const lb = await store.getJson<Leaderboard>(layout.leaderboardJson(sweepId));
    trial = sweep.best?.trialId ?? (lb?.rows[0]?.rank != null ? lb.rows[0].trialId : undefined);
    if (!trial) throw new CliError(`sweep ${sweepId} has no best model yet (state ${sweep.state}); name one with --trial`, ExitCode.Failure);
    const result = committedResult(await store.getJson<TrialResult | ReopenedTrial>(layout.result(sweepId, trial)));
    prefix = layout.resultModelPrefix({ sweepId, trialId: trial, attemptKey: result?.attemptKey });
  }
  const read: Reader = (name) => store.get(`${prefix}${name}`);
  return readModelFiles(read, store.uri(prefix), { location: store.uri(`${prefix}model.json`), sweepId, ...(trial ? { trialId: trial } : {}) });
}
