import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { DatasetError } from '../src/index.js';

/** Resolves to the DatasetError thrown by `p`, failing the test if it resolves or throws something else. */
export async function failure(p: Promise<unknown>): Promise<DatasetError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError, but the promise resolved');
}

/** A temporary folder for the test file (made before, removed after); returns a writer of files into it. */
export function tempFiles(prefix: string): (name: string, content: string | Uint8Array) => Promise<string> {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return async (name, content) => {
    const p = join(dir, name);
    await writeFile(p, content);
    return p;
  };
}
