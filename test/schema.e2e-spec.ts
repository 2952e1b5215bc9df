import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchemaSdl, SCHEMA_FILE } from '../src/schema-sdl';

describe('schema.gql', () => {
  it('matches what the code-first resolvers emit (run `npm run schema` after changing them)', async () => {
    const committed = readFileSync(join(__dirname, '..', SCHEMA_FILE), 'utf8');
    expect(await buildSchemaSdl()).toBe(committed);
  });
});
