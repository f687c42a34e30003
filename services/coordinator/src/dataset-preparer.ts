import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDatasetFile } from '@sweepq/data';
import type { Logger } from '@sweepq/runtime';
import type { DatasetSpec } from '@sweepq/spec';
import { layout, type ArtifactStore } from '@sweepq/storage';
import type { SweepRecord } from '@sweepq/results';

/** Settings of {@link prepareSweepDataset} (from the coordinator's environment). */
export interface DatasetPreparerOptions {
  /** Refuse source files larger than this many bytes (stored and decompressed); default the data package's 64 GiB. */
  maxBytes?: number;
  /** Folder for the temporary files of a preparation; default the OS temporary folder. */
  tmpDir?: string;
  /** Stops the preparation (shutdown, lock lost). */
  signal?: AbortSignal;
}

/**
 * Read, check, tokenize, split and encode the sweep's dataset once, streamed in bounded memory and giving the event
 * loop a turn every few ms (the sweep's lock renewal and heartbeat keep running), and store it in the bucket under
 * its content hash. Trials apply their own max_words/max_len to these arrays (Keras' num_words only filters at
 * encoding). The checks are `sweepq submit`'s (one owner of the dataset rules), here over the whole file.
 */
export async function prepareSweepDataset(
  spec: DatasetSpec,
  store: ArtifactStore,
  log: Logger,
  opts: DatasetPreparerOptions = {},
): Promise<NonNullable<SweepRecord['dataset']>> {
  const t0 = Date.now();
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'sweepq-dataset-'));
  try {
    const outFile = join(dir, 'prepared.bin');
    let lastLog = t0;
    const prepared = await prepareDatasetFile(spec, {
      tmpDir: dir,
      outFile,
      fetcher: (uri) => store.getUriStream(uri),
      ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastLog < 10_000) return;
        lastLog = now;
        const mb = p.bytes / 1e6;
        log.info({ phase: p.phase, rows: p.rows, mb: Math.round(mb), mbPerS: Math.round((10 * mb) / ((now - t0) / 1000)) / 10 }, 'preparing dataset');
      },
    });
    const key = layout.preparedDataset(prepared.hash);
    if (!(await store.exists(key))) await store.putFile(key, outFile);
    const counts = Object.values(prepared.classCounts);
    const total = counts.reduce((a, b) => a + b, 0);
    const info = {
      uri: spec.uri,
      key,
      hash: prepared.hash,
      classes: prepared.classes,
      rows: prepared.summary.rows,
      classCounts: prepared.classCounts,
      sizes: prepared.summary.sizes,
      vocabulary: prepared.vocabulary,
      majorityRate: total > 0 ? Math.max(...counts) / total : 0,
    };
    log.info({ ...info, bytes: prepared.bytes, ms: Date.now() - t0 }, 'dataset prepared');
    return info;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
