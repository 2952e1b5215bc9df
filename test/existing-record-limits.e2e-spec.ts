import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { adjustmentIdFor, upstreamKeyFor } from '../src/idempotency/idempotency-keys';
import { BulkClient } from './helpers/bulk';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { describeWithPostgres, TEST_DATABASE_URL } from './helpers/postgres';
import { startApp, TestApp } from './helpers/test-app';

/**
 * Every way adjustCredits and reverseAdjustment reach a journal record that already exists: a bulk item's
 * key (the job's alone), an UNKNOWN record or a PENDING one whose lease ran out (sent again, so within the
 * caller's role and limits), and a settled record (replayed to anyone, nothing sent).
 */
const ACTOR = 'operatorId name role';
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) {
  adjustCredits(input: $input) { id amount balance replayed idempotencyKey actor { ${ACTOR} } approvedBy { ${ACTOR} } }
}`;
const REVERSE = `mutation Reverse($input: ReverseAdjustmentInput!) { reverseAdjustment(input: $input) { id amount balance replayed idempotencyKey } }`;
const APPROVE = `mutation Approve($id: ID!) { approveAdjustment(id: $id) { id amount balance replayed actor { ${ACTOR} } } }`;
const CREATE_OPERATOR = `mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { id name role } } }`;
const ITEMS = `query Items($id: ID!) { bulkAdjustment(id: $id) { items(first: 10) { nodes { id userId amount status idempotencyKey } } } }`;
const RECORD = `query Record($id: ID!) { adjustment(id: $id) { id status amount balance errorCode actor { ${ACTOR} } } }`;
const BY_OPERATOR = `query ByOperator($operatorId: ID!) { adjustments(filter: { operatorId: $operatorId }) { nodes { id amount status } } }`;
const REQUESTS = `query Requests { approvalRequests(first: 50) { nodes { id idempotencyKey status amount requestedBy { ${ACTOR} } } } }`;

type Role = 'VIEWER' | 'AGENT' | 'SUPERVISOR' | 'ADMIN';
interface Credential {
  operator: { id: string; name: string; role: Role };
  client: GraphQLClient;
}
type Adjusted = { id: string; amount: number; balance: number; replayed: boolean; idempotencyKey: string; actor: Record<string, unknown> };

const user = (label: string) => `user_reach_${label}_${randomUUID().slice(0, 8)}`;
const key = (label: string) => `reach-${label}-${randomUUID()}`;
const idOf = (idempotencyKey: string) => adjustmentIdFor(upstreamKeyFor(idempotencyKey));

describeWithPostgres('an existing journal record reached through its key', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;
  let db: Client;

  beforeAll(async () => {
    await emulator.listen();
    app = await startApp({ emulator, env: { REVENUECAT_MAX_RETRIES: '0', REVENUECAT_TIMEOUT_MS: '1000' } });
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await app?.close();
    await emulator.close();
  });

  async function operator(role: Role, limits: { maxAdjustment?: number; dailyLimit?: number } = {}): Promise<Credential> {
    const response = await app.client.query<{ createOperator: { token: string; operator: Credential['operator'] } }>(CREATE_OPERATOR, {
      input: { name: `${role.toLowerCase()} ${randomUUID().slice(0, 6)}`, role, ...limits },
    });
    const created = response.body.data?.createOperator;
    if (!created) throw new Error(`createOperator failed: ${JSON.stringify(response.body.errors)}`);
    return { operator: created.operator, client: app.client.withToken(created.token) };
  }

  function adjust(client: GraphQLClient, input: Record<string, unknown>): Promise<GraphQLResponse<{ adjustCredits: Adjusted | null }>> {
    return client.query(ADJUST, { input: { reason: 'REACH-1 goodwill', ...input } });
  }

  async function record(id: string): Promise<Record<string, unknown> | null> {
    const response = await app.client.query<{ adjustment: Record<string, unknown> | null }>(RECORD, { id });
    return response.body.data!.adjustment;
  }

  /** A root-secret adjustment whose outcome is UNKNOWN: RevenueCat answered 503 (nothing applied). */
  async function unknownRecord(userId: string, amount: number, idempotencyKey: string, client = app.client): Promise<void> {
    emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, status: 503, count: 1 });
    const lost = await adjust(client, { userId, amount, idempotencyKey });
    expect(lost.body.errors?.[0]?.extensions).toMatchObject({ code: 'rc_call_failed', outcome: 'unknown', adjustmentId: idOf(idempotencyKey) });
    expect(await record(idOf(idempotencyKey))).toMatchObject({ status: 'UNKNOWN' });
  }

  async function approvalRequestsFor(idempotencyKey: string): Promise<Array<Record<string, unknown>>> {
    const response = await app.client.query<{ approvalRequests: { nodes: Array<Record<string, unknown>> } }>(REQUESTS);
    return response.body.data!.approvalRequests.nodes.filter((node) => node.idempotencyKey === idempotencyKey);
  }

  it("refuses a bulk item's key to adjustCredits and reverseAdjustment, whoever sends it, with nothing sent; the job's runner applies it once", async () => {
    const [viewer, agent] = [await operator('VIEWER'), await operator('AGENT', { maxAdjustment: 100, dailyLimit: 1000 })];
    const userId = user('bulk');
    emulator.addCustomer(userId, { CRD: 0 });
    const bulk = new BulkClient(app.client);
    const reason = 'OUT-7 outage credit';
    const job = await bulk.create(reason);
    await bulk.add(job.id, [{ userId, amount: 50_000 }]);
    // Any VIEWER reads the item's key.
    const items = await viewer.client.query<{ bulkAdjustment: { items: { nodes: Array<{ id: string; idempotencyKey: string; status: string }> } } }>(ITEMS, { id: job.id });
    const [item] = items.body.data!.bulkAdjustment.items.nodes;
    expect(item.status).toBe('QUEUED');

    const grantee = user('grantee');
    emulator.addCustomer(grantee, { CRD: 0 });
    const grant = (await adjust(app.client, { userId: grantee, amount: 50_000 })).body.data!.adjustCredits!;
    const before = emulator.count('create_transaction');
    const input = { userId, amount: 50_000, reason, idempotencyKey: item.idempotencyKey };
    for (const client of [agent.client, app.client]) {
      const refused = await adjust(client, input);
      expect([refused.status, errorCode(refused)]).toEqual([422, 'idempotency_key_reused']);
    }
    const header = await agent.client.query(ADJUST, { input: { userId, amount: 50_000, reason } }, { headers: { 'Idempotency-Key': item.idempotencyKey } });
    expect([header.status, errorCode(header)]).toEqual([422, 'idempotency_key_reused']);
    const reversal = await agent.client.query(REVERSE, { input: { adjustmentId: grant.id, reason, idempotencyKey: item.idempotencyKey } });
    expect([reversal.status, errorCode(reversal)]).toEqual([422, 'idempotency_key_reused']);

    expect(emulator.count('create_transaction')).toBe(before);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(0);
    expect(await record(item.id)).toMatchObject({ status: 'QUEUED', amount: 50_000, actor: { operatorId: null, name: 'admin', role: 'ADMIN' } });
    expect(await approvalRequestsFor(item.idempotencyKey)).toEqual([]);
    const byAgent = await app.client.query<{ adjustments: { nodes: unknown[] } }>(BY_OPERATOR, { operatorId: agent.operator.id });
    expect(byAgent.body.data!.adjustments.nodes).toEqual([]);

    // The job's runner sends it, once; the key stays the job's once the item is settled.
    await bulk.start(job.id);
    const done = await bulk.waitFor(job.id, 'COMPLETED');
    expect([done.applied, done.total]).toEqual([1, 1]);
    expect(emulator.count('create_transaction', userId)).toBe(1);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(50_000);
    const afterRun = await adjust(agent.client, input);
    expect([afterRun.status, errorCode(afterRun)]).toEqual([422, 'idempotency_key_reused']);
    expect(emulator.count('create_transaction', userId)).toBe(1);
  });

  it("sends an UNKNOWN record again only within the caller's limits: over them it waits for approval, with nothing sent", async () => {
    const agent = await operator('AGENT', { maxAdjustment: 100 });
    const supervisor = await operator('SUPERVISOR');
    const userId = user('unknown');
    emulator.addCustomer(userId, { CRD: 0 });
    const lostKey = key('unknown');
    await unknownRecord(userId, 50_000, lostKey);
    const before = emulator.count('create_transaction', userId);

    const held = await adjust(agent.client, { userId, amount: 50_000, idempotencyKey: lostKey });
    expect(held.status).toBe(403);
    expect(held.body.errors?.[0]?.extensions).toMatchObject({ code: 'approval_required', limit: 'maxAdjustment' });
    const approvalRequestId = held.body.errors![0].extensions!.approvalRequestId as string;
    expect(emulator.count('create_transaction', userId)).toBe(before);
    expect(await record(idOf(lostKey))).toMatchObject({ status: 'UNKNOWN' });
    // The same key again finds the same request.
    const again = await adjust(agent.client, { userId, amount: 50_000, idempotencyKey: lostKey });
    expect(again.body.errors?.[0]?.extensions).toMatchObject({ code: 'approval_required', approvalRequestId });
    expect(await approvalRequestsFor(lostKey)).toEqual([
      expect.objectContaining({
        id: approvalRequestId,
        status: 'PENDING',
        amount: 50_000,
        requestedBy: { operatorId: agent.operator.id, name: agent.operator.name, role: 'AGENT' },
      }),
    ]);
    expect(emulator.count('create_transaction', userId)).toBe(before);

    // Approved, it is sent once, as the record it is (its actor stays the one who made it).
    const approved = await supervisor.client.query<{ approveAdjustment: Adjusted }>(APPROVE, { id: approvalRequestId });
    expect(approved.body.data?.approveAdjustment).toMatchObject({ id: idOf(lostKey), amount: 50_000, balance: 50_000, actor: { operatorId: null, name: 'admin' } });
    expect(emulator.count('create_transaction', userId)).toBe(before + 1);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(50_000);
    const replay = await adjust(agent.client, { userId, amount: 50_000, idempotencyKey: lostKey });
    expect(replay.body.data?.adjustCredits).toMatchObject({ id: idOf(lostKey), replayed: true, balance: 50_000 });
    expect(emulator.count('create_transaction', userId)).toBe(before + 1);
  });

  it("counts an UNKNOWN record once against its own operator's daily limit, and against another retrier's as a new one", async () => {
    const owner = await operator('AGENT', { dailyLimit: 100 });
    const other = await operator('AGENT', { dailyLimit: 100 });
    const userId = user('daily');
    emulator.addCustomer(userId, { CRD: 0 });
    expect((await adjust(other.client, { userId, amount: 60 })).body.data?.adjustCredits?.balance).toBe(60);
    const lostKey = key('daily');
    await unknownRecord(userId, 80, lostKey, owner.client);
    const before = emulator.count('create_transaction', userId);

    // 60 used today + 80 is over the other operator's 100: nothing sent.
    const held = await adjust(other.client, { userId, amount: 80, idempotencyKey: lostKey });
    expect(held.body.errors?.[0]?.extensions).toMatchObject({ code: 'approval_required', limit: 'dailyLimit' });
    expect(emulator.count('create_transaction', userId)).toBe(before);

    // Its owner reserved the 80 when it was first sent; the retry is not counted twice.
    const settled = await adjust(owner.client, { userId, amount: 80, idempotencyKey: lostKey });
    expect(settled.body.data?.adjustCredits).toMatchObject({ id: idOf(lostKey), balance: 140, replayed: false, actor: { operatorId: owner.operator.id } });
    expect(emulator.count('create_transaction', userId)).toBe(before + 1);
    expect(errorCode(await adjust(owner.client, { userId, amount: 21 }))).toBe('approval_required');
    expect(emulator.count('create_transaction', userId)).toBe(before + 1);
  });

  it("sends a PENDING record whose lease ran out again only within the caller's limits", async () => {
    const agent = await operator('AGENT', { maxAdjustment: 100 });
    const supervisor = await operator('SUPERVISOR');
    const userId = user('lease');
    emulator.addCustomer(userId, { CRD: 0 });
    const lostKey = key('lease');
    await unknownRecord(userId, 5_000, lostKey);
    // As a crash between RevenueCat's answer and the settlement leaves it.
    const schema = app.config.database.kind === 'postgres' ? app.config.database.schema : undefined;
    const updated = await db.query(
      `update "${schema}".adjustments set status = 'PENDING', lease_token = 'crashed', lease_expires_at = now() - interval '1 second' where id = $1`,
      [idOf(lostKey)],
    );
    expect(updated.rowCount).toBe(1);
    const before = emulator.count('create_transaction', userId);

    const held = await adjust(agent.client, { userId, amount: 5_000, idempotencyKey: lostKey });
    expect([held.status, errorCode(held)]).toEqual([403, 'approval_required']);
    expect(emulator.count('create_transaction', userId)).toBe(before);
    // A PENDING record whose lease ran out reads as UNKNOWN: it needs a retry, like one.
    expect(await record(idOf(lostKey))).toMatchObject({ status: 'UNKNOWN' });

    // A SUPERVISOR with no limits sends it, once.
    const settled = await adjust(supervisor.client, { userId, amount: 5_000, idempotencyKey: lostKey });
    expect(settled.body.data?.adjustCredits).toMatchObject({ id: idOf(lostKey), balance: 5_000, replayed: false });
    expect(emulator.count('create_transaction', userId)).toBe(before + 1);
  });

  it("sends an UNKNOWN reversal again only within the caller's limits", async () => {
    const agent = await operator('AGENT', { maxAdjustment: 100 });
    const userId = user('reversal');
    emulator.addCustomer(userId, { CRD: 0 });
    const grant = await adjust(app.client, { userId, amount: 3_000 });
    const originalId = grant.body.data!.adjustCredits!.id;
    const reversalKey = key('reversal');
    emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, status: 503, count: 1 });
    const input = { adjustmentId: originalId, reason: 'REACH-2 undo', idempotencyKey: reversalKey };
    expect((await app.client.query(REVERSE, { input })).body.errors?.[0]?.extensions).toMatchObject({ outcome: 'unknown' });
    const before = emulator.count('create_transaction', userId);

    const held = await agent.client.query(REVERSE, { input });
    expect([held.status, errorCode(held)]).toEqual([403, 'approval_required']);
    expect(emulator.count('create_transaction', userId)).toBe(before);
    const settled = await app.client.query<{ reverseAdjustment: Adjusted }>(REVERSE, { input });
    expect(settled.body.data?.reverseAdjustment).toMatchObject({ id: idOf(reversalKey), amount: -3_000, balance: 0, replayed: false });
    expect(emulator.count('create_transaction', userId)).toBe(before + 1);
  });

  it('replays a settled record to anyone who sends its key, over their limits too, with nothing sent; a VIEWER is still refused', async () => {
    const agent = await operator('AGENT', { maxAdjustment: 100, dailyLimit: 100 });
    const viewer = await operator('VIEWER');
    const userId = user('replay');
    emulator.addCustomer(userId, { CRD: 0 });
    const appliedKey = key('replay');
    const first = await adjust(app.client, { userId, amount: 50_000, idempotencyKey: appliedKey });
    expect(first.body.data?.adjustCredits).toMatchObject({ balance: 50_000, replayed: false });
    const before = emulator.count('create_transaction', userId);

    const replay = await adjust(agent.client, { userId, amount: 50_000, idempotencyKey: appliedKey });
    expect(replay.body.data?.adjustCredits).toMatchObject({ id: idOf(appliedKey), balance: 50_000, replayed: true, actor: { operatorId: null, name: 'admin' } });
    const low = await adjust(viewer.client, { userId, amount: 50_000, idempotencyKey: appliedKey });
    expect(low.body.errors?.[0]?.extensions).toMatchObject({ code: 'forbidden', requiredRole: 'AGENT' });
    expect(emulator.count('create_transaction', userId)).toBe(before);
    expect(await approvalRequestsFor(appliedKey)).toEqual([]);
  });
});
