import { Logger } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { DatabaseUnavailableError, whileAvailable } from '../src/database/database-errors';
import { openDatabase, queryRows, type DatabaseConnection } from '../src/database/database';
import { hashOperatorToken } from '../src/operators/operator-token';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { describeWithPostgres, TEST_DATABASE_URL } from './helpers/postgres';
import { startApp, TestApp } from './helpers/test-app';
import { connectWs, waitFor } from './helpers/ws-client';

/**
 * Every way PostgreSQL can refuse to serve, provoked for real on a database and a role of this suite's own
 * (never the shared `test` database): each is 503 dependency_unavailable (1013 on graphql-ws), nothing is
 * sent to RevenueCat, the process stays up, and the service recovers without a restart.
 */
const suffix = randomBytes(5).toString('hex');
const DATABASE = `i22c_${suffix}`;
const ROLE = `i22c_r_${suffix}`;

function urlOf(database: string, user = 'postgres'): string {
  const url = new URL(TEST_DATABASE_URL);
  url.username = user;
  url.password = '';
  url.pathname = `/${database}`;
  return url.toString();
}

/** One statement as the superuser, on the shared database (CREATE/DROP/ALTER DATABASE, roles, terminations filtered by our database). */
async function superuser<T extends Record<string, unknown> = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Ends every session of our database (only ours: filtered by datname), as an administrator or a failover does. */
async function terminateOurSessions(): Promise<number> {
  const rows = await superuser<{ ended: string }>(
    'select count(*) filter (where pg_terminate_backend(pid)) as ended from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
    [DATABASE],
  );
  await waitFor(
    async () => (await superuser<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1 and usename = $2', [DATABASE, ROLE]))[0].n === '0',
    5000,
    'our sessions to end',
  );
  return Number(rows[0].ended);
}

const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id balance replayed } }`;
const JOURNAL = `query Journal($userId: ID) { adjustments(first: 5, filter: { userId: $userId }) { nodes { id status amount } } }`;
const CREATE_OPERATOR = `mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { id } } }`;
const ME = `query { currencies { code } }`;

describeWithPostgres('the database refusing to serve, for real', () => {
  beforeAll(async () => {
    await superuser(`create role "${ROLE}" login`);
    await superuser(`create database "${DATABASE}" owner "${ROLE}"`);
  });
  afterAll(async () => {
    await superuser(`drop database if exists "${DATABASE}" with (force)`);
    await superuser(`drop role if exists "${ROLE}"`);
  });

  describe('a session ended by the server', () => {
    let connection: DatabaseConnection;
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    beforeAll(async () => {
      connection = await openDatabase({ kind: 'postgres', url: urlOf(DATABASE, ROLE) }, { schema: 'ended' });
      process.on('uncaughtException', onUncaught);
    });
    afterAll(async () => {
      process.off('uncaughtException', onUncaught);
      await connection.close();
    });

    it('does not end the process when the FATAL reaches a checked-out client with no query running; the transaction answers 503 and the pool recovers', async () => {
      const attempt = whileAvailable(() =>
        connection.db.transaction(async (tx) => {
          const [{ pid }] = await queryRows<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`);
          // The server ends the session while this transaction waits between two statements.
          await terminateOurSessions();
          expect(pid).toBeGreaterThan(0);
          // The FATAL has arrived on the idle socket by now (the backend is gone); only then ask again.
          await new Promise((resolve) => setImmediate(resolve));
          await tx.execute(sql`select 1`);
        }),
      );
      await expect(attempt).rejects.toBeInstanceOf(DatabaseUnavailableError);
      expect(uncaught).toEqual([]);
      const [{ one }] = await queryRows<{ one: number }>(connection.db, sql`select 1 as one`);
      expect(one).toBe(1);
    });
  });

  describe('through the gateway', () => {
    const emulator = new RevenueCatEmulator();
    let app: TestApp;
    let agent: GraphQLClient;
    let agentToken: string;
    const userId = `user_dbfail_${randomUUID().slice(0, 8)}`;
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);

    beforeAll(async () => {
      await emulator.listen();
      emulator.addCustomer(userId, { CRD: 0 });
      app = await startApp({ emulator, env: { DATABASE_URL: urlOf(DATABASE, ROLE), DATABASE_SCHEMA: 'gw', REVENUECAT_MAX_RETRIES: '0' } });
      const created = await app.client.query<{ createOperator: { token: string } }>(CREATE_OPERATOR, { input: { name: `dbfail ${suffix}`, role: 'AGENT' } });
      agentToken = created.body.data!.createOperator.token;
      agent = app.client.withToken(agentToken);
      process.on('uncaughtException', onUncaught);
    });
    afterAll(async () => {
      process.off('uncaughtException', onUncaught);
      await app?.close();
      await emulator.close();
    });
    afterEach(() => expect(uncaught).toEqual([]));

    const adjust = (client: GraphQLClient, amount = 1) =>
      client.query<{ adjustCredits: { balance: number } | null }>(ADJUST, { input: { userId, amount, reason: 'DBF-1 failover', idempotencyKey: `dbf-${randomUUID()}` } });

    /** Every operation that needs the database answers 503 dependency_unavailable, with nothing sent upstream. */
    async function expectUnavailable(): Promise<void> {
      // Past the operator-token cache's second, so that the token must be looked up.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const sent = emulator.count('create_transaction', userId);
      const answers: Array<[number, unknown]> = [];
      for (const response of [await adjust(app.client), await app.client.query(JOURNAL, { userId }), await agent.query(ME), await adjust(agent)] as GraphQLResponse[]) {
        answers.push([response.status, errorCode(response)]);
      }
      expect(answers).toEqual([
        [503, 'dependency_unavailable'],
        [503, 'dependency_unavailable'],
        [503, 'dependency_unavailable'],
        [503, 'dependency_unavailable'],
      ]);
      // The operator token refused before GraphQL runs still has the catalogue's body.
      const refused = await agent.query(ME);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'dependency_unavailable', status: 503, requestId: expect.any(String) });
      const ws = connectWs(app.url, `Bearer ${agentToken}`);
      expect(await ws.closed).toEqual({ code: 1013, reason: 'dependency_unavailable' });
      expect(emulator.count('create_transaction', userId)).toBe(sent);
    }

    /** Back without a restart: every operation that was refused works again. */
    async function expectRecovered(): Promise<void> {
      await waitFor(async () => (await adjust(app.client)).status === 200, 10_000, 'the gateway to recover');
      expect((await adjust(agent)).body.data?.adjustCredits?.balance).toBeGreaterThan(0);
      const journal = await agent.query<{ adjustments: { nodes: unknown[] } }>(JOURNAL, { userId });
      expect(journal.body.data?.adjustments.nodes.length).toBeGreaterThan(0);
      const ws = connectWs(app.url, `Bearer ${agentToken}`);
      await ws.connected;
      await ws.dispose();
    }

    it('55000: a database with ALLOW_CONNECTIONS false and its sessions ended', async () => {
      expect((await adjust(agent)).status).toBe(200);
      await superuser(`alter database "${DATABASE}" allow_connections false`);
      try {
        await terminateOurSessions();
        await expectUnavailable();
      } finally {
        await superuser(`alter database "${DATABASE}" allow_connections true`);
      }
      await expectRecovered();
    });

    it('53300: a role over its connection limit', async () => {
      await superuser(`alter role "${ROLE}" connection limit 0`);
      try {
        await terminateOurSessions();
        await expectUnavailable();
      } finally {
        await superuser(`alter role "${ROLE}" connection limit -1`);
      }
      await expectRecovered();
    });

    it('57P01: sessions ended under a steady trickle of requests (about 20 a second): never a 500, the process stays up', async () => {
      const answers = new Map<string, number>();
      let running = true;
      const trickle = (async () => {
        const inFlight: Promise<void>[] = [];
        while (running) {
          inFlight.push(
            Promise.all([adjust(agent), agent.query(JOURNAL, { userId })]).then((responses) => {
              for (const response of responses) {
                const key = `${response.status} ${String(errorCode(response) ?? 'ok')}`;
                answers.set(key, (answers.get(key) ?? 0) + 1);
              }
            }),
          );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await Promise.all(inFlight);
      })();
      try {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await superuser(`alter database "${DATABASE}" allow_connections false`);
        for (let round = 0; round < 5; round++) {
          await terminateOurSessions();
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        await new Promise((resolve) => setTimeout(resolve, 1500));
      } finally {
        await superuser(`alter database "${DATABASE}" allow_connections true`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      running = false;
      await trickle;
      const codes = [...answers.keys()].sort();
      expect(codes.every((code) => code === '200 ok' || code === '503 dependency_unavailable')).toBe(true);
      expect(answers.get('503 dependency_unavailable')).toBeGreaterThan(0);
      expect(uncaught).toEqual([]);
      await expectRecovered();
    });

    it('57P01: a statement running when its session is ended', async () => {
      const admin = new Client({ connectionString: urlOf(DATABASE), connectionTimeoutMillis: 5000 });
      admin.on('error', () => undefined);
      await admin.connect();
      const sent = emulator.count('create_transaction', userId);
      try {
        await admin.query('begin');
        await admin.query('lock table gw.adjustments in access exclusive mode');
        const blocked = adjust(app.client);
        await waitFor(
          async () => (await admin.query(`select 1 from pg_stat_activity where datname = $1 and usename = $2 and wait_event_type = 'Lock'`, [DATABASE, ROLE])).rowCount! > 0,
          5000,
          'the adjustment to wait for the lock',
        );
        await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and usename = $2`, [DATABASE, ROLE]);
        const response = await blocked;
        expect([response.status, errorCode(response)]).toEqual([503, 'dependency_unavailable']);
      } finally {
        await admin.query('rollback').catch(() => undefined);
        await admin.end();
      }
      expect(emulator.count('create_transaction', userId)).toBe(sent);
      await expectRecovered();
    });

    it('logs a failed statement by its name and SQLSTATE, never its parameters', async () => {
      const admin = new Client({ connectionString: urlOf(DATABASE), connectionTimeoutMillis: 5000 });
      await admin.connect();
      // Warnings and errors: the audit line (level log) carries the user and the reason by design.
      const logged: unknown[][] = [];
      const spies = (['error', 'warn'] as const).map((level) =>
        jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
          logged.push(args);
        }),
      );
      const reason = `DBF-2 secret-reason ${randomUUID()}`;
      try {
        // A statement the server refuses for a reason that is not availability (a column gone: 42703).
        await admin.query('alter table gw.adjustments rename column reason to reason_gone');
        await admin.query('alter table gw.operators rename column token_hash to token_hash_gone');
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const failed = await app.client.query(ADJUST, { input: { userId, amount: 1, reason, idempotencyKey: `dbf-${randomUUID()}` } });
        expect([failed.status, errorCode(failed)]).toEqual([500, 'internal_error']);
        const viaToken = await agent.query(ME);
        expect(viaToken.status).toBe(500);
      } finally {
        await admin.query('alter table gw.adjustments rename column reason_gone to reason').catch(() => undefined);
        await admin.query('alter table gw.operators rename column token_hash_gone to token_hash').catch(() => undefined);
        await admin.end();
        for (const spy of spies) spy.mockRestore();
      }
      // What pino writes for each line: its error serializer follows `cause`, so look through it.
      const written = logged.map((args) => JSON.stringify(args, (_key, value: unknown) => (value instanceof Error ? pino.stdSerializers.err(value) : value)));
      for (const line of written) {
        expect(line).not.toContain('params');
        expect(line).not.toContain(reason);
        expect(line).not.toContain(userId);
        expect(line).not.toContain(hashOperatorToken(agentToken));
      }
      const failures = written.filter((line) => line.includes('42703'));
      expect(failures.length).toBeGreaterThanOrEqual(2);
      expect(failures.some((line) => /(insert into|select from) \\?"?adjustments/.test(line))).toBe(true);
      expect(failures.some((line) => /select from \\?"?operators/.test(line))).toBe(true);
      await expectRecovered();
    });

    it('3D000: a dropped database', async () => {
      await superuser(`drop database "${DATABASE}" with (force)`);
      await expectUnavailable();
      expect(uncaught).toEqual([]);
    });
  });
});
