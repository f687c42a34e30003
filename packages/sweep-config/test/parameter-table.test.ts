import { describe, expect, test } from 'vitest';

describe('the parameter table', () => {
  test("docs/spec.md's parameter table is the one in the code", async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { parameterTable } = await import('../src/index.js');
    const doc = await readFile(join(import.meta.dirname, '..', '..', '..', 'docs', 'spec.md'), 'utf8');
    expect(doc).toContain(parameterTable());
  });
});
