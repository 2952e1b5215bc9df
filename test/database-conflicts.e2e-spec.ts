import { sql } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { DatabaseUnavailableError, whileAvailable } from '../src/database/database-errors';
import { openDatabase, type DatabaseConnection } from '../src/database/database';
import { errorCode } from './helpers/graphql-client';
import { describeWithPostgres, TEST_DATABASE_URL } from './helpers/postgres';
import { startApp, TestApp } from './helpers/test-app';
import { waitFor } from './helpers/ws-client';

/**
 * A database that answers but cannot take the statement right now: a server that only reads (a standby
 * after a failover, 25006) and a transaction the server rolled back to break a deadlock (40P01). Neither
 * changed anything and a retry may succeed, so each is 503 dependency_unavailable, not a 500. Provoked for
 * real on a database of this suite's own.
 */
const DATABASE = `r2_${randomBytes(5).toString('hex')}`;

function urlOf(database: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function superuser(text: string, values: unknown[] = []): Promise<void> {
  const client = new Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** Ends the sessions of our database only, so the pool opens new ones with the database's new settings. */
const endOurSessions = () => superuser('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [DATABASE]);

const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id balance } }`;

describeWithPostgres('a database that answers but cannot take the statement', () => {
  beforeAll(() => superuser(`create database "${DATABASE}"`));
  afterAll(() => superuser(`drop database if exists "${DATABASE}" with (force)`));

  describe('40P01: a deadlock the server broke', () => {
    let connection: DatabaseConnection;
    beforeAll(async () => {
      connection = await openDatabase({ kind: 'postgres', url: urlOf(DATABASE) }, { schema: 'deadlock' });
      await connection.db.execute(sql`create table deadlock.pair (id int primary key, n int)`);
      await connection.db.execute(sql`insert into deadlock.pair values (1, 0), (2, 0)`);
    });
    afterAll(() => connection.close());

    it('is DatabaseUnavailableError for the transaction the server chose', async () => {
      let locked = 0;
      let bothLocked!: () => void;
      const barrier = new Promise<void>((resolve) => (bothLocked = resolve));
      const crossing = (first: number, second: number) =>
        whileAvailable(() =>
          connection.db.transaction(async (tx) => {
            await tx.execute(sql`update deadlock.pair set n = n + 1 where id = ${first}`);
            if (++locked === 2) bothLocked();
            await barrier;
            await tx.execute(sql`update deadlock.pair set n = n + 1 where id = ${second}`);
          }),
        );
      const outcomes = await Promise.allSettled([crossing(1, 2), crossing(2, 1)]);
      const failures = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => outcome.reason as Error);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toBeInstanceOf(DatabaseUnavailableError);
      expect(String((failures[0] as DatabaseUnavailableError).cause)).toContain('40P01');
    });
  });

  describe('25006: a server that only reads', () => {
    const emulator = new RevenueCatEmulator();
    let app: TestApp;
    const userId = `user_ro_${randomUUID().slice(0, 8)}`;
    const adjust = () =>
      app.client.query<{ adjustCredits: { balance: number } | null }>(ADJUST, { input: { userId, amount: 1, reason: 'RO-1 standby', idempotencyKey: `ro-${randomUUID()}` } });

    beforeAll(async () => {
      await emulator.listen();
      emulator.addCustomer(userId, { CRD: 0 });
      app = await startApp({ emulator, env: { DATABASE_URL: urlOf(DATABASE), DATABASE_SCHEMA: 'gw', REVENUECAT_MAX_RETRIES: '0' } });
    });
    afterAll(async () => {
      await app?.close();
      await emulator.close();
    });

    it('answers 503 dependency_unavailable with nothing sent, and recovers when it takes writes again', async () => {
      expect((await adjust()).status).toBe(200);
      const sent = emulator.count('create_transaction', userId);
      await superuser(`alter database "${DATABASE}" set default_transaction_read_only = on`);
      try {
        await endOurSessions();
        const refused = await adjust();
        expect([refused.status, errorCode(refused)]).toEqual([503, 'dependency_unavailable']);
        expect(emulator.count('create_transaction', userId)).toBe(sent);
      } finally {
        await superuser(`alter database "${DATABASE}" reset default_transaction_read_only`);
        await endOurSessions();
      }
      await waitFor(async () => (await adjust()).status === 200, 10_000, 'writes to be taken again');
      expect(emulator.count('create_transaction', userId)).toBe(sent + 1);
    });
  });
});
