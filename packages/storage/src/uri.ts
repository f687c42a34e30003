import { StorageError, StorageErrorCode } from './errors.js';

/** A parsed `s3://bucket/key` URI. */
export interface S3Uri {
  bucket: string;
  key: string;
}

/** Parse `s3://bucket/key`. Throws {@link StorageError} naming the expected form. */
export function parseS3Uri(uri: string): S3Uri {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (!m) {
    throw new StorageError(StorageErrorCode.BadUri, `"${uri}" is not an S3 URI; expected s3://<bucket>/<key>`);
  }
  return { bucket: m[1]!, key: m[2]! };
}
