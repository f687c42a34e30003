import { DatasetError, DatasetErrorCode, checkDatasetHead, describeDataset, type DatasetSummary } from '@sweepq/data';
import type { DatasetSpec } from '@sweepq/sweep-config';
import { StorageError, StorageErrorCode, type ArtifactStore } from '@sweepq/storage';
import { CliError, ExitCode } from './errors.js';

/** What {@link checkSpecDataset} found: the dataset's summary, or why it could not be read from here. */
export type DatasetPrecheck = { checked: true; summary: DatasetSummary; line: string } | { checked: false; line: string };

const writeStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * Check a spec's dataset before anything is enqueued, with the rules the coordinator prepares it with, on the head
 * of the file (`checkDatasetHead`: streamed, never the whole file in memory): built-in name, file exists and
 * parses, columns, the shape of the first rows; for a dataset that fits in the head also at least 2 classes and
 * rows enough for the splits. A bad dataset is a usage error (exit 2). Where this process cannot read the dataset (an `s3://` object
 * without a bucket connection, or one the credentials cannot read) it says so in one line and leaves the check to
 * the coordinator. `note` receives the one-line outcome (default: stderr, so stdout stays the command's output).
 */
export async function checkSpecDataset(dataset: DatasetSpec, store?: ArtifactStore, note: (line: string) => void = writeStderr): Promise<DatasetPrecheck> {
  const uri = dataset.uri;
  const unchecked = (why: string): DatasetPrecheck => {
    const line = `dataset ${uri}: not checked here (${why}); the coordinator checks it before any trial`;
    note(line);
    return { checked: false, line };
  };
  if (uri.startsWith('s3://') && store === undefined) return unchecked('no bucket connection');
  try {
    const summary = await checkDatasetHead(dataset, store === undefined ? undefined : (u) => store.getUriStream(u));
    const line = `dataset ${uri}: ${describeDataset(summary)}`;
    note(line);
    return { checked: true, summary, line };
  } catch (err) {
    if (err instanceof StorageError) {
      if (err.code === StorageErrorCode.NotFound) throw invalid(`${uri}: no such object; upload it first or fix dataset.uri`);
      const why: Partial<Record<StorageErrorCode, string>> = {
        [StorageErrorCode.NoSuchBucket]: 'its bucket is not visible with this command\'s endpoint and credentials',
        [StorageErrorCode.AccessDenied]: 'access denied with this command\'s credentials',
        [StorageErrorCode.Unreachable]: 'the S3 endpoint does not answer',
      };
      return unchecked(why[err.code as StorageErrorCode] ?? err.message);
    }
    // A URL this machine cannot reach now (a 5xx, a timeout) may still be reachable from the coordinator.
    if (uri.startsWith('https://') && !(err instanceof DatasetError)) return unchecked((err as Error).message);
    if (err instanceof DatasetError) {
      const local = err.code === DatasetErrorCode.NOT_FOUND && !uri.startsWith('builtin:') && !uri.startsWith('s3://');
      throw invalid(
        local
          ? `${err.message}. A local path is read by the coordinator process (relative to its working directory), ` +
              "so it must exist there too; upload the file and use s3://…, or pass sweepq submit --no-dataset-check if it exists only on the coordinator's machine"
          : err.message,
      );
    }
    throw err;
  }
}

function invalid(message: string): CliError {
  return new CliError(`invalid dataset (nothing was submitted)\ndataset: ${message}`, ExitCode.Usage);
}
