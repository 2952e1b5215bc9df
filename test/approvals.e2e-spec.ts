import { randomUUID } from 'node:crypto';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { Clock } from '../src/common/clock';
import { ManualClock } from '../src/common/testing/manual-clock';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { describeWithPostgres } from './helpers/postgres';
import { startApp, startTwoInstancesOnRedis, TestApp, TwoInstances } from './helpers/test-app';
import { connectWs, subscribe } from './helpers/ws-client';

const CREATE = `mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { id name role } } }`;
const UPDATE = `mutation Update($input: UpdateOperatorInput!) { updateOperator(input: $input) { id maxAdjustment dailyLimit } }`;
const ACTOR = 'operatorId name role onBehalfOf';
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) {
  adjustCredits(input: $input) { id balance replayed idempotencyKey actor { ${ACTOR} } approvedBy { ${ACTOR} } }
}`;
const APPROVE = `mutation Approve($id: ID!) {
  approveAdjustment(id: $id) { id balance replayed idempotencyKey actor { ${ACTOR} } approvedBy { ${ACTOR} } }
}`;
const REJECT = `mutation Reject($id: ID!, $reason: String!) {
  rejectAdjustment(id: $id, reason: $reason) { id status decisionReason decidedBy { ${ACTOR} } decidedAt adjustment { id } }
}`;
const REQUESTS = `query Requests($status: ApprovalStatus, $first: Int! = 20) {
  approvalRequests(status: $status, first: $first) {
    nodes { id userId currency amount reason idempotencyKey status requestedBy { ${ACTOR} } decidedBy { ${ACTOR} } decidedAt decisionReason
            adjustment { id status amount approvedBy { ${ACTOR} } actor { ${ACTOR} } } createdAt expiresAt }
    pageInfo { hasNextPage }
  }
}`;
const RECORD = `query Record($id: ID!) { adjustment(id: $id) { id status amount actor { ${ACTOR} } approvedBy { ${ACTOR} } } }`;
const USAGE = 'subscription Usage($userId: ID) { usageChanged(userId: $userId) { userId delta balance } }';

type Role = 'VIEWER' | 'AGENT' | 'SUPERVISOR' | 'ADMIN';
interface Credential {
  token: string;
  operator: { id: string; name: string; role: Role };
  client: GraphQLClient;
}
type Adjusted = { id: string; balance: number; replayed: boolean; idempotencyKey: string; actor: Record<string, unknown>; approvedBy: Record<string, unknown> | null };
type ApprovalNode = { id: string; status: string; amount: number; idempotencyKey: string; adjustment: Record<string, unknown> | null; decisionReason: string | null };

async function createOperator(app: TestApp, role: Role, limits: { maxAdjustment?: number; dailyLimit?: number } = {}): Promise<Credential> {
  const response = await app.client.query<{ createOperator: Omit<Credential, 'client'> }>(CREATE, {
    input: { name: `${role.toLowerCase()} ${randomUUID().slice(0, 6)}`, role, ...limits },
  });
  const created = response.body.data?.createOperator;
  if (!created) throw new Error(`createOperator failed: ${JSON.stringify(response.body.errors)}`);
  return { ...created, client: app.client.withToken(created.token) };
}

function adjust(client: GraphQLClient, input: Record<string, unknown>): Promise<GraphQLResponse<{ adjustCredits: Adjusted | null }>> {
  return client.query(ADJUST, { input: { reason: 'APR-1 goodwill', ...input } });
}

function approvalId(response: GraphQLResponse<unknown>): string {
  const extensions = response.body.errors?.[0]?.extensions;
  if (extensions?.code !== 'approval_required') throw new Error(`expected approval_required, got ${JSON.stringify(response.body)}`);
  return extensions.approvalRequestId as string;
}

async function requests(client: GraphQLClient, status?: string): Promise<ApprovalNode[]> {
  const response = await client.query<{ approvalRequests: { nodes: ApprovalNode[] } }>(REQUESTS, { status, first: 100 });
  if (!response.body.data) throw new Error(JSON.stringify(response.body.errors));
  return response.body.data.approvalRequests.nodes;
}

const actorOf = (credential: Credential) => ({ operatorId: credential.operator.id, name: credential.operator.name, role: credential.operator.role, onBehalfOf: null });
const user = (name: string) => `user_${name}_${randomUUID().slice(0, 8)}`;

describeWithPostgres('approvals: limits and a second pair of eyes', () => {
  let emulator: RevenueCatEmulator;
  let instances: TwoInstances;
  let app: TestApp;
  beforeAll(async () => {
    emulator = new RevenueCatEmulator();
    await emulator.listen();
    instances = await startTwoInstancesOnRedis({ emulator, env: { REVENUECAT_MAX_RETRIES: '0' } });
    app = instances.first;
  });
  afterAll(async () => {
    await instances?.close();
    await emulator.close();
  });

  it('over maxAdjustment: nothing applied, an approval request; the same key finds the same request; a SUPERVISOR applies it once', async () => {
    const agent = await createOperator(app, 'AGENT', { maxAdjustment: 100 });
    const supervisor = await createOperator(app, 'SUPERVISOR');
    const userId = user('max');
    emulator.addCustomer(userId, { CRD: 10 });
    const ws = connectWs(app.url, `Bearer ${supervisor.token}`);
    await ws.connected;
    const events = subscribe(ws, USAGE, { userId });
    await new Promise((resolve) => setTimeout(resolve, 100));

    const key = `apr-max-${randomUUID()}`;
    const before = emulator.count('create_transaction');
    const first = await adjust(agent.client, { userId, amount: 150, idempotencyKey: key });
    expect(first.status).toBe(403);
    expect(first.body.errors?.[0]?.extensions).toMatchObject({ code: 'approval_required', status: 403, limit: 'maxAdjustment' });
    const id = approvalId(first);
    const again = await adjust(agent.client, { userId, amount: 150, idempotencyKey: key });
    expect(approvalId(again)).toBe(id);
    expect(errorCode(await adjust(agent.client, { userId, amount: 151, idempotencyKey: key }))).toBe('idempotency_key_reused');
    // Within the limit, the same operator adjusts directly.
    expect((await adjust(agent.client, { userId, amount: 100 })).body.data?.adjustCredits?.balance).toBe(110);
    expect(emulator.count('create_transaction')).toBe(before + 1);
    const pending = (await requests(agent.client, 'PENDING')).filter((request) => request.idempotencyKey === key);
    expect(pending).toEqual([expect.objectContaining({ id, status: 'PENDING', amount: 150, adjustment: null })]);
    // Nothing in the journal under the key yet.
    const journal = await app.client.query<{ adjustments: { nodes: unknown[] } }>('query J($u: ID) { adjustments(filter: { userId: $u }) { nodes { id } } }', { u: userId });
    expect(journal.body.data!.adjustments.nodes).toHaveLength(1);

    const approved = await supervisor.client.query<{ approveAdjustment: Adjusted }>(APPROVE, { id });
    expect(approved.body.errors).toBeUndefined();
    expect(approved.body.data!.approveAdjustment).toMatchObject({
      balance: 260,
      replayed: false,
      idempotencyKey: key,
      actor: actorOf(agent),
      approvedBy: actorOf(supervisor),
    });
    expect(emulator.count('create_transaction')).toBe(before + 2);
    const adjustmentId = approved.body.data!.approveAdjustment.id;

    // The requester's retry with the key is the replay; deciding again is invalid_state.
    const replay = await adjust(agent.client, { userId, amount: 150, idempotencyKey: key });
    expect(replay.body.data?.adjustCredits).toMatchObject({ id: adjustmentId, replayed: true, balance: 260, approvedBy: actorOf(supervisor) });
    const decidedAgain = await app.client.query(APPROVE, { id });
    expect([decidedAgain.status, errorCode(decidedAgain)]).toEqual([409, 'invalid_state']);
    expect(emulator.count('create_transaction')).toBe(before + 2);

    const record = await app.client.query(RECORD, { id: adjustmentId });
    expect(record.body.data?.adjustment).toEqual({ id: adjustmentId, status: 'APPLIED', amount: 150, actor: actorOf(agent), approvedBy: actorOf(supervisor) });
    const [listed] = (await requests(app.client, 'APPROVED')).filter((request) => request.id === id);
    expect(listed.adjustment).toMatchObject({ id: adjustmentId, status: 'APPLIED', approvedBy: actorOf(supervisor), actor: actorOf(agent) });

    // One event per applied record: the direct grant and the approved one.
    expect((await events.next()).usageChanged.delta).toBe(100);
    expect((await events.next()).usageChanged.delta).toBe(150);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events.events).toHaveLength(2);
    await ws.dispose();
  });

  it('refuses self-approval, too low a role and an approver whose own maxAdjustment is lower', async () => {
    const requester = await createOperator(app, 'SUPERVISOR', { maxAdjustment: 10 });
    const agent = await createOperator(app, 'AGENT');
    const smallSupervisor = await createOperator(app, 'SUPERVISOR', { maxAdjustment: 20 });
    const userId = user('self');
    emulator.addCustomer(userId, { CRD: 0 });
    const id = approvalId(await adjust(requester.client, { userId, amount: 50 }));

    const own = await requester.client.query(APPROVE, { id });
    expect([own.status, errorCode(own)]).toEqual([403, 'forbidden']);
    const low = await agent.client.query(APPROVE, { id });
    expect(low.body.errors?.[0]?.extensions).toMatchObject({ code: 'forbidden', requiredRole: 'SUPERVISOR' });
    const overOwn = await smallSupervisor.client.query(APPROVE, { id });
    expect([overOwn.status, errorCode(overOwn)]).toEqual([403, 'forbidden']);
    expect(overOwn.body.errors?.[0]?.message).toContain('maxAdjustment');
    expect(errorCode(await requester.client.query(REJECT, { id, reason: 'my own' }))).toBe('forbidden');
    expect(emulator.count('create_transaction', userId)).toBe(0);

    // The root secret approves anything.
    const approved = await app.client.query<{ approveAdjustment: Adjusted }>(APPROVE, { id });
    expect(approved.body.data?.approveAdjustment).toMatchObject({ balance: 50, approvedBy: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: null } });
  });

  it('rejects with a reason: nothing applied, the key answers invalid_state, and approving it after is invalid_state', async () => {
    const agent = await createOperator(app, 'AGENT', { maxAdjustment: 5 });
    const supervisor = await createOperator(app, 'SUPERVISOR');
    const userId = user('reject');
    emulator.addCustomer(userId, { CRD: 0 });
    const key = `apr-reject-${randomUUID()}`;
    const id = approvalId(await adjust(agent.client, { userId, amount: 9, idempotencyKey: key }));
    const rejected = await supervisor.client.query<{ rejectAdjustment: Record<string, unknown> }>(REJECT, { id, reason: '  not per policy T-9  ' });
    expect(rejected.body.data?.rejectAdjustment).toMatchObject({
      id,
      status: 'REJECTED',
      decisionReason: 'not per policy T-9',
      decidedBy: actorOf(supervisor),
      adjustment: null,
    });
    expect(errorCode(await adjust(agent.client, { userId, amount: 9, idempotencyKey: key }))).toBe('invalid_state');
    expect(errorCode(await supervisor.client.query(APPROVE, { id }))).toBe('invalid_state');
    expect(errorCode(await supervisor.client.query(REJECT, { id, reason: '\u200b\u200b\u200b' }))).toBe('invalid_argument');
    expect(emulator.count('create_transaction', userId)).toBe(0);
    const unknown = await supervisor.client.query(APPROVE, { id: 'apr_nope' });
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'not_found']);
  });

  it("refuses to approve a revoked requester's request (its token may have been stolen); it can still be rejected", async () => {
    const agent = await createOperator(app, 'AGENT', { maxAdjustment: 1 });
    const supervisor = await createOperator(app, 'SUPERVISOR');
    const userId = user('revoked');
    emulator.addCustomer(userId, { CRD: 0 });
    const id = approvalId(await adjust(agent.client, { userId, amount: 500 }));
    await app.client.query('mutation R($id: ID!) { revokeOperator(id: $id) { id } }', { id: agent.operator.id });
    const refused = await supervisor.client.query(APPROVE, { id });
    expect([refused.status, errorCode(refused)]).toEqual([409, 'invalid_state']);
    expect(refused.body.errors?.[0]?.message).toContain('revoked');
    const rejected = await supervisor.client.query<{ rejectAdjustment: { status: string } }>(REJECT, { id, reason: 'revoked operator' });
    expect(rejected.body.data?.rejectAdjustment.status).toBe('REJECTED');
    expect(emulator.count('create_transaction', userId)).toBe(0);
  });

  it('holds the daily limit under concurrency: 20 parallel adjustments of 10 over two instances with dailyLimit 100 apply exactly 10', async () => {
    const agent = await createOperator(app, 'AGENT', { dailyLimit: 100 });
    const userId = user('daily');
    emulator.addCustomer(userId, { CRD: 0 });
    const clients = [instances.first.client.withToken(agent.token), instances.second.client.withToken(agent.token)];
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => adjust(clients[i % 2], { userId, amount: 10, idempotencyKey: `daily-${i}-${randomUUID()}` })));
    const applied = responses.filter((response) => response.body.data?.adjustCredits);
    const held = responses.filter((response) => errorCode(response) === 'approval_required');
    expect([applied.length, held.length]).toEqual([10, 10]);
    expect(emulator.count('create_transaction', userId)).toBe(10);
    expect(held.every((response) => response.body.errors?.[0]?.extensions?.limit === 'dailyLimit')).toBe(true);
    // Ten distinct requests, one per key.
    expect(new Set(held.map(approvalId)).size).toBe(10);
    // Deductions count by |amount| too.
    expect(errorCode(await adjust(clients[0], { userId, amount: -1 }))).toBe('approval_required');
  });

  it('applies a limit change at once, and gives ADMIN operators no limits', async () => {
    const agent = await createOperator(app, 'AGENT', { maxAdjustment: 1000 });
    const userId = user('change');
    emulator.addCustomer(userId, { CRD: 0 });
    expect((await adjust(agent.client, { userId, amount: 500 })).body.data?.adjustCredits?.balance).toBe(500);
    await app.client.query(UPDATE, { input: { id: agent.operator.id, maxAdjustment: 100 } });
    expect(errorCode(await instances.second.client.withToken(agent.token).query(ADJUST, { input: { userId, amount: 500, reason: 'APR-2 after the change' } }))).toBe(
      'approval_required',
    );

    const admin = await createOperator(app, 'ADMIN', { maxAdjustment: 5, dailyLimit: 5 });
    expect((await adjust(admin.client, { userId, amount: 1000 })).body.data?.adjustCredits?.balance).toBe(1500);
  });

  it('holds a reversal to the same limits: over them it waits for approval, then applies as that reversal', async () => {
    const agent = await createOperator(app, 'AGENT', { maxAdjustment: 100 });
    const supervisor = await createOperator(app, 'SUPERVISOR');
    const userId = user('reverse');
    emulator.addCustomer(userId, { CRD: 0 });
    const grant = await adjust(app.client, { userId, amount: 150 });
    const originalId = grant.body.data!.adjustCredits!.id;
    const REVERSE = `mutation Reverse($input: ReverseAdjustmentInput!) { reverseAdjustment(input: $input) { id balance actor { ${ACTOR} } approvedBy { ${ACTOR} } reverses { id } } }`;
    const key = `apr-rev-${randomUUID()}`;
    const held = await agent.client.query(REVERSE, { input: { adjustmentId: originalId, reason: 'APR-3 wrong user', idempotencyKey: key } });
    const id = approvalId(held);
    expect(emulator.count('create_transaction', userId)).toBe(1);
    const approved = await supervisor.client.query<{ approveAdjustment: Adjusted & { reverses?: unknown } }>(APPROVE, { id });
    expect(approved.body.data?.approveAdjustment).toMatchObject({ balance: 0, actor: actorOf(agent), approvedBy: actorOf(supervisor) });
    const reversal = await agent.client.query(REVERSE, { input: { adjustmentId: originalId, reason: 'APR-3 wrong user', idempotencyKey: key } });
    expect(reversal.body.data?.reverseAdjustment).toMatchObject({ id: approved.body.data!.approveAdjustment.id, reverses: { id: originalId } });
    const original = await app.client.query('query R($id: ID!) { adjustment(id: $id) { reversedBy { id amount } } }', { id: originalId });
    expect(original.body.data?.adjustment).toEqual({ reversedBy: { id: approved.body.data!.approveAdjustment.id, amount: -150 } });
    expect(emulator.count('create_transaction', userId)).toBe(2);
  });

  it("completes an approval whose application was cut short on the approver's retry, exactly once; anyone else gets invalid_state", async () => {
    const agent = await createOperator(app, 'AGENT', { maxAdjustment: 1 });
    const [approver, other] = [await createOperator(app, 'SUPERVISOR'), await createOperator(app, 'SUPERVISOR')];
    const userId = user('cut');
    emulator.addCustomer(userId, { CRD: 0 });
    const id = approvalId(await adjust(agent.client, { userId, amount: 40 }));
    // RevenueCat applies it but answers after our timeout: the outcome is unknown.
    emulator.injectFault({ endpoint: 'create_transaction', latencyMs: 2500, applyFirst: true, count: 1 });
    const cut = await approver.client.query(APPROVE, { id });
    expect(cut.body.errors?.[0]?.extensions).toMatchObject({ code: 'rc_call_failed', outcome: 'unknown' });
    expect(errorCode(await other.client.query(APPROVE, { id }))).toBe('invalid_state');
    const completed = await approver.client.query<{ approveAdjustment: Adjusted }>(APPROVE, { id });
    expect(completed.body.data?.approveAdjustment).toMatchObject({ balance: 40, actor: actorOf(agent), approvedBy: actorOf(approver) });
    expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(40);
    // Settled: there is nothing left to complete.
    expect(errorCode(await approver.client.query(APPROVE, { id }))).toBe('invalid_state');
  });

  it('approves exactly once when two supervisors on two instances race', async () => {
    const agent = await createOperator(app, 'AGENT', { maxAdjustment: 1 });
    const [a, b] = [await createOperator(app, 'SUPERVISOR'), await createOperator(app, 'SUPERVISOR')];
    for (let round = 0; round < 5; round++) {
      const userId = user(`race${round}`);
      emulator.addCustomer(userId, { CRD: 0 });
      const id = approvalId(await adjust(agent.client, { userId, amount: 7 }));
      const results = await Promise.all([
        instances.first.client.withToken(a.token).query<{ approveAdjustment: Adjusted | null }>(APPROVE, { id }),
        instances.second.client.withToken(b.token).query<{ approveAdjustment: Adjusted | null }>(APPROVE, { id }),
      ]);
      const winners = results.filter((result) => result.body.data?.approveAdjustment);
      expect(winners).toHaveLength(1);
      expect(results.map(errorCode).filter(Boolean)).toEqual(['invalid_state']);
      expect(emulator.count('create_transaction', userId)).toBe(1);
      expect(emulator.balanceOf(userId, 'CRD')).toBe(7);
    }
  });
});

describeWithPostgres('approvals: expiry after 24 hours', () => {
  it('reads a request EXPIRED after 24 h; it can no longer be approved and its key answers invalid_state', async () => {
    const emulator = new RevenueCatEmulator();
    await emulator.listen();
    const clock = new ManualClock(Date.now());
    const app = await startApp({ emulator, override: (builder) => builder.overrideProvider(Clock).useValue(clock) });
    try {
      const created = await app.client.query<{ createOperator: { token: string } }>(CREATE, { input: { name: 'expiring agent', role: 'AGENT', maxAdjustment: 1 } });
      const agent = app.client.withToken(created.body.data!.createOperator.token);
      emulator.addCustomer('user_expiry', { CRD: 0 });
      const key = `apr-expiry-${randomUUID()}`;
      const id = approvalId(await adjust(agent, { userId: 'user_expiry', amount: 2, idempotencyKey: key }));
      const [pending] = await requests(app.client, 'PENDING');
      expect(pending).toMatchObject({ id, status: 'PENDING' });

      clock.advance(24 * 60 * 60 * 1000 - 1000);
      expect((await requests(app.client, 'PENDING')).map((request) => request.id)).toEqual([id]);
      clock.advance(1000);
      expect(await requests(app.client, 'PENDING')).toEqual([]);
      expect((await requests(app.client, 'EXPIRED')).map((request) => [request.id, request.status])).toEqual([[id, 'EXPIRED']]);
      const late = await app.client.query(APPROVE, { id });
      expect([late.status, errorCode(late)]).toEqual([409, 'invalid_state']);
      expect(late.body.errors?.[0]?.message).toContain('EXPIRED');
      expect(errorCode(await adjust(agent, { userId: 'user_expiry', amount: 2, idempotencyKey: key }))).toBe('invalid_state');
      expect(emulator.count('create_transaction', 'user_expiry')).toBe(0);
    } finally {
      await app.close();
      await emulator.close();
    }
  });
});
