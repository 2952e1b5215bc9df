import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { BULK_RUNNER_OPTIONS, MAX_ITEM_ATTEMPTS } from '../src/bulk/bulk-runner';
import { bulkItemKey } from '../src/idempotency/idempotency-keys';
import { adjustmentIdFor, upstreamKeyFor } from '../src/idempotency/idempotency-keys';
import { issueOperatorToken } from '../src/operators/operator-token';
import { OperatorRepository } from '../src/operators/operator.repository';
import { ADD, BulkClient, CANCEL, CREATE, GET, Item, Job, PROGRESS, START } from './helpers/bulk';
import { errorCode, GraphQLResponse } from './helpers/graphql-client';
import { describeWithPostgres, TEST_DATABASE_URL } from './helpers/postgres';
import { ADMIN_SECRET, startApp, TestApp } from './helpers/test-app';
import { connectWs, subscribe, TestWsClient, waitFor } from './helpers/ws-client';

/** 600 a minute, 75% for bulk: one item every 133 ms, so a job of a few dozen items takes a few seconds. */
const APP_ENV = {
  REVENUECAT_TRANSACTIONS_PER_MINUTE: '600',
  REVENUECAT_MAX_RETRIES: '0',
  RATE_LIMIT_READS_PER_MINUTE: '100000',
  RATE_LIMIT_MUTATIONS_PER_MINUTE: '100000',
  RATE_LIMIT_BULK_ITEMS_PER_MINUTE: '100000',
};
const ITEMS = `query Items($id: ID!, $status: AdjustmentStatus, $first: Int!, $after: String) {
  bulkAdjustment(id: $id) { items(status: $status, first: $first, after: $after) {
    nodes { id userId amount reason status errorCode balance idempotencyKey bulkAdjustmentId actor { operatorId name role onBehalfOf } }
    pageInfo { endCursor hasNextPage } } }
}`;
const USAGE = 'subscription { usageChanged { userId delta balance } }';

