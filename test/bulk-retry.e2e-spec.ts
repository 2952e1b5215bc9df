import { TestingModuleBuilder } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { BULK_RUNNER_OPTIONS, MAX_ITEM_ATTEMPTS } from '../src/bulk/bulk-runner';
import { bulkItemKey } from '../src/idempotency/idempotency-keys';
import { issueOperatorToken } from '../src/operators/operator-token';
import { OperatorRepository } from '../src/operators/operator.repository';
import { BulkClient, Item, Job, JOB_FIELDS } from './helpers/bulk';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { createTestSchema, describeWithPostgres, TestSchema } from './helpers/postgres';
import { ADMIN_SECRET, startApp, TestApp } from './helpers/test-app';
import { connectWs, subscribe, TestWsClient, waitFor } from './helpers/ws-client';

const RETRY = `mutation Retry($id: ID!) { retryBulkAdjustment(id: $id) { ${JOB_FIELDS} } }`;
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id replayed } }`;
const UNKNOWN_ITEMS = `query Unknown($id: ID!) { bulkAdjustment(id: $id) { items(status: UNKNOWN, first: 100) { nodes { userId amount idempotencyKey } } } }`;
const ITEMS = `query Items($id: ID!) { bulkAdjustment(id: $id) { items(first: 100) { nodes { userId status balance errorCode } } } }`;
const USAGE = 'subscription { usageChanged { userId delta balance } }';
const PROGRESS = 'subscription Progress($id: ID!) { bulkAdjustmentProgress(id: $id) { id status queued applied unknown } }';

const APP_ENV = {
  REVENUECAT_TRANSACTIONS_PER_MINUTE: '600',
  REVENUECAT_MAX_RETRIES: '0',
  RATE_LIMIT_READS_PER_MINUTE: '100000',
  RATE_LIMIT_MUTATIONS_PER_MINUTE: '100000',
  RATE_LIMIT_BULK_ITEMS_PER_MINUTE: '100000',
};

type ItemNode = { userId: string; status: string; balance: number | null; errorCode: string | null };

describeWithPostgres("bulk adjustments: handing a completed job's UNKNOWN items back to its runner", () => {
  const emulator = new RevenueCatEmulator({ rateLimits: { virtual_currencies_create_transaction: Infinity, customer_information: Infinity } });
  let schema: TestSchema;
  // Two instances on one schema: either may run the job, and both may be asked to retry it at once.
  let first: TestApp;
  let second: TestApp;
  let bulk: BulkClient;
  const sockets: TestWsClient[] = [];

  function customers(label: string, count: number, balance = 100, amount = 25): Item[] {
    const run = randomUUID().slice(0, 8);
    return Array.from({ length: count }, (_, i) => {
      const userId = `user_${label}_${run}_${i}`;
      emulator.addCustomer(userId, { CRD: balance });
      return { userId, amount };
    });
  }

  const transactionsFor = (userId: string) => emulator.transactions.filter((transaction) => transaction.customerId === userId).length;

  async function items(client: GraphQLClient, id: string): Promise<Map<string, ItemNode>> {
    const response = await client.query<{ bulkAdjustment: { items: { nodes: ItemNode[] } } }>(ITEMS, { id });
    return new Map(response.body.data!.bulkAdjustment.items.nodes.map((node) => [node.userId, node]));
  }

  function ws(app: TestApp): TestWsClient {
    const socket = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    sockets.push(socket);
    return socket;
  }

  function retry(client: GraphQLClient, id: string): Promise<GraphQLResponse<{ retryBulkAdjustment: Job | null }>> {
    return client.query<{ retryBulkAdjustment: Job | null }>(RETRY, { id });
  }

  /** A job run to COMPLETED where item 0 was applied upstream but never answered, and item 1 never reached it. */
  async function completedWithUnknownItems(label: string): Promise<{ job: Job; items: Item[] }> {
    const list = customers(label, 4);
    emulator.injectFault({ endpoint: 'create_transaction', customerId: list[0].userId, status: 500, applyFirst: true, count: Infinity });
    emulator.injectFault({ endpoint: 'create_transaction', customerId: list[1].userId, status: 503, count: Infinity });
    const started = await bulk.run(`INC-61 ${label}`, list);
    const done = await bulk.waitFor(started.id, 'COMPLETED', 30_000);
    expect(done).toMatchObject({ total: 4, applied: 2, unknown: 2, queued: 0 });
    expect(emulator.count('create_transaction', list[0].userId)).toBe(MAX_ITEM_ATTEMPTS);
    expect(emulator.count('create_transaction', list[1].userId)).toBe(MAX_ITEM_ATTEMPTS);
    emulator.clearFaults();
    return { job: done, items: list };
  }

  beforeAll(async () => {
    await emulator.listen();
    schema = await createTestSchema('bulk_retry');
    const options = {
      emulator,
      env: { ...APP_ENV, DATABASE_SCHEMA: schema.name },
      override: (builder: TestingModuleBuilder) => builder.overrideProvider(BULK_RUNNER_OPTIONS).useValue({ retryPausesMs: [100] }),
    };
    first = await startApp(options);
    second = await startApp(options);
    bulk = new BulkClient(first.client);
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) await socket.dispose();
    emulator.clearFaults();
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await schema?.drop();
    await emulator.close();
  });

  it('re-sends the UNKNOWN items under their own keys: each applied once upstream, one usage.changed each, the job COMPLETED again', async () => {
    // Without Redis each instance announces what it applied to its own subscribers: listen to both.
    const watchers = [ws(first), ws(second)];
    await Promise.all(watchers.map((watcher) => watcher.connected));
    const usage = watchers.map((watcher) => subscribe<{ usageChanged: { userId: string; delta: number; balance: number } }>(watcher, USAGE));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const usageEvents = () =>
      usage.flatMap((subscription) => subscription.events.map((event) => event.usageChanged)).filter((event) => list.some((item) => item.userId === event.userId));

    const { job, items: list } = await completedWithUnknownItems('retry');
    // Item 0 landed upstream on its first call; item 1 never did.
    expect(transactionsFor(list[0].userId)).toBe(1);
    expect(transactionsFor(list[1].userId)).toBe(0);

    // The item's key is its job's: adjustCredits with it is refused, nothing sent.
    const unknown = await first.client.query<{ bulkAdjustment: { items: { nodes: Array<Item & { idempotencyKey: string }> } } }>(UNKNOWN_ITEMS, { id: job.id });
    const stuck = unknown.body.data!.bulkAdjustment.items.nodes.find((node) => node.userId === list[1].userId)!;
    expect(stuck.idempotencyKey).toBe(bulkItemKey(job.id, list[1].userId));
    const sentBefore = emulator.count('create_transaction');
    const direct = await first.client.query(ADJUST, { input: { userId: stuck.userId, amount: stuck.amount, reason: 'INC-61 retry', idempotencyKey: stuck.idempotencyKey } });
    expect([direct.status, errorCode(direct)]).toEqual([422, 'idempotency_key_reused']);
    expect(emulator.count('create_transaction')).toBe(sentBefore);

    // Both instances asked at once: the job is handed back once.
    const answers = await Promise.all([retry(first.client, job.id), retry(second.client, job.id)]);
    const handedBack = answers.filter((answer) => answer.body.data?.retryBulkAdjustment);
    const refused = answers.filter((answer) => !answer.body.data?.retryBulkAdjustment);
    expect(handedBack).toHaveLength(1);
    expect(refused.map((answer) => [answer.status, errorCode(answer)])).toEqual([[409, 'invalid_state']]);
    const running = handedBack[0].body.data!.retryBulkAdjustment!;
    expect(running).toMatchObject({ id: job.id, status: 'RUNNING', total: 4, applied: 2, unknown: 2, startedAt: job.startedAt, finishedAt: null });

    // Progress can be followed again, to the end.
    const follower = ws(first);
    await follower.connected;
    const progress = subscribe<{ bulkAdjustmentProgress: { status: string; applied: number; unknown: number } }>(follower, PROGRESS, { id: job.id });
    await waitFor(
      () => progress.events.some((event) => event.bulkAdjustmentProgress.status === 'COMPLETED'),
      20_000,
      'the retried job to complete over bulkAdjustmentProgress',
    );
    expect(progress.errors).toEqual([]);
    expect(progress.events[0].bulkAdjustmentProgress.status).toBe('RUNNING');
    expect(progress.events[progress.events.length - 1].bulkAdjustmentProgress).toMatchObject({ status: 'COMPLETED', applied: 4, unknown: 0 });

    const done = (await bulk.get(job.id))!;
    expect(done).toMatchObject({ status: 'COMPLETED', total: 4, applied: 4, unknown: 0, queued: 0, startedAt: job.startedAt });
    expect(done.finishedAt).not.toBeNull();
    expect(Date.parse(done.finishedAt!)).toBeGreaterThan(Date.parse(job.finishedAt!));

    // Exactly one RevenueCat transaction per item over both runs: item 0 was replayed, item 1 applied.
    for (const item of list) {
      expect(transactionsFor(item.userId)).toBe(1);
      expect(emulator.balanceOf(item.userId, 'CRD')).toBe(125);
    }
    // The re-sent items took one call each, under their own RevenueCat key.
    expect(emulator.count('create_transaction', list[0].userId)).toBe(MAX_ITEM_ATTEMPTS + 1);
    expect(emulator.count('create_transaction', list[1].userId)).toBe(MAX_ITEM_ATTEMPTS + 1);
    const keys = (userId: string) =>
      new Set(emulator.requests.filter((request) => request.endpoint === 'create_transaction' && request.customerId === userId).map((request) => request.idempotencyKey));
    expect(keys(list[0].userId).size).toBe(1);
    expect(keys(list[1].userId).size).toBe(1);
    const records = await items(second.client, job.id);
    for (const item of list) expect(records.get(item.userId)).toMatchObject({ status: 'APPLIED', balance: 125, errorCode: null });

    // One usage.changed per item over both runs, the retried ones included.
    await waitFor(() => usageEvents().length >= 4, 5000, 'four usage.changed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const events = usageEvents();
    expect(events.map((event) => event.userId).sort()).toEqual(list.map((item) => item.userId).sort());
    expect(events.every((event) => event.delta === 25 && event.balance === 125)).toBe(true);

    // Nothing UNKNOWN is left: a second retry is refused, nothing sent.
    const sent = emulator.count('create_transaction');
    const again = await retry(first.client, job.id);
    expect([again.status, errorCode(again), again.body.data?.retryBulkAdjustment ?? null]).toEqual([409, 'invalid_state', null]);
    expect((await bulk.get(job.id))!.status).toBe('COMPLETED');
    expect(emulator.count('create_transaction')).toBe(sent);
  }, 60_000);

  it('refuses a job that is not COMPLETED or has no UNKNOWN items (409), an unknown id (404), and callers below ADMIN (403)', async () => {
    const unknownId = `bulk_${randomUUID().replace(/-/g, '')}`;
    const missing = await retry(first.client, unknownId);
    expect([missing.status, errorCode(missing), missing.body.errors?.[0]?.extensions?.field]).toEqual([404, 'not_found', 'id']);

    const draft = await bulk.create('INC-62 draft');
    await bulk.add(draft.id, customers('draft', 1));
    const fromDraft = await retry(first.client, draft.id);
    expect([fromDraft.status, errorCode(fromDraft)]).toEqual([409, 'invalid_state']);
    expect((await bulk.get(draft.id))!.status).toBe('DRAFT');

    const cancelled = await bulk.cancel(draft.id);
    const fromCancelled = await retry(first.client, cancelled.id);
    expect([fromCancelled.status, errorCode(fromCancelled)]).toEqual([409, 'invalid_state']);
    expect((await bulk.get(draft.id))!.status).toBe('CANCELLED');

    const clean = await bulk.run('INC-62 clean', customers('clean', 2));
    const completed = await bulk.waitFor(clean.id, 'COMPLETED');
    const sent = emulator.count('create_transaction');
    const fromClean = await retry(first.client, clean.id);
    expect([fromClean.status, errorCode(fromClean)]).toEqual([409, 'invalid_state']);
    expect(await bulk.get(clean.id)).toMatchObject({ status: 'COMPLETED', finishedAt: completed.finishedAt });
    expect(emulator.count('create_transaction')).toBe(sent);

    // Below ADMIN: refused with the role it needs, the job untouched.
    const { job } = await completedWithUnknownItems('roles');
    const operators = first.app.get(OperatorRepository);
    for (const role of ['VIEWER', 'AGENT', 'SUPERVISOR'] as const) {
      const { token, tokenHash, tokenPrefix } = issueOperatorToken();
      await operators.create({
        id: randomUUID(),
        name: `Retry ${role}`,
        role,
        maxAdjustment: null,
        dailyLimit: null,
        tokenHash,
        tokenPrefix,
        createdBy: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: null },
      });
      const refused = await retry(first.client.withToken(token), job.id);
      expect([refused.status, errorCode(refused), refused.body.errors?.[0]?.extensions?.requiredRole]).toEqual([403, 'forbidden', 'ADMIN']);
    }
    expect(await bulk.get(job.id)).toMatchObject({ status: 'COMPLETED', unknown: 2, finishedAt: job.finishedAt });
  }, 60_000);
});
