import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchemaSdl, SCHEMA_FILE } from '../src/schema-sdl';
import { describeWithPostgres, TEST_DATABASE_URL, useTestSchema } from './helpers/postgres';

describeWithPostgres('schema.gql', () => {
  const schema = useTestSchema('schema');

  it('matches what the code-first resolvers emit (run `npm run schema` after changing them)', async () => {
    const committed = readFileSync(join(__dirname, '..', SCHEMA_FILE), 'utf8');
    expect(await buildSchemaSdl({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema.name })).toBe(committed);
  });
});