type ItemNode = {
  id: string;
  userId: string;
  amount: number;
  reason: string;
  status: string;
  errorCode: string | null;
  balance: number | null;
  idempotencyKey: string;
  bulkAdjustmentId: string;
  actor: Record<string, unknown>;
};
type ItemsPage = { bulkAdjustment: { items: { nodes: ItemNode[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } };

describeWithPostgres('bulk adjustments: create, add, start, cancel, read, follow', () => {
  const emulator = new RevenueCatEmulator({ rateLimits: { virtual_currencies_create_transaction: Infinity, customer_information: Infinity } });
  let app: TestApp;
  let bulk: BulkClient;
  const sockets: TestWsClient[] = [];

  /** `count` customers of the emulator with `balance` each, as items of `amount`. */
  function customers(label: string, count: number, balance = 100, amount = 25): Item[] {
    const run = randomUUID().slice(0, 8);
    return Array.from({ length: count }, (_, i) => {
      const userId = `user_${label}_${run}_${i}`;
      emulator.addCustomer(userId, { CRD: balance });
      return { userId, amount };
    });
  }

  function transactionsFor(userId: string): number {
    return emulator.transactions.filter((transaction) => transaction.customerId === userId).length;
  }

  async function allItems(id: string, status?: string): Promise<ItemNode[]> {
    const nodes: ItemNode[] = [];
    let after: string | null = null;
    do {
      const response: GraphQLResponse<ItemsPage> = await app.client.query<ItemsPage>(ITEMS, { id, status, first: 100, after });
      const page: ItemsPage['bulkAdjustment']['items'] = response.body.data!.bulkAdjustment.items;
      nodes.push(...page.nodes);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    return nodes;
  }

  function ws(): TestWsClient {
    const socket = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    sockets.push(socket);
    return socket;
  }

  beforeAll(async () => {
    await emulator.listen();
    // Retries of unknown outcomes a fifth of a second apart, not seconds to a minute.
    app = await startApp({ emulator, env: APP_ENV, override: (builder) => builder.overrideProvider(BULK_RUNNER_OPTIONS).useValue({ retryPausesMs: [200] }) });
    bulk = new BulkClient(app.client);
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) await socket.dispose();
    emulator.clearFaults();
  });
  afterAll(async () => {
    await app?.close();
    await emulator.close();
  });

  it('applies every item once under its derived key, as the creator, with one usage.changed each, then completes', async () => {
    const items = customers('applied', 12);
    items[3].amount = -40;
    const watcher = ws();
    await watcher.connected;
    const usage = subscribe<{ usageChanged: { userId: string; delta: number; balance: number } }>(watcher, USAGE);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const created = await bulk.create('  INC-42 outage compensation  ', {}, { 'x-on-behalf-of': 'ops@support.example' });
    expect(created).toMatchObject({
      status: 'DRAFT',
      currency: 'CRD',
      reason: 'INC-42 outage compensation',
      total: 0,
      queued: 0,
      etaSeconds: null,
      startedAt: null,
      createdBy: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: 'ops@support.example' },
    });
    expect(created.id).toMatch(/^bulk_[0-9a-f]{32}$/);
    expect(await bulk.add(created.id, items.slice(0, 5))).toMatchObject({ total: 5, queued: 5 });
    expect(await bulk.add(created.id, items.slice(5))).toMatchObject({ total: 12, queued: 12, status: 'DRAFT' });
    // Nothing is sent before the job starts.
    expect(emulator.count('create_transaction')).toBe(0);

    const started = await bulk.start(created.id);
    expect(started).toMatchObject({ status: 'RUNNING', total: 12, startedAt: expect.any(String) });
    expect(started.etaSeconds).toBeGreaterThanOrEqual(1);
    const done = await bulk.waitFor(created.id, 'COMPLETED');
    expect(done).toMatchObject({ total: 12, queued: 0, applied: 12, rejected: 0, unknown: 0, cancelled: 0, etaSeconds: null, finishedAt: expect.any(String) });

    for (const item of items) {
      expect(transactionsFor(item.userId)).toBe(1);
      expect(emulator.balanceOf(item.userId, 'CRD')).toBe(100 + item.amount);
    }
    const records = await allItems(created.id);
    expect(records).toHaveLength(12);
    for (const record of records) {
      const key = bulkItemKey(created.id, record.userId);
      expect(record).toMatchObject({
        id: adjustmentIdFor(upstreamKeyFor(key)),
        idempotencyKey: key,
        status: 'APPLIED',
        reason: 'INC-42 outage compensation',
        bulkAdjustmentId: created.id,
        balance: 100 + record.amount,
        actor: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: 'ops@support.example' },
      });
      // RevenueCat got the key derived from the item's own key.
      expect(emulator.transactions.find((transaction) => transaction.customerId === record.userId)?.idempotencyKey).toBe(upstreamKeyFor(key));
    }
    await waitFor(() => usage.events.filter((event) => items.some((item) => item.userId === event.usageChanged.userId)).length >= 12, 5000, 'usage events');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const events = usage.events.map((event) => event.usageChanged).filter((event) => items.some((item) => item.userId === event.userId));
    expect(events).toHaveLength(12);
    expect(new Set(events.map((event) => event.userId)).size).toBe(12);
    expect(events.find((event) => event.userId === items[3].userId)).toEqual({ userId: items[3].userId, delta: -40, balance: 60 });
  });

  it('records refusals as REJECTED, retries an unknown outcome under its key, and completes with the rest', async () => {
    const items = customers('mixed', 4);
    items[0].amount = -500; // more than the 100 the customer has
    emulator.injectFault({ endpoint: 'create_transaction', customerId: items[1].userId, status: 500, applyFirst: true, count: 1 });
    emulator.injectFault({ endpoint: 'create_transaction', customerId: items[2].userId, status: 503, count: Infinity });
    const job = await bulk.run('INC-43 mixed', items);
    const done = await bulk.waitFor(job.id, 'COMPLETED', 30_000);
    expect(done).toMatchObject({ total: 4, applied: 2, rejected: 1, unknown: 1, queued: 0 });

    const records = new Map((await allItems(job.id)).map((record) => [record.userId, record]));
    expect(records.get(items[0].userId)).toMatchObject({ status: 'REJECTED', errorCode: 'insufficient_balance', balance: null });
    // Applied upstream on its first attempt, answered 500: retried with the same key, which RevenueCat replayed.
    expect(records.get(items[1].userId)).toMatchObject({ status: 'APPLIED', balance: 125 });
    expect(transactionsFor(items[1].userId)).toBe(1);
    expect(emulator.requests.filter((request) => request.customerId === items[1].userId && request.endpoint === 'create_transaction')).toHaveLength(2);
    // Never answered: tried MAX_ITEM_ATTEMPTS times, then left UNKNOWN for its key to settle later.
    expect(records.get(items[2].userId)).toMatchObject({ status: 'UNKNOWN', errorCode: 'rc_call_failed' });
    expect(emulator.count('create_transaction', items[2].userId)).toBe(MAX_ITEM_ATTEMPTS);
    expect(emulator.balanceOf(items[2].userId, 'CRD')).toBe(100);
    expect(records.get(items[3].userId)).toMatchObject({ status: 'APPLIED', balance: 125 });
  }, 40_000);

  it('cancels a running job: items not sent end CANCELLED, none of them reaches RevenueCat', async () => {
    const items = customers('cancel', 40);
    const job = await bulk.run('INC-44 cancelled', items);
    await waitFor(async () => ((await bulk.get(job.id))?.applied ?? 0) >= 5, 10_000, 'five items applied');
    const cancelled = await bulk.cancel(job.id);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.finishedAt).not.toBeNull();
    // What was in flight settles; nothing more is sent.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sent = emulator.count('create_transaction');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(emulator.count('create_transaction')).toBe(sent);

    const final = (await bulk.get(job.id))!;
    expect(final.status).toBe('CANCELLED');
    expect(final.applied + final.cancelled).toBe(40);
    expect(final.cancelled).toBeGreaterThanOrEqual(20);
    const records = await allItems(job.id);
    for (const record of records) {
      expect(transactionsFor(record.userId)).toBe(record.status === 'APPLIED' ? 1 : 0);
      expect(['APPLIED', 'CANCELLED']).toContain(record.status);
    }
    // Cancelling it again answers it as it is; starting or adding to it is refused.
    expect((await bulk.cancel(job.id)).status).toBe('CANCELLED');
    const restart = await app.client.query(START, { id: job.id });
    expect([restart.status, errorCode(restart)]).toEqual([409, 'invalid_state']);
  });

  it('cancels a DRAFT: every item CANCELLED, nothing sent', async () => {
    const items = customers('draft_cancel', 3);
    const job = await bulk.create('INC-45 draft');
    await bulk.add(job.id, items);
    expect(await bulk.cancel(job.id)).toMatchObject({ status: 'CANCELLED', cancelled: 3, queued: 0, startedAt: null });
    expect(items.map((item) => transactionsFor(item.userId))).toEqual([0, 0, 0]);
  });

  it('refuses a user already in the job (in the same call or an earlier one), adding nothing of that call', async () => {
    const items = customers('duplicate', 3);
    const job = await bulk.create('INC-46 duplicates');
    await bulk.add(job.id, [items[0]]);

    const again = await app.client.query(ADD, { id: job.id, items: [items[1], { ...items[0], amount: 5 }] });
    expect([again.status, errorCode(again), again.body.errors?.[0]?.extensions?.field]).toEqual([400, 'invalid_argument', 'userId']);
    expect(again.body.errors?.[0]?.message).toBe('invalid_argument: userId of items[1] is already in this bulk adjustment');

    const twice = await app.client.query(ADD, { id: job.id, items: [items[1], items[2], { ...items[1], amount: 7 }] });
    expect([twice.status, errorCode(twice)]).toEqual([400, 'invalid_argument']);
    expect(twice.body.errors?.[0]?.message).toBe('invalid_argument: userId of items[2] is the same as items[0]');

    expect(await bulk.get(job.id)).toMatchObject({ total: 1, queued: 1 });
    expect(await bulk.add(job.id, [items[1], items[2]])).toMatchObject({ total: 3 });
  });

  it('takes 1 to 500 items a call, each validated like adjustCredits', async () => {
    const job = await bulk.create('INC-47 limits');
    const cases: Array<[unknown, string, string]> = [
      [[], 'invalid_argument', 'items'],
      [Array.from({ length: 501 }, (_, i) => ({ userId: `user_limit_${i}`, amount: 1 })), 'invalid_argument', 'items'],
      [[{ userId: 'user_zero', amount: 0 }], 'amount_must_be_nonzero', 'amount'],
      [[{ userId: 'user_big', amount: 2_000_000_001 }], 'invalid_argument', 'amount'],
      [[{ userId: '..', amount: 1 }], 'invalid_argument', 'userId'],
      [[{ userId: '', amount: 1 }], 'invalid_argument', 'userId'],
      [[{ userId: 'user_\u0007bell', amount: 1 }], 'invalid_argument', 'userId'],
    ];
    for (const [items, code, field] of cases) {
      const response = await app.client.query(ADD, { id: job.id, items });
      expect([errorCode(response), response.body.errors?.[0]?.extensions?.field]).toEqual([code, field]);
    }
    const five = Array.from({ length: 500 }, (_, i) => ({ userId: `user_limit_${randomUUID().slice(0, 6)}_${i}`, amount: 1 }));
    expect(await bulk.add(job.id, five)).toMatchObject({ total: 500, queued: 500 });
  });

  it('holds at most 100,000 items a job', async () => {
    const job = await bulk.create('INC-48 cap');
    await bulk.add(job.id, [{ userId: `user_cap_${randomUUID()}`, amount: 1 }]);
    // 99,999 items are too many to add in a test: the count is what the cap is checked against.
    const pg = new Client({ connectionString: TEST_DATABASE_URL });
    await pg.connect();
    try {
      await pg.query(`update "${app.config.database.kind === 'postgres' ? app.config.database.schema : 'public'}".bulk_adjustments set total = 99999 where id = $1`, [job.id]);
    } finally {
      await pg.end();
    }
    const over = await app.client.query(ADD, { id: job.id, items: [1, 2].map((i) => ({ userId: `user_cap_${i}_${randomUUID()}`, amount: 1 })) });
    expect([errorCode(over), over.body.errors?.[0]?.extensions?.field]).toEqual(['invalid_argument', 'items']);
    expect(await bulk.add(job.id, [{ userId: `user_cap_last_${randomUUID()}`, amount: 1 }])).toMatchObject({ total: 100_000 });
  });

  it('answers 409 invalid_state for adding to or starting a job that is not a DRAFT, and for starting an empty one', async () => {
    const empty = await bulk.create('INC-49 empty');
    const startEmpty = await app.client.query(START, { id: empty.id });
    expect([startEmpty.status, errorCode(startEmpty)]).toEqual([409, 'invalid_state']);

    const items = customers('state', 2);
    const job = await bulk.run('INC-49 state', items);
    const addRunning = await app.client.query(ADD, { id: job.id, items: customers('state_late', 1) });
    expect([addRunning.status, errorCode(addRunning)]).toEqual([409, 'invalid_state']);
    const startAgain = await app.client.query(START, { id: job.id });
    expect([startAgain.status, errorCode(startAgain)]).toEqual([409, 'invalid_state']);
    await bulk.waitFor(job.id, 'COMPLETED');
    const addCompleted = await app.client.query(ADD, { id: job.id, items: customers('state_later', 1) });
    expect([addCompleted.status, errorCode(addCompleted)]).toEqual([409, 'invalid_state']);
    const cancelCompleted = await app.client.query(CANCEL, { id: job.id });
    expect([cancelCompleted.status, errorCode(cancelCompleted)]).toEqual([409, 'invalid_state']);
    expect((await bulk.get(job.id))?.total).toBe(2);
  });

  it('answers 404 not_found for an unknown id on every mutation, and null on the query', async () => {
    const unknown = `bulk_${randomUUID().replace(/-/g, '')}`;
    for (const [query, variables] of [
      [ADD, { id: unknown, items: [{ userId: 'user_x', amount: 1 }] }],
      [START, { id: unknown }],
      [CANCEL, { id: unknown }],
    ] as const) {
      const response = await app.client.query(query, variables);
      expect([response.status, errorCode(response), response.body.errors?.[0]?.extensions?.field]).toEqual([404, 'not_found', 'id']);
    }
    const read = await app.client.query(GET, { id: unknown });
    expect([read.status, read.body.data]).toEqual([200, { bulkAdjustment: null }]);
  });

  it('creates once per idempotency key, refuses the key for another job, and an unknown currency', async () => {
    const key = `bulk-key-${randomUUID()}`;
    const first = await bulk.create('INC-50 keyed', { idempotencyKey: key });
    const again = await bulk.create('INC-50 keyed', { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    const other = await app.client.query(CREATE, { input: { reason: 'INC-50 another', idempotencyKey: key } });
    expect([other.status, errorCode(other)]).toEqual([422, 'idempotency_key_reused']);
    const currency = await app.client.query(CREATE, { input: { reason: 'INC-50 gems', currency: 'GEMS' } });
    expect([errorCode(currency), currency.body.errors?.[0]?.extensions?.field]).toEqual(['unknown_currency', 'currency']);
    const reason = await app.client.query(CREATE, { input: { reason: ' \u200b ' } });
    expect([errorCode(reason), reason.body.errors?.[0]?.extensions?.field]).toEqual(['invalid_argument', 'reason']);
  });

  it("pages a job's items by status, and the jobs themselves newest first", async () => {
    const items = customers('paging', 7);
    const job = await bulk.create('INC-51 paging');
    await bulk.add(job.id, items);
    const queued = await allItems(job.id, 'QUEUED');
    expect(queued.map((item) => item.userId).sort()).toEqual(items.map((item) => item.userId).sort());
    expect(await allItems(job.id, 'APPLIED')).toEqual([]);
    const firstPage = await app.client.query<ItemsPage>(ITEMS, { id: job.id, first: 3 });
    expect(firstPage.body.data!.bulkAdjustment.items.nodes).toHaveLength(3);
    expect(firstPage.body.data!.bulkAdjustment.items.pageInfo.hasNextPage).toBe(true);
    const malformed = await app.client.query(ITEMS, { id: job.id, first: 3, after: 'not-a-cursor' });
    expect([errorCode(malformed), malformed.body.errors?.[0]?.extensions?.field]).toEqual(['invalid_argument', 'after']);

    const later = await bulk.create('INC-51 later');
    const list = await app.client.query<{ bulkAdjustments: { nodes: Job[]; pageInfo: { endCursor: string; hasNextPage: boolean } } }>(
      'query { bulkAdjustments(first: 2) { nodes { id total queued status } pageInfo { endCursor hasNextPage } } }',
    );
    expect(list.body.data!.bulkAdjustments.nodes).toEqual([
      { id: later.id, total: 0, queued: 0, status: 'DRAFT' },
      { id: job.id, total: 7, queued: 7, status: 'DRAFT' },
    ]);
    expect(list.body.data!.bulkAdjustments.pageInfo.hasNextPage).toBe(true);
    const next = await app.client.query<{ bulkAdjustments: { nodes: Job[] } }>('query ($after: String) { bulkAdjustments(first: 100, after: $after) { nodes { id } } }', {
      after: list.body.data!.bulkAdjustments.pageInfo.endCursor,
    });
    expect(next.body.data!.bulkAdjustments.nodes.map((node) => node.id)).not.toContain(later.id);
  });

  it('follows a job over graphql-ws: its state at once, at most once a second while it changes, the end, then completes', async () => {
    const items = customers('progress', 20);
    const job = await bulk.create('INC-52 progress');
    await bulk.add(job.id, items);
    const socket = ws();
    await socket.connected;
    const events: Array<{ at: number; job: Job }> = [];
    let completedAt = 0;
    const failures: unknown[] = [];
    socket.client.subscribe<{ bulkAdjustmentProgress: Job }>(
      { query: PROGRESS, variables: { id: job.id } },
      {
        next: (result) => {
          if (result.errors) failures.push(result.errors);
          if (result.data) events.push({ at: Date.now(), job: result.data.bulkAdjustmentProgress });
        },
        error: (error) => failures.push(error),
        complete: () => (completedAt = Date.now()),
      },
    );
    await waitFor(() => events.length === 1, 5000, 'the state on subscribe');
    expect(events[0].job).toMatchObject({ id: job.id, status: 'DRAFT', total: 20, queued: 20, applied: 0 });

    await bulk.start(job.id);
    await waitFor(() => completedAt > 0, 15_000, 'the subscription to complete');
    expect(failures).toEqual([]);
    const last = events[events.length - 1];
    expect(last.job).toMatchObject({ status: 'COMPLETED', applied: 20, queued: 0, etaSeconds: null });
    // 20 items at 7.5 a second take about 2.7 s: a few updates in between, none closer than a second.
    expect(events.length).toBeGreaterThanOrEqual(3);
    const gaps = events.slice(2).map((event, i) => event.at - events[i + 1].at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(900);
    expect(events.filter((event) => event.job.status === 'COMPLETED')).toHaveLength(1);
    const running = events.filter((event) => event.job.status === 'RUNNING');
    expect(running.length).toBeGreaterThanOrEqual(1);
    expect(running.every((event) => event.job.applied + event.job.queued === 20)).toBe(true);
  });

  it('answers a subscription to an unknown job with not_found', async () => {
    const socket = ws();
    await socket.connected;
    const progress = subscribe(socket, PROGRESS, { id: `bulk_${randomUUID().replace(/-/g, '')}` });
    const errors = (await progress.failed) as Array<{ extensions?: Record<string, unknown> }>;
    expect(errors[0]?.extensions).toMatchObject({ code: 'not_found', field: 'id' });
  });

  it('is for ADMIN credentials only: an operator below ADMIN may read jobs but not create or run them', async () => {
    const operators = app.app.get(OperatorRepository);
    const credential = async (role: 'VIEWER' | 'SUPERVISOR' | 'ADMIN') => {
      const { token, tokenHash, tokenPrefix } = issueOperatorToken();
      const id = randomUUID();
      await operators.create({
        id,
        name: `Bulk ${role}`,
        role,
        maxAdjustment: null,
        dailyLimit: null,
        tokenHash,
        tokenPrefix,
        createdBy: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: null },
      });
      return { id, client: app.client.withToken(token) };
    };
    const supervisor = await credential('SUPERVISOR');
    const refused = await supervisor.client.query(CREATE, { input: { reason: 'INC-53 not mine' } });
    expect([refused.status, errorCode(refused), refused.body.errors?.[0]?.extensions?.requiredRole]).toEqual([403, 'forbidden', 'ADMIN']);

    const admin = await credential('ADMIN');
    const items = customers('operator', 2);
    const job = await new BulkClient(admin.client).run('INC-53 by an operator', items);
    expect(job.createdBy).toEqual({ operatorId: admin.id, name: 'Bulk ADMIN', role: 'ADMIN', onBehalfOf: null });
    await bulk.waitFor(job.id, 'COMPLETED');
    expect((await allItems(job.id)).map((record) => record.actor)).toEqual([job.createdBy, job.createdBy]);

    const viewer = await credential('VIEWER');
    const read = await viewer.client.query(GET, { id: job.id });
    expect(read.body.data).toMatchObject({ bulkAdjustment: { id: job.id, status: 'COMPLETED', applied: 2 } });
    const cancel = await viewer.client.query(CANCEL, { id: job.id });
    expect([cancel.status, errorCode(cancel)]).toEqual([403, 'forbidden']);
  });
});
