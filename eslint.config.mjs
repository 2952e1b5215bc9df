// @ts-check
import eslint from '@eslint/js';
import eslintPluginPrettierRecommended from 'eslint-plugin-prettier/recommended';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['eslint.config.mjs', 'dist/', 'coverage/', '.bench-build/', 'data/', 'test/fixtures/console-dist/', 'console/dist/', 'console/src/gql/'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  eslintPluginPrettierRecommended,
  {
    languageOptions: {
      globals: {
        ...globals.node,
        ...globals.jest,
      },
      sourceType: 'commonjs',
      parserOptions: {
        projectService: {
          allowDefaultProject: ['drizzle.config.ts', 'codegen.ts'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      // An error, not `nest new`'s warning: an unhandled rejection ends the process.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unsafe-argument': 'warn',
      // A method implementing a Promise-returning interface stays async, so that a throw is a rejection.
      '@typescript-eslint/require-await': 'off',
      // Static factories such as `Model.from` use no `this`; they are handed to map() as they are.
      '@typescript-eslint/unbound-method': ['error', { ignoreStatic: true }],
      // Passing on a rejection or abort reason as received is fine; rejecting with a literal is not.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // `import x = require()` is typed like an import (a jest.spyOn target needs the module object itself).
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // The validators reject control characters on purpose.
      'no-control-regex': 'off',
      // A leading underscore names a value left unused on purpose (destructured away, a callback's slot).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      'prettier/prettier': ['error', { endOfLine: 'auto' }],
    },
  },
  {
    // The console runs in the browser, as ES modules (its own tsconfig: console/tsconfig.json).
    files: ['console/**/*.{ts,tsx,mts}'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'module' },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/helpers/**/*.ts'],
    rules: {
      // Tests read HTTP and JSON answers, which are `any`, and check their shape with expect().
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Failure messages print whatever an answer held.
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      // expect(mock.method) hands over a jest mock, not a method that needs its `this`.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
