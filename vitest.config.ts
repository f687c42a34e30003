import { defineConfig } from 'vitest/config';

// Internal packages are consumed as TypeScript source through the "source" export condition.
const conditions = ['source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions, mainFields: ['main'] },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // Real Redis, a real S3-protocol server and real worker processes: one file at a time.
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
