import { defineConfig } from 'drizzle-kit';

/** `npm run db:generate` diffs src/database/schema.ts against the last snapshot and writes the next migration. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/database/schema.ts',
  out: './src/database/migrations',
});
