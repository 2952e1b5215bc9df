import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run codegen`: typed documents for the console and internal tools, from schema.gql and the
 * operations written with `graphql(...)`. Documents are plain strings (no GraphQL parser in the browser).
 */
const config: CodegenConfig = {
  schema: 'schema.gql',
  documents: ['console/src/**/*.{ts,tsx}', 'scripts/typed-client-example.ts', '!console/src/gql/**', '!console/src/**/*.spec.ts'],
  ignoreNoDocuments: false,
  generates: {
    'console/src/gql/': {
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
