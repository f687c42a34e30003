import { describe, expect, test } from 'vitest';

describe('the parameter table', () => {
  test("README's parameter table is the one in the code", async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { parameterTable } = await import('../src/index.js');
    const readme = await readFile(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain(parameterTable());
  });
});
