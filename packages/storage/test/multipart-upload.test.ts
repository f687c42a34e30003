import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore, createS3Client, startLocalS3, type LocalS3 } from '../src/index.js';

let s3: LocalS3;
let dir: string;
let store: ArtifactStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-multipart-'));
  s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['mp'] });
  store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket: 'mp', prefix: 'pfx', endpoint: s3.endpoint });
});
afterAll(async () => {
  store?.client.destroy();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('ArtifactStore.uploadFile (multipart) on the embedded server', () => {
  it('uploads a file in parts, reporting progress up to the whole size; the object has the file bytes', async () => {
    const bytes = randomBytes(12 * 1024 * 1024 + 12345);
    const file = join(dir, 'big.bin');
    await writeFile(file, bytes);
    const progress: number[] = [];
    const before = s3.requests();
    await store.uploadFile('up/big.bin', file, { partSize: 5 * 1024 * 1024, onProgress: (sent, total) => {
      expect(total).toBe(bytes.length);
      progress.push(sent);
    } });
    // Three parts: 5 MiB, 5 MiB and the rest.
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.at(-1)).toBe(bytes.length);
    const stored = await store.getRequired('up/big.bin');
    expect(stored.length).toBe(bytes.length);
    expect(sha(stored)).toBe(sha(bytes));
    // Create, three parts, complete.
    expect(s3.requests() - before).toBeGreaterThanOrEqual(5);
  });

  it('a file smaller than a part goes as one request, byte for byte', async () => {
    const bytes = randomBytes(100_000);
    const file = join(dir, 'small.bin');
    await writeFile(file, bytes);
    const before = s3.requests();
    await store.uploadFile('up/small.bin', file);
    expect(s3.requests() - before).toBe(1);
    expect(sha(await store.getRequired('up/small.bin'))).toBe(sha(bytes));
  });
});
