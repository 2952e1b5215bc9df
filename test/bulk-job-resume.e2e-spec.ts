import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { bulkItemKey } from '../src/idempotency/idempotency-keys';
import { adjustmentIdFor, upstreamKeyFor } from '../src/idempotency/idempotency-keys';
import { BulkClient, Item } from './helpers/bulk';
import { GatewayProcess, startGatewayProcess, tryParse } from './helpers/gateway-process';
import { GraphQLClient } from './helpers/graphql-client';
import { createTestSchema, describeWithPostgres, TEST_DATABASE_URL, TestSchema } from './helpers/postgres';
import { ADMIN_SECRET } from './helpers/test-app';
import { waitFor } from './helpers/ws-client';

describeWithPostgres('a bulk job outlives the instance running it', () => {
  const emulator = new RevenueCatEmulator({ rateLimits: { virtual_currencies_create_transaction: Infinity, customer_information: Infinity } });
  const processes: GatewayProcess[] = [];
  let schema: TestSchema;
  let pg: Client;

  /** A real gateway process (src/main.ts) on the shared schema. */
  async function gateway(env: Record<string, string>): Promise<{ process: GatewayProcess; bulk: BulkClient }> {
    const started = await startGatewayProcess({
      ADMIN_SECRET,
      REVENUECAT_API_KEY: emulator.apiKey,
      REVENUECAT_PROJECT_ID: emulator.projectId,
      REVENUECAT_API_URL: emulator.baseUrl,
      DATABASE_SCHEMA: schema.name,
      IDEMPOTENCY_LEASE_SECONDS: '5',
      RATE_LIMIT_READS_PER_MINUTE: '100000',
      RATE_LIMIT_MUTATIONS_PER_MINUTE: '100000',
      ...env,
    });
    processes.push(started);
    return { process: started, bulk: new BulkClient(new GraphQLClient(`${started.url}/graphql`, ADMIN_SECRET)) };
  }

  function customers(label: string, count: number): Item[] {
    const run = randomUUID().slice(0, 8);
    return Array.from({ length: count }, (_, i) => {
      const userId = `user_${label}_${run}_${i}`;
      emulator.addCustomer(userId, { CRD: 1000 });
      return { userId, amount: 7 };
    });
  }

  function appliedUpstream(items: Item[]): number {
    const users = new Set(items.map((item) => item.userId));
    return emulator.transactions.filter((transaction) => users.has(transaction.customerId)).length;
  }

  /** Every item paid exactly once: one RevenueCat transaction and one balance change per customer. */
  function expectEachAppliedOnce(items: Item[]): void {
    for (const item of items) {
      expect([item.userId, emulator.transactions.filter((transaction) => transaction.customerId === item.userId).length]).toEqual([item.userId, 1]);
      expect(emulator.balanceOf(item.userId, 'CRD')).toBe(1007);
    }
  }

  async function jobRow(id: string): Promise<{ status: string; lease_owner: string | null }> {
    const result = await pg.query<{ status: string; lease_owner: string | null }>(`select status, lease_owner from "${schema.name}".bulk_adjustments where id = $1`, [id]);
    return result.rows[0];
  }

  async function itemStatuses(id: string): Promise<Record<string, number>> {
    const result = await pg.query<{ status: string; count: number }>(
      `select status, count(*)::int as count from "${schema.name}".adjustments where bulk_adjustment_id = $1 group by status`,
      [id],
    );
    return Object.fromEntries(result.rows.map((row) => [row.status, row.count]));
  }

  beforeAll(async () => {
    await emulator.listen();
    schema = await createTestSchema('bulk_resume');
    pg = new Client({ connectionString: TEST_DATABASE_URL });
    await pg.connect();
  });
  afterEach(() => {
    emulator.clearFaults();
    for (const started of processes.splice(0)) started.kill('SIGKILL');
  });
  afterAll(async () => {
    await pg?.end();
    await schema?.drop();
    await emulator.close();
  });

  it('SIGKILL mid-job: another process resumes it once the lease runs out, and every item is applied exactly once', async () => {
    const items = customers('killed', 60);
    const first = await gateway({ BULK_LEASE_SECONDS: '3', REVENUECAT_TRANSACTIONS_PER_MINUTE: '1200' });
    const job = await first.bulk.create('INC-70 survives a crash');
    await first.bulk.add(job.id, items);
    // Items added together are sent in the order of their ids. Two early ones are applied by RevenueCat
    // but answered late: in flight when the process dies.
    const idOf = (item: Item) => adjustmentIdFor(upstreamKeyFor(bulkItemKey(job.id, item.userId)));
    const late = [...items].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1)).slice(10, 12);
    for (const item of late) emulator.injectFault({ endpoint: 'create_transaction', customerId: item.userId, applyFirst: true, latencyMs: 30_000 });
    await first.bulk.start(job.id);
    await waitFor(() => appliedUpstream(items) >= 30, 20_000, '30 items applied upstream');
    first.process.kill('SIGKILL');
    await first.process.exited;

    const applied = appliedUpstream(items);
    expect(applied).toBeLessThan(60);
    // The dead process still holds the job (until its lease runs out), and the late items are PENDING under its claim.
    expect(await jobRow(job.id)).toMatchObject({ status: 'RUNNING', lease_owner: expect.any(String) });
    expect((await itemStatuses(job.id)).PENDING).toBeGreaterThanOrEqual(2);
    for (const item of late) expect(emulator.transactions.filter((t) => t.customerId === item.userId)).toHaveLength(1);

    const second = await gateway({ BULK_LEASE_SECONDS: '3', REVENUECAT_TRANSACTIONS_PER_MINUTE: '1200' });
    const done = await second.bulk.waitFor(job.id, 'COMPLETED', 30_000);
    expect(done).toMatchObject({ total: 60, applied: 60, queued: 0, unknown: 0, rejected: 0 });
    expectEachAppliedOnce(items);
    // The late items were sent again under their key, and RevenueCat answered with the first outcome.
    for (const item of late) {
      const sent = emulator.requests.filter((request) => request.customerId === item.userId && request.endpoint === 'create_transaction');
      expect(sent.map((request) => request.replayed)).toEqual([false, true]);
      expect(new Set(sent.map((request) => request.idempotencyKey)).size).toBe(1);
    }
    expect(second.process.output.some((line) => tryParse(line)?.msg === `running bulk adjustment ${job.id}`)).toBe(true);
    expect(await jobRow(job.id)).toEqual({ status: 'COMPLETED', lease_owner: null });
  }, 60_000);

  it('SIGTERM hands the job back at once: the next process takes it over without waiting for the lease', async () => {
    const items = customers('drained', 60);
    // A 30 s lease: a successor would wait that long for a job that was not handed back.
    const env = { BULK_LEASE_SECONDS: '30', REVENUECAT_TRANSACTIONS_PER_MINUTE: '600' };
    const first = await gateway(env);
    const job = await first.bulk.run('INC-71 survives a deploy', items);
    await waitFor(() => appliedUpstream(items) >= 10, 20_000, '10 items applied upstream');
    first.process.kill('SIGTERM');
    expect(await first.process.exited).toBe(0);

    // Its items in flight finished before it exited; the job is nobody's.
    expect(await jobRow(job.id)).toEqual({ status: 'RUNNING', lease_owner: null });
    const statuses = await itemStatuses(job.id);
    expect(statuses.PENDING ?? 0).toBe(0);
    expect(statuses.APPLIED).toBe(appliedUpstream(items));
    expect(first.process.output.some((line) => tryParse(line)?.msg === `bulk adjustment ${job.id} handed back`)).toBe(true);

    const before = appliedUpstream(items);
    const second = await gateway(env);
    // At once, not 20 to 30 s later when the lease would have run out: it was handed back.
    await waitFor(() => appliedUpstream(items) > before, 3_000, 'the next process to take the job over');
    await second.bulk.waitFor(job.id, 'COMPLETED', 20_000);
    expectEachAppliedOnce(items);
  }, 60_000);
});
