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
const HISTORY = `query History($filter: AdjustmentFilter) { adjustments(filter: $filter) { nodes { id status } } }`;
const REVERSE = `mutation Reverse($input: ReverseAdjustmentInput!) { reverseAdjustment(input: $input) { id } }`;
const CREATE_OPERATOR = `mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { id } } }`;
const USAGE = 'subscription Usage($userId: ID) { usageChanged(userId: $userId) { userId delta balance } }';

type Adjusted = { adjustCredits: { id: string; balance: number; replayed: boolean; idempotencyKey: string } | null };
type History = { adjustments: { nodes: Array<{ id: string; status: string }> } };
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
    await waitFor(async () => (await locker!.query('select 1 from adjustments where idempotency_key = $1', [key])).rowCount === 1, 5000, 'the PENDING record to be written');
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

  it('shows a PENDING record whose lease ran out (a crash after RevenueCat) as UNKNOWN, refuses to reverse it until settled, and its key settles it', async () => {
    const userId = `user_crashed_${randomUUID().slice(0, 8)}`;
    emulator.addCustomer(userId, { CRD: 100 });
    const key = `crashed-${randomUUID()}`;
    const input = { userId, amount: 25, reason: 'S-2 crashed mid-way', idempotencyKey: key };
    const schema = app.config.database.kind === 'postgres' ? app.config.database.schema! : 'public';

    // RevenueCat applies it, but the answer is lost; then the row is put back as a process killed before
    // the settlement leaves it: PENDING under a lease of a claim that no longer exists.
    emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, status: 503, applyFirst: true, count: 1 });
    expect(errorCode(await app.client.query<Adjusted>(ADJUST, { input }))).toBe('rc_call_failed');
    locker = await connect(schema);
    const crashed = (lease: string) =>
      locker!.query(
        `update adjustments set status = 'PENDING', lease_token = 'crashed', lease_expires_at = now() + interval '${lease}',
           error_code = null, error_message = null, error_details = null where idempotency_key = $1`,
        [key],
      );
    const statusOf = async () => (await app.client.query<Recorded>(RECORD, { id: idOf(key) })).body.data?.adjustment?.status;
    const listed = async (status: string) =>
      (await app.client.query<History>(HISTORY, { filter: { userId, status: [status] } })).body.data?.adjustments.nodes.map((node) => node.id);
    const reversal = () => app.client.query(REVERSE, { input: { adjustmentId: idOf(key), reason: 'S-2 undo' } });

    // Within its lease it is in flight.
    await crashed('1 hour');
    expect(await statusOf()).toBe('PENDING');
    expect([await listed('PENDING'), await listed('UNKNOWN')]).toEqual([[idOf(key)], []]);
    const early = await reversal();
    expect(early.status).toBe(422);
    expect(early.body.errors?.[0]).toMatchObject({
      message: 'not_reversible: the adjustment is still being applied (PENDING); reverse it once it is APPLIED',
      extensions: { code: 'not_reversible', status: 422, field: 'adjustmentId', adjustmentStatus: 'PENDING' },
    });

    // Past its lease nobody is applying it: its outcome is unknown until a retry with its key settles it.
    await crashed('-1 second');
    expect(await statusOf()).toBe('UNKNOWN');
    expect([await listed('PENDING'), await listed('UNKNOWN')]).toEqual([[], [idOf(key)]]);
    const late = await reversal();
    expect(late.status).toBe(422);
    expect(late.body.errors?.[0]).toMatchObject({
      message: "not_reversible: the adjustment's outcome is unknown (UNKNOWN); send it again with its idempotency key to settle it, then reverse it",
      extensions: { code: 'not_reversible', status: 422, field: 'adjustmentId', adjustmentStatus: 'UNKNOWN' },
    });

    const retried = await app.client.query<Adjusted>(ADJUST, { input });
    expect(retried.body.data?.adjustCredits).toMatchObject({ id: idOf(key), balance: 125 });
    expect(await statusOf()).toBe('APPLIED');
    expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(125);
  }, 30_000);

  it("counts against the daily limit today's APPLIED records and those in flight, not yesterday's nor settled refusals", async () => {
    const created = await app.client.query<{ createOperator: { token: string; operator: { id: string } } }>(CREATE_OPERATOR, {
      input: { name: `daily ${randomUUID().slice(0, 6)}`, role: 'AGENT', dailyLimit: 100 },
    });
    const { token, operator } = created.body.data!.createOperator;
    const agent = app.client.withToken(token);
    const userId = `user_daily_${randomUUID().slice(0, 8)}`;
    emulator.addCustomer(userId, { CRD: 1000 });
    const schema = app.config.database.kind === 'postgres' ? app.config.database.schema! : 'public';
    locker = await connect(schema);
    const today = "date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'";
    const seed = async (label: string, amount: number, status: string, created: string, columns: Record<string, string> = {}) => {
      const extra = Object.entries(columns);
      await locker!.query(
        `insert into adjustments (id, idempotency_key, fingerprint, user_id, currency, amount, reason, status, upstream_key, actor_operator_id, actor_name, actor_role, created_at${extra.map(([name]) => `, ${name}`).join('')})
         values ($1, $1, 'fp', $2, 'CRD', $3, 'seeded', $4, $1, $5, 'daily', 'AGENT', ${created}${extra.map(([, value]) => `, ${value}`).join('')})`,
        [`seed-${label}-${randomUUID()}`, userId, amount, status, operator.id],
      );
    };
    const yesterday = `${today} - interval '12 hours'`;
    const earlierToday = `greatest(${today}, now() - interval '1 second')`;
    // Yesterday's, whatever their status: none counts today.
    await seed('y-applied', 1000, 'APPLIED', yesterday, { settled_at: yesterday });
    await seed('y-unknown', -1000, 'UNKNOWN', yesterday);
    await seed('y-pending-expired', 1000, 'PENDING', yesterday, { lease_token: "'old'", lease_expires_at: yesterday });
    // Today's refusals do not count either.
    await seed('t-rejected', 1000, 'REJECTED', earlierToday, { settled_at: earlierToday });
    // Today's: APPLIED 10, UNKNOWN 20 (|-20|), PENDING within its lease 30, PENDING past it (reads UNKNOWN) 5.
    await seed('t-applied', 10, 'APPLIED', earlierToday, { settled_at: earlierToday });
    await seed('t-unknown', -20, 'UNKNOWN', earlierToday);
    await seed('t-pending', 30, 'PENDING', earlierToday, { lease_token: "'live'", lease_expires_at: "now() + interval '1 hour'" });
    await seed('t-pending-expired', 5, 'PENDING', earlierToday, { lease_token: "'gone'", lease_expires_at: "now() - interval '1 second'" });

    const within = await agent.query<Adjusted>(ADJUST, { input: { userId, amount: 35, reason: 'S-3 up to the limit' } });
    expect(within.body.data?.adjustCredits).toMatchObject({ balance: 1035 });
    const over = await agent.query<Adjusted>(ADJUST, { input: { userId, amount: 1, reason: 'S-3 one too many' } });
    expect(over.body.errors?.[0].extensions).toMatchObject({ code: 'approval_required', limit: 'dailyLimit' });
    expect(emulator.balanceOf(userId, 'CRD')).toBe(1035);
  }, 30_000);
});
