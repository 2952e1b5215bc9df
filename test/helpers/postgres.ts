import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The machine's real PostgreSQL (database `test`, user `postgres`, trust auth); .ci/run makes sure it answers. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** TEST_DATABASE_URL without its password, for messages. */
export function describeTestDatabase(): string {
  const url = new URL(TEST_DATABASE_URL);
  url.password = '';
  return url.toString();
}

let reachable: Promise<boolean> | undefined;

/** Whether PostgreSQL answers a query at TEST_DATABASE_URL within a couple of seconds. */
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/**
 * `describe` for tests that need the real PostgreSQL. test/global-setup.ts decides once per run: outside CI
 * with no PostgreSQL answering they are skipped (and it says so loudly); under CI=true that fails the run.
 */
export function describeWithPostgres(name: string, body: () => void): void {
  if (process.env.TEST_POSTGRES_AVAILABLE === '0') {
    describe.skip(`${name} [SKIPPED: no PostgreSQL at ${describeTestDatabase()}]`, body);
  } else {
    describe(name, body);
  }
}

/** A schema of its own for one test file (or one app), so suites running at once never see each other's rows. */
export interface TestSchema {
  readonly name: string;
  drop(): Promise<void>;
}

export async function createTestSchema(label = 'test'): Promise<TestSchema> {
  const name = `t_${label
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 30)}_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create schema "${name}"`);
  return { name, drop: () => adminQuery(`drop schema if exists "${name}" cascade`) };
}

/**
 * A fresh schema for the enclosing describe block: created before its tests, dropped with everything in it
 * after them. Read `name` inside tests and hooks (it is set in beforeAll).
 */
export function useTestSchema(label?: string): { name: string } {
  const handle = { name: '' };
  let schema: TestSchema | undefined;
  beforeAll(async () => {
    schema = await createTestSchema(label);
    handle.name = schema.name;
  });
  afterAll(async () => {
    await schema?.drop();
  });
  return handle;
}

async function adminQuery(text: string): Promise<void> {
  const client = new Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
