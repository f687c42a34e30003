import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.sweepq/**', 'coverage/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    rules: {
      // Packages take a logger; only services and scripts print.
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'packages take explicit options; read env in services/*/src/env.ts' },
        { object: 'process', property: 'exit', message: 'packages never exit the process' },
      ],
    },
  },
  {
    // Long functions hide their steps: split them by meaning (issue 24). Counted with comments and blank lines.
    files: [
      'services/*/src/**/*.ts',
      'services/*/bench/**/*.ts',
      'packages/{lifecycle,search,sweep-config,data,model,kernels,queue,results,runtime,storage}/src/**/*.ts',
    ],
    rules: {
      'max-lines-per-function': ['error', { max: 100 }],
    },
  },
);
