import { StorageError, StorageErrorCode } from './errors.js';

/** Sweep and trial ids: lower-case letters, digits and dashes, so nothing can escape its prefix in the bucket. */
export const SAFE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Throw unless `id` is a safe sweep or trial id. */
export function assertSafeId(id: string, what: string): string {
  if (!SAFE_ID.test(id)) {
    throw new StorageError(
      StorageErrorCode.BadKey,
      `${what} "${id.slice(0, 80)}" is not allowed: use 1-64 characters of a-z, 0-9 and "-", starting with a letter or digit`,
    );
  }
  return id;
}

/**
 * Where everything lives in the bucket (relative to the store's prefix):
 *
 *     sweeps/index.html                             every sweep, with links to their reports
 *     sweeps/_active/<sweepId>                      marker of a sweep that is not finished
 *     sweeps/<sweepId>/spec.yaml, sweep.json, leaderboard.{json,csv}, report.html, best/
 *     sweeps/<sweepId>/trials/<trialId>/params.json, metrics.jsonl, checkpoint/state.json, result.json
 *     sweeps/<sweepId>/trials/<trialId>/outputs/<attemptKey>/checkpoint/eNNNN/, model/   (one folder per attempt)
 *     datasets/<hash>/shards/manifest.json, <split>-NNNNN.bin   (the prepared data in shards of whole rows)
 *     datasets/<hash>/prepared.bin   (the whole prepared file: written by older versions only, still read)
 */
export const layout = {
  /** The index of every sweep (sweep ids cannot contain a dot, so no sweep folder can clash with it). */
  sweepIndexHtml: () => 'sweeps/index.html',
  /**
   * One marker per sweep that is not finished (written at submit and at retry, removed when the sweep ends): a
   * coordinator lists these to find sweeps whose queue state Redis lost. `_` cannot start a sweep id.
   */
  activePrefix: () => 'sweeps/_active/',
  activeMarker: (sweepId: string) => `sweeps/_active/${assertSafeId(sweepId, 'sweep id')}`,
  sweepPrefix: (sweepId: string) => `sweeps/${assertSafeId(sweepId, 'sweep id')}/`,
  specYaml: (sweepId: string) => `${layout.sweepPrefix(sweepId)}spec.yaml`,
  sweepJson: (sweepId: string) => `${layout.sweepPrefix(sweepId)}sweep.json`,
  leaderboardJson: (sweepId: string) => `${layout.sweepPrefix(sweepId)}leaderboard.json`,
  leaderboardCsv: (sweepId: string) => `${layout.sweepPrefix(sweepId)}leaderboard.csv`,
  reportHtml: (sweepId: string) => `${layout.sweepPrefix(sweepId)}report.html`,
  bestPrefix: (sweepId: string) => `${layout.sweepPrefix(sweepId)}best/`,
  trialsPrefix: (sweepId: string) => `${layout.sweepPrefix(sweepId)}trials/`,
  trialPrefix: (sweepId: string, trialId: string) =>
    `${layout.sweepPrefix(sweepId)}trials/${assertSafeId(trialId, 'trial id')}/`,
  params: (s: string, t: string) => `${layout.trialPrefix(s, t)}params.json`,
  metrics: (s: string, t: string) => `${layout.trialPrefix(s, t)}metrics.jsonl`,
  checkpointPrefix: (s: string, t: string) => `${layout.trialPrefix(s, t)}checkpoint/`,
  modelPrefix: (s: string, t: string) => `${layout.trialPrefix(s, t)}model/`,
  modelJson: (s: string, t: string) => `${layout.trialPrefix(s, t)}model/model.json`,
  modelWeights: (s: string, t: string) => `${layout.trialPrefix(s, t)}model/weights.bin`,
  modelVocab: (s: string, t: string) => `${layout.trialPrefix(s, t)}model/vocab.json`,
  result: (s: string, t: string) => `${layout.trialPrefix(s, t)}result.json`,
  /** `checkpoint/state.json`: the pointer to a trial's latest checkpoint, written by compare-and-set. */
  checkpointState: (s: string, t: string) => `${layout.trialPrefix(s, t)}checkpoint/state.json`,
  /**
   * What one attempt at a trial writes besides the shared files (checkpoint epochs, the final model), under a folder
   * of its own: a late attempt can add files only there, never into the files another attempt's result names.
   */
  trialOutputsPrefix: (s: string, t: string) => `${layout.trialPrefix(s, t)}outputs/`,
  attemptOutputs: (s: string, t: string, attemptKey: string) => `${layout.trialOutputsPrefix(s, t)}${assertSafeId(attemptKey, 'attempt key')}/`,
  attemptCheckpointPrefix: (s: string, t: string, attemptKey: string) => `${layout.attemptOutputs(s, t, attemptKey)}checkpoint/`,
  /**
   * The folder of a committed trial's model: the attempt's own folder named by its `result.json` (`attemptKey`),
   * or `model/` for results written before attempts had folders.
   */
  resultModelPrefix: (r: { sweepId: string; trialId: string; attemptKey?: string | undefined }) =>
    r.attemptKey ? `${layout.attemptOutputs(r.sweepId, r.trialId, r.attemptKey)}model/` : layout.modelPrefix(r.sweepId, r.trialId),
  /** Earlier results of a retried trial, one file per retry. */
  trialAttemptsPrefix: (s: string, t: string) => `${layout.trialPrefix(s, t)}attempts/`,
  datasetPrefix: (hash: string) => `datasets/${assertSafeId(hash, 'dataset hash')}/`,
  /** Written by versions before shards were the only copy; still read, to cut shards from. */
  preparedDataset: (hash: string) => `${layout.datasetPrefix(hash)}prepared.bin`,
  /** Written after every shard of the dataset: its presence says the shards are complete. */
  datasetShardManifest: (hash: string) => `${layout.datasetPrefix(hash)}shards/manifest.json`,
  datasetShard: (hash: string, name: string) => `${layout.datasetPrefix(hash)}shards/${assertSafeId(name.replace(/\.bin$/, ''), 'shard name')}.bin`,
} as const;
