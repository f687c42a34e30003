export { ArtifactStore, jsonBody, createS3Client, createArtifactStore, DEFAULT_RETRY_POLICY, type RetryPolicy, type StoreHealth, type ArtifactStoreConfig, type ArtifactStoreOptions, type S3ConnectionOptions, type Body } from './artifact-store.js';
export { layout, SAFE_ID, assertSafeId } from './layout.js';
export { parseS3Uri, type S3Uri } from './uri.js';
export { StorageError, StorageErrorCode, toStorageError } from './errors.js';
export { startLocalS3, type LocalS3, type LocalS3Options } from './local-s3.js';
export { type ObjectWritten, type ObjectDeleted } from './atomic-store.js';
