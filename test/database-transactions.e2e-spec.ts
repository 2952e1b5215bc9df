import { sql } from 'drizzle-orm';
import { openDatabase, queryRows, type DatabaseConnection } from '../src/database/database';
import { isDatabaseUnavailable } from '../src/database/database-errors';
import { describeWithPostgres, TEST_DATABASE_URL, useTestSchema } from './helpers/postgres';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy';

/** Resolves with `promise`, or rejects once `ms` pass: a hang fails the test instead of its hook. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describeWithPostgres('a transaction whose BEGIN fails (the connection is gone when it is checked out)', () => {
  const schema = useTestSchema('tx_begin');
  let proxy: TcpProxy;
  let connection: DatabaseConnection;

  beforeAll(async () => {
    const target = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.host = `127.0.0.1:${proxy.port}`;
    // One connection, so that a single one kept checked out is the whole pool.
    connection = await openDatabase({ kind: 'postgres', url: target.toString() }, { schema: schema.name, maxConnections: 1, statementTimeoutMs: 200, connectTimeoutMs: 2000 });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('gives the connection back to the pool, so the next transaction runs and the pool closes', async () => {
    expect(await queryRows<{ one: number }>(connection.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
    // The idle connection stops answering: BEGIN, the transaction's first statement, gets no answer.
    proxy.pause();
    const failed = await connection.db
      .transaction((tx) => queryRows(tx, sql`select 1 as one`))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isDatabaseUnavailable(failed)).toBe(true);
    proxy.restore();
    const rows = await within(
      connection.db.transaction((tx) => queryRows<{ two: number }>(tx, sql`select 2 as two`)),
      5_000,
      'the next transaction',
    );
    expect(rows).toEqual([{ two: 2 }]);
    await within(connection.close(), 5_000, 'closing the pool');
  });
});
