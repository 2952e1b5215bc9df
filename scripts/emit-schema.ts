import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchemaSdl, SCHEMA_FILE } from '../src/schema-sdl';

void buildSchemaSdl().then((sdl) => {
  writeFileSync(join(__dirname, '..', SCHEMA_FILE), sdl);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
});
