import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { APP_CONFIG, type AppConfig } from '../src/config/app-config';
import { DatabaseConnection, openDatabase } from '../src/database/database';
import { adjustmentIdFor, upstreamKeyFor } from '../src/idempotency/idempotency-keys';
import { errorCode, GraphQLResponse } from './helpers/graphql-client';
import { describeWithPostgres, TEST_DATABASE_URL } from './helpers/postgres';
import { ADMIN_SECRET, startApp, TestApp } from './helpers/test-app';
import { connectWs, subscribe, TestWsClient, waitFor } from './helpers/ws-client';

const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) {
  adjustCredits(input: $input) { id balance replayed idempotencyKey }
}`;
const RECORD = `query Record($id: ID!) { adjustment(id: $id) { id status balance settledAt } }`;
const USAGE = 'subscription Usage($userId: ID) { usageChanged(userId: $userId) { userId delta balance } }';

type Adjusted = { adjustCredits: { id: string; balance: number; replayed: boolean; idempotencyKey: string } | null };
type Recorded = { adjustment: { id: string; status: string; balance: number | null; settledAt: string | null } | null };

const STATEMENT_TIMEOUT_MS = 500;

function idOf(key: string): string {
  return adjustmentIdFor(upstreamKeyFor(key));
}

/** A connection of the test's own, on the app's schema: to watch rows and to lock the table. */
async function connect(schema: string): Promise<Client> {
  const client = new Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

describeWithPostgres('a settlement the database cannot write after RevenueCat applied the adjustment', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;
  let ws: TestWsClient | undefined;
  let locker: Client | undefined;

  beforeAll(async () => {
    await emulator.listen();
    app = await startApp({
      emulator,
      env: { REVENUECAT_MAX_RETRIES: '0' },
      // A short statement timeout, so that a locked table fails the settlement quickly, as a longer lock
      // fails it under the default.
      override: (builder) =>
        builder.overrideProvider(DatabaseConnection).useFactory({
          inject: [APP_CONFIG],
          factory: (config: AppConfig) =>
            openDatabase(config.database, {
              schema: config.database.kind === 'postgres' ? config.database.schema : undefined,
              statementTimeoutMs: STATEMENT_TIMEOUT_MS,
            }),
        }),
    });
  });
  afterEach(async () => {
    await ws?.dispose();
    ws = undefined;
    await locker?.end().catch(() => undefined);
    locker = undefined;
  });
  afterAll(async () => {
    await app?.close();
    await emulator.close();
  });

  it('answers the applied result, then settles and announces it once as soon as the table is unlocked', async () => {
    const userId = `user_settle_${randomUUID().slice(0, 8)}`;
    emulator.addCustomer(userId, { CRD: 100 });
    const key = `settle-${randomUUID()}`;
    const input = { userId, amount: 25, reason: 'S-1 settled late', idempotencyKey: key };
    const schema = app.config.database.kind === 'postgres' ? app.config.database.schema! : 'public';

    ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    const events = subscribe<{ usageChanged: { userId: string; delta: number; balance: number } }>(ws, USAGE, { userId });
    await ws.connected;

    // RevenueCat answers 1.5 s late; meanwhile the journal is locked past the statement timeout.
    emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, latencyMs: 1500, count: 1 });
    const answer = app.client.query<Adjusted>(ADJUST, { input });
    locker = await connect(schema);
    await waitFor(
      async () => (await locker!.query('select 1 from adjustments where idempotency_key = $1', [key])).rowCount === 1,
      5000,
      'the PENDING record to be written',
    );
    await locker.query('begin');
    await locker.query('lock table adjustments in access exclusive mode');

    const answered: GraphQLResponse<Adjusted> = await answer;
    expect(answered.status).toBe(200);
    expect(answered.body.data?.adjustCredits).toEqual({ id: idOf(key), balance: 125, replayed: false, idempotencyKey: key });
    expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);

    // Still locked: a few settlement attempts fail (each after the statement timeout); nothing is announced.
    await new Promise((resolve) => setTimeout(resolve, 4 * STATEMENT_TIMEOUT_MS));
    expect(events.events).toHaveLength(0);

    await locker.query('rollback');
    expect((await events.next(15_000)).usageChanged).toEqual({ userId, delta: 25, balance: 125 });
    const settled = await app.client.query<Recorded>(RECORD, { id: idOf(key) });
    expect(settled.body.data?.adjustment).toMatchObject({ id: idOf(key), status: 'APPLIED', balance: 125, settledAt: expect.any(String) });

    const replay = await app.client.query<Adjusted>(ADJUST, { input });
    expect(replay.body.data?.adjustCredits).toMatchObject({ id: idOf(key), balance: 125, replayed: true });
    // Time for a second event, were one coming.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(events.events).toHaveLength(1);
    expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(125);
    expect(errorCode(replay)).toBeUndefined();
  }, 60_000);
});
