import { GraphQLSchemaHost } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { createApp } from './bootstrap';
import { loadConfig } from './config/app-config';

export const SCHEMA_FILE = 'schema.gql';

const HEADER = '# Generated from the code-first resolvers by `npm run schema`. Do not edit by hand.\n\n';

/**
 * The SDL the running app serves, built by booting the real module graph (nothing is listened on), on
 * an in-memory embedded database unless `env` names another (jest cannot load the embedded engine).
 */
export async function buildSchemaSdl(env: Record<string, string | undefined> = {}): Promise<string> {
  const app = await createApp(loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: 'pglite:memory', ...env }));
  try {
    await app.init();
    const { schema } = app.get(GraphQLSchemaHost);
    return HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
  } finally {
    await app.close();
  }
}
