import { randomUUID } from 'node:crypto';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { adjustmentIdFor, upstreamKeyFor } from '../src/idempotency/idempotency-keys';
import { startGatewayProcess, GatewayProcess } from './helpers/gateway-process';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { metric } from './helpers/metrics';
import { createTestSchema, describeWithPostgres, TEST_DATABASE_URL, TestSchema } from './helpers/postgres';
import { describeWithRedis, RedisDatabase, redisDatabase } from './helpers/redis';
import { startTcpProxy, TcpProxy } from './helpers/tcp-proxy';
import { ADMIN_SECRET, startApp, TestApp, useEmulatorApp } from './helpers/test-app';
import { connectWs, subscribe, TestWsClient, waitFor } from './helpers/ws-client';

const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) {
  adjustCredits(input: $input) { id balance replayed idempotencyKey actor { operatorId name role onBehalfOf } approvedBy { name } reverses { id } }
}`;
const RECORD_FIELDS = `id userId currency amount reason status errorCode balance idempotencyKey
  actor { operatorId name role onBehalfOf } approvedBy { name } reverses { id } reversedBy { id } bulkAdjustmentId createdAt settledAt`;
const RECORD = `query Record($id: ID!) { adjustment(id: $id) { ${RECORD_FIELDS} } }`;
const HISTORY = `query History($filter: AdjustmentFilter, $first: Int! = 20, $after: String) {
  adjustments(filter: $filter, first: $first, after: $after) { nodes { id amount status reason } pageInfo { endCursor hasNextPage } }
}`;
const USAGE = 'subscription Usage($userId: ID) { usageChanged(userId: $userId) { userId delta balance } }';

type Adjusted = { adjustCredits: { id: string; balance: number; replayed: boolean; idempotencyKey: string; actor: Record<string, unknown> } | null };
type History = { adjustments: { nodes: Array<{ id: string; amount: number; status: string; reason: string }>; pageInfo: { endCursor: string | null; hasNextPage: boolean } } };

function adjust(app: TestApp | GraphQLClient, input: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<Adjusted>> {
  const client = app instanceof GraphQLClient ? app : app.client;
  return client.query<Adjusted>(ADJUST, { input }, { headers });
}

function history(app: TestApp, variables: Record<string, unknown>): Promise<GraphQLResponse<History>> {
  return app.client.query<History>(HISTORY, variables);
}

function idOf(key: string): string {
  return adjustmentIdFor(upstreamKeyFor(key));
}

describeWithPostgres('the journal: every adjustment recorded, read back without RevenueCat', () => {
  const ctx = useEmulatorApp({ env: { REVENUECAT_MAX_RETRIES: '0' } });
  let app: TestApp;
  let emulator: RevenueCatEmulator;
  const user = (name: string) => `user_${name}_${randomUUID().slice(0, 8)}`;

  beforeAll(() => {
    app = ctx.app;
    emulator = ctx.emulator;
  });

  it('records who did it (credential and X-On-Behalf-Of) and reads it back by id and by user, newest first', async () => {
    const userId = user('history');
    emulator.addCustomer(userId, { CRD: 100 });
    const first = await adjust(app, { userId, amount: 10, reason: 'J-1 first' }, { 'x-on-behalf-of': 'jane@support.example' });
    const second = await adjust(app, { userId, amount: -3, reason: 'J-1 second', idempotencyKey: `j1-${randomUUID()}` });
    expect(first.body.data?.adjustCredits).toMatchObject({
      balance: 110,
      replayed: false,
      idempotencyKey: expect.stringMatching(/^gw_[0-9a-f-]{36}$/),
      actor: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: 'jane@support.example' },
    });
    const id = first.body.data!.adjustCredits!.id;

    const record = await app.client.query(RECORD, { id });
    expect(record.body.data?.adjustment).toEqual({
      id,
      userId,
      currency: 'CRD',
      amount: 10,
      reason: 'J-1 first',
      status: 'APPLIED',
      errorCode: null,
      balance: 110,
      idempotencyKey: first.body.data!.adjustCredits!.idempotencyKey,
      actor: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: 'jane@support.example' },
      approvedBy: null,
      reverses: null,
      reversedBy: null,
      bulkAdjustmentId: null,
      createdAt: expect.any(String),
      settledAt: expect.any(String),
    });

    const page = await history(app, { filter: { userId } });
    expect(page.body.data?.adjustments.nodes.map((node) => [node.amount, node.status])).toEqual([
      [-3, 'APPLIED'],
      [10, 'APPLIED'],
    ]);
    expect(page.body.data?.adjustments.nodes[0].id).toBe(second.body.data!.adjustCredits!.id);
    expect(page.body.data?.adjustments.pageInfo).toEqual({ endCursor: expect.any(String), hasNextPage: false });
    expect((await app.client.query(RECORD, { id: 'adj_does_not_exist' })).body.data).toEqual({ adjustment: null });
  });

  it('pages with opaque cursors, each record once, and filters by status', async () => {
    const userId = user('pages');
    emulator.addCustomer(userId, { CRD: 5 });
    for (let i = 1; i <= 5; i++) await adjust(app, { userId, amount: i, reason: `J-2 grant ${i}` });
    await adjust(app, { userId, amount: -1000, reason: 'J-2 too much' });

    const seen: number[] = [];
    let after: string | null = null;
    for (let round = 0; round < 10; round++) {
      const page: GraphQLResponse<History> = await history(app, { filter: { userId }, first: 2, after });
      seen.push(...page.body.data!.adjustments.nodes.map((node) => node.amount));
      after = page.body.data!.adjustments.pageInfo.endCursor;
      if (!page.body.data!.adjustments.pageInfo.hasNextPage) break;
    }
    expect(seen).toEqual([-1000, 5, 4, 3, 2, 1]);

    const rejected = await history(app, { filter: { userId, status: ['REJECTED'] } });
    expect(rejected.body.data?.adjustments.nodes.map((node) => [node.amount, node.status])).toEqual([[-1000, 'REJECTED']]);
    const none = await history(app, { filter: { userId, createdAfter: new Date(Date.now() + 60_000).toISOString() } });
    expect(none.body.data?.adjustments.nodes).toEqual([]);
  });

  it.each([
    ['a malformed cursor', { after: 'not-a-cursor!' }, 'after'],
    ['a cursor of another shape', { after: Buffer.from('"x"').toString('base64url') }, 'after'],
    ['first 0', { first: 0 }, 'first'],
    ['first 101', { first: 101 }, 'first'],
  ])('refuses %s with invalid_argument naming the argument', async (_name, variables, field) => {
    const refused = await history(app, { filter: { userId: 'user_any' }, ...variables });
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'invalid_argument', field });
  });

  it('records a definitive refusal as REJECTED and answers its replay with the same error, naming the record', async () => {
    const userId = user('rejected');
    emulator.addCustomer(userId, { CRD: 2 });
    const key = `j3-${randomUUID()}`;
    const refused = await adjust(app, { userId, amount: -5, reason: 'J-3 too much', idempotencyKey: key });
    expect(refused.status).toBe(422);
    expect(refused.body.errors?.[0].extensions).toMatchObject({
      code: 'insufficient_balance',
      balance: 2,
      adjustmentId: idOf(key),
      idempotencyKey: key,
    });
    const replay = await adjust(app, { userId, amount: -5, reason: 'J-3 too much', idempotencyKey: key });
    expect(replay.body.errors).toEqual(refused.body.errors!.map((error) => ({ ...error, extensions: { ...error.extensions, requestId: expect.any(String) } })));
    const record = await app.client.query(RECORD, { id: idOf(key) });
    expect(record.body.data?.adjustment).toMatchObject({ status: 'REJECTED', errorCode: 'insufficient_balance', balance: null });
    expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(0);
  });

  it('records an ambiguous failure as UNKNOWN, says so, and the retry with its key settles it with one transaction and one event', async () => {
    const userId = user('unknown');
    emulator.addCustomer(userId, { CRD: 100 });
    const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    try {
      const events = subscribe<{ usageChanged: { delta: number; balance: number } }>(ws, USAGE, { userId });
      await ws.connected;
      // RevenueCat applies it but answers after our timeout: we cannot know it applied.
      emulator.injectFault({ endpoint: 'create_transaction', latencyMs: 2500, applyFirst: true, count: 1 });
      const unknown = await adjust(app, { userId, amount: 7, reason: 'J-4 lost answer' });
      expect(unknown.status).toBe(502);
      const key = unknown.body.errors![0].extensions!.idempotencyKey as string;
      expect(unknown.body.errors?.[0].extensions).toMatchObject({
        code: 'rc_call_failed',
        rcType: 'timeout',
        outcome: 'unknown',
        adjustmentId: idOf(key),
        idempotencyKey: expect.stringMatching(/^gw_/),
      });
      await waitFor(() => emulator.transactions.some((transaction) => transaction.customerId === userId), 5000, 'RevenueCat to apply it');
      expect((await app.client.query(RECORD, { id: idOf(key) })).body.data?.adjustment).toMatchObject({
        status: 'UNKNOWN',
        errorCode: 'rc_call_failed',
        settledAt: null,
      });

      const settled = await adjust(app, { userId, amount: 7, reason: 'J-4 lost answer', idempotencyKey: key });
      expect(settled.body.data?.adjustCredits).toMatchObject({ id: idOf(key), balance: 107, replayed: false });
      expect((await app.client.query(RECORD, { id: idOf(key) })).body.data?.adjustment).toMatchObject({ status: 'APPLIED', balance: 107 });
      expect((await events.next()).usageChanged).toEqual({ userId, delta: 7, balance: 107 });
      const replay = await adjust(app, { userId, amount: 7, reason: 'J-4 lost answer', idempotencyKey: key });
      expect(replay.body.data?.adjustCredits).toMatchObject({ id: idOf(key), balance: 107, replayed: true });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(events.events).toHaveLength(1);
      expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);
      expect(emulator.balanceOf(userId, 'CRD')).toBe(107);
    } finally {
      await ws.dispose();
    }
  });

  it.each([
    ['a tab', 'jane\tdoe'],
    ['a C1 control character', 'jane\u0085'],
    ['an invisible soft hyphen', 'ja\u00adne'],
    ['201 characters', 'x'.repeat(201)],
  ])('refuses an X-On-Behalf-Of with %s as invalid_argument, recording and sending nothing', async (_name, header) => {
    const userId = user('behalf');
    emulator.addCustomer(userId, { CRD: 1 });
    const refused = await adjust(app, { userId, amount: 1, reason: 'J-5 bad header' }, { 'x-on-behalf-of': header });
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'invalid_argument', field: 'X-On-Behalf-Of' });
    expect((await history(app, { filter: { userId } })).body.data?.adjustments.nodes).toEqual([]);
    expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(0);
  });
});

describeWithRedis('the journal with Redis flushed mid-run', () => {
  const emulator = new RevenueCatEmulator();
  let database: RedisDatabase;
  let app: TestApp;

  beforeAll(async () => {
    database = await redisDatabase();
    await emulator.listen();
    app = await startApp({ emulator, env: { REDIS_URL: database.url } });
  });
  afterAll(async () => {
    await app?.close();
    await emulator.close();
  });

  it('replays a keyed adjustment after Redis lost everything: no second transaction, no second event', async () => {
    const userId = `user_flush_${randomUUID().slice(0, 8)}`;
    emulator.addCustomer(userId, { CRD: 10 });
    const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    const redis = database.client();
    try {
      const events = subscribe<{ usageChanged: { delta: number } }>(ws, USAGE, { userId });
      await ws.connected;
      const input = { userId, amount: 4, reason: 'J-6 before the flush', idempotencyKey: `j6-${randomUUID()}` };
      expect((await adjust(app, input)).body.data?.adjustCredits).toMatchObject({ balance: 14, replayed: false });
      await events.next();
      // The app keeps its state in this database (rate-limit counters, the pacing budget)...
      expect(await redis.dbsize()).toBeGreaterThan(0);
      // ...and a Redis restart takes every key of it.
      await database.flush();
      expect(await redis.dbsize()).toBe(0);
      expect((await adjust(app, input)).body.data?.adjustCredits).toMatchObject({ balance: 14, replayed: true });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(events.events).toHaveLength(1);
      expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);
    } finally {
      await ws.dispose();
      await redis.quit();
    }
  });
});

describeWithPostgres('the journal with the database down', () => {
  const emulator = new RevenueCatEmulator();
  let proxy: TcpProxy;
  let app: TestApp;

  beforeAll(async () => {
    await emulator.listen();
    const target = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.host = `127.0.0.1:${proxy.port}`;
    app = await startApp({ emulator, env: { DATABASE_URL: target.toString() } });
  });
  afterAll(async () => {
    proxy.restore();
    await app?.close();
    await proxy?.close();
    await emulator.close();
  });

  it('answers journal operations 503 dependency_unavailable with nothing sent upstream, serves the rest, and recovers without a restart', async () => {
    const userId = `user_dbdown_${randomUUID().slice(0, 8)}`;
    emulator.addCustomer(userId, { CRD: 10 });
    proxy.cut();

    const transactions = emulator.transactions.length;
    for (const input of [
      { userId, amount: 5, reason: 'J-7 keyed', idempotencyKey: `j7-${randomUUID()}` },
      { userId, amount: 5, reason: 'J-7 keyless' },
    ]) {
      const refused = await adjust(app, input);
      expect(refused.status).toBe(503);
      expect(refused.body.errors?.[0]).toMatchObject({
        message: 'dependency_unavailable: the database does not answer; nothing was changed; retry',
        extensions: { code: 'dependency_unavailable', status: 503, dependency: 'database' },
      });
    }
    expect(emulator.transactions).toHaveLength(transactions);
    expect(errorCode(await history(app, { filter: { userId } }))).toBe('dependency_unavailable');

    // What needs no journal keeps working, and the instance stays ready, saying what is down.
    expect((await app.client.query('query B($userId: ID!) { balances(userId: $userId) { balance } }', { userId })).body.data).toEqual({
      balances: [{ balance: 10 }],
    });
    expect((await app.client.query('{ currencies { code } }')).status).toBe(200);
    const ready = await app.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect((ready.body as { details: Record<string, unknown> }).details.database).toMatchObject({ status: 'up', answering: false });
    expect(await metric(app, 'credits_dependency_up', { dependency: 'database' })).toBe(0);

    proxy.restore();
    await waitFor(
      async () => (await adjust(app, { userId, amount: 5, reason: 'J-7 after', idempotencyKey: 'j7-after-' + userId })).status === 200,
      10_000,
      'the database to answer again',
    );
    expect(emulator.balanceOf(userId, 'CRD')).toBe(15);
    expect((await history(app, { filter: { userId } })).body.data?.adjustments.nodes.map((node) => node.reason)).toEqual(['J-7 after']);
    await app.http.get('/readyz');
    expect(await metric(app, 'credits_dependency_up', { dependency: 'database' })).toBe(1);
  }, 30_000);
});

describeWithPostgres('the journal across a crash between RevenueCat and the settlement', () => {
  const emulator = new RevenueCatEmulator();
  let schema: TestSchema;
  let gateway: GatewayProcess | undefined;
  let ws: TestWsClient | undefined;

  beforeAll(async () => {
    await emulator.listen();
    schema = await createTestSchema('crash');
  });
  afterAll(async () => {
    await ws?.dispose();
    gateway?.kill('SIGKILL');
    await emulator.close();
    await schema.drop();
  });

  const start = () =>
    startGatewayProcess({
      ADMIN_SECRET,
      REVENUECAT_API_KEY: emulator.apiKey,
      REVENUECAT_PROJECT_ID: emulator.projectId,
      REVENUECAT_API_URL: emulator.baseUrl,
      DATABASE_SCHEMA: schema.name,
      // Long enough to outlast a restart on a loaded machine (the in-progress check below runs inside it).
      IDEMPOTENCY_LEASE_SECONDS: '20',
      RATE_LIMIT_ADJUST_CREDITS_PER_MINUTE: '100000',
    });

  it('leaves the record PENDING under its lease, then the retry with the same key settles it: one transaction, one event', async () => {
    const userId = `user_crash_${randomUUID().slice(0, 8)}`;
    emulator.addCustomer(userId, { CRD: 100 });
    const key = `crash-${randomUUID()}`;
    const input = { userId, amount: 25, reason: 'J-8 killed mid-way', idempotencyKey: key };

    gateway = await start();
    // RevenueCat applies the transaction, then answers slowly; the gateway dies before the answer.
    emulator.injectFault({ endpoint: 'create_transaction', latencyMs: 3000, applyFirst: true, count: 1 });
    const lost = adjust(new GraphQLClient(`${gateway.url}/graphql`, ADMIN_SECRET), input).catch((error: unknown) => error);
    await waitFor(() => emulator.transactions.some((transaction) => transaction.customerId === userId), 5000, 'RevenueCat to apply it');
    gateway.kill('SIGKILL');
    // The connection died with the process: the caller got no answer at all.
    expect(await lost).toMatchObject({ code: 'ECONNRESET', response: undefined });
    await gateway.exited;

    gateway = await start();
    const client = new GraphQLClient(`${gateway.url}/graphql`, ADMIN_SECRET);
    ws = connectWs(gateway.url, `Bearer ${ADMIN_SECRET}`);
    const events = subscribe<{ usageChanged: { delta: number; balance: number } }>(ws, USAGE, { userId });
    await ws.connected;

    // Within its lease the record is PENDING and its key in progress; a restart slower than the lease (a
    // very busy machine) finds it UNKNOWN already, which is what an expired PENDING record reads as.
    const held = (await client.query(RECORD, { id: idOf(key) })).body.data?.adjustment;
    expect(held).toMatchObject({ settledAt: null });
    expect(['PENDING', 'UNKNOWN']).toContain(held?.status);
    if (held?.status === 'PENDING') expect(errorCode(await adjust(client, input))).toBe('idempotency_key_in_progress');

    // Once the lease has run out, the retry claims the record and sends it again under the same upstream key.
    const retried: number[] = [];
    await waitFor(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        retried.push((await adjust(client, input)).status);
        return retried[retried.length - 1] === 200;
      },
      30_000,
      'the lease to run out and the retry to settle it',
    );
    expect(new Set(retried.slice(0, -1))).toEqual(new Set(retried.length > 1 ? [409] : []));
    expect((await client.query(RECORD, { id: idOf(key) })).body.data?.adjustment).toMatchObject({ status: 'APPLIED', balance: 125 });
    expect((await events.next(5000)).usageChanged).toEqual({ userId, delta: 25, balance: 125 });
    expect((await adjust(client, input)).body.data?.adjustCredits).toMatchObject({ balance: 125, replayed: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events.events).toHaveLength(1);
    expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(125);
  }, 90_000);
});
