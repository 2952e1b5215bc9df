import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run codegen`: typed documents for the console and internal tools, from schema.gql and the
 * operations written with `graphql(...)`. Documents are plain strings (no GraphQL parser in the browser).
 */
// test/codegen.spec.ts writes to a temporary folder (CODEGEN_OUT) and compares it with the committed one.
const output = process.env.CODEGEN_OUT ?? 'console/src/gql/';

const config: CodegenConfig = {
  schema: 'schema.gql',
  documents: ['console/src/**/*.{ts,tsx}', 'scripts/typed-client-example.ts', '!console/src/gql/**', '!console/src/**/*.spec.ts'],
  ignoreNoDocuments: false,
  generates: {
    [output]: {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        documentMode: 'string',
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
      },
    },
  },
};

export default config;
