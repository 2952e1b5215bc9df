import { randomUUID } from 'node:crypto';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { adjustmentIdFor, upstreamKeyFor } from '../src/idempotency/idempotency-keys';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { describeWithPostgres } from './helpers/postgres';
import { startTwoInstancesOnRedis, TestApp, TwoInstances } from './helpers/test-app';
import { waitFor } from './helpers/ws-client';

const ACTOR = 'operatorId name role';
const FIELDS = `id amount balance replayed idempotencyKey actor { ${ACTOR} } approvedBy { ${ACTOR} }`;
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { ${FIELDS} } }`;
const APPROVE = `mutation Approve($id: ID!) { approveAdjustment(id: $id) { ${FIELDS} } }`;
const CREATE_OPERATOR = `mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { id name role } } }`;
const REQUESTS = `query Requests { approvalRequests(first: 50) { nodes { id status } } }`;

type Adjusted = {
  id: string;
  amount: number;
  balance: number;
  replayed: boolean;
  idempotencyKey: string;
  actor: Record<string, unknown>;
  approvedBy: Record<string, unknown> | null;
};
interface Credential {
  operator: { id: string; name: string; role: string };
  /** On the first instance. */
  client: GraphQLClient;
  /** The same credential on the second instance. */
  second: GraphQLClient;
}

/**
 * An approver racing the requester's retry of the same key: the approve call that records the decision
 * answers the adjustment, whichever of the two sent it; deciding it again is invalid_state naming it.
 */
describeWithPostgres('approvals: the approver racing the requester', () => {
  const emulator = new RevenueCatEmulator();
  let instances: TwoInstances;
  let app: TestApp;

  beforeAll(async () => {
    await emulator.listen();
    // No currency cache: each new key reads the list, so a slow read holds the approver (on the first
    // instance) between its decision and its claim, while the requester's retry (on the second) gets in.
    instances = await startTwoInstancesOnRedis({ emulator, env: { REVENUECAT_MAX_RETRIES: '0', REVENUECAT_TIMEOUT_MS: '5000', CURRENCY_CACHE_TTL_SECONDS: '0' } });
    app = instances.first;
  });
  afterAll(async () => {
    await instances?.close();
    await emulator.close();
  });

  async function operator(role: string, limits: Record<string, number> = {}): Promise<Credential> {
    const response = await app.client.query<{ createOperator: { token: string; operator: Credential['operator'] } }>(CREATE_OPERATOR, {
      input: { name: `${role.toLowerCase()} ${randomUUID().slice(0, 6)}`, role, ...limits },
    });
    const created = response.body.data!.createOperator;
    return { operator: created.operator, client: app.client.withToken(created.token), second: instances.second.client.withToken(created.token) };
  }

  async function statusOf(id: string): Promise<string | undefined> {
    const response = await app.client.query<{ approvalRequests: { nodes: Array<{ id: string; status: string }> } }>(REQUESTS);
    return response.body.data!.approvalRequests.nodes.find((node) => node.id === id)?.status;
  }

  it("answers the approver with the adjustment the requester's retry applied, once; a later approve is invalid_state with its adjustmentId", async () => {
    const agent = await operator('AGENT', { maxAdjustment: 1 });
    const supervisor = await operator('SUPERVISOR');
    const userId = `user_race_${randomUUID().slice(0, 8)}`;
    emulator.addCustomer(userId, { CRD: 0 });
    const key = `race-${randomUUID()}`;
    const input = { userId, amount: 40, reason: 'RACE-1 goodwill', idempotencyKey: key };
    const held = await agent.client.query(ADJUST, { input });
    const id = held.body.errors?.[0]?.extensions?.approvalRequestId as string;
    expect(errorCode(held)).toBe('approval_required');

    // The approver's currency read is slow; the requester's transaction slower still.
    emulator.injectFault({ endpoint: 'list_currencies', latencyMs: 700, count: 1 });
    emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, latencyMs: 1500, count: 1 });
    const reads = emulator.count('list_currencies');
    const approving = supervisor.client.query<{ approveAdjustment: Adjusted | null }>(APPROVE, { id });
    await waitFor(async () => emulator.count('list_currencies') > reads && (await statusOf(id)) === 'APPROVED', 5000, 'the decision to be stored');
    const retried = agent.second.query<{ adjustCredits: Adjusted | null }>(ADJUST, { input });
    const [approved, retry] = await Promise.all([approving, retried]);

    const adjustment = {
      id: adjustmentIdFor(upstreamKeyFor(key)),
      amount: 40,
      balance: 40,
      idempotencyKey: key,
      actor: { operatorId: agent.operator.id, name: agent.operator.name, role: 'AGENT' },
      approvedBy: { operatorId: supervisor.operator.id, name: supervisor.operator.name, role: 'SUPERVISOR' },
    };
    expect([retry.body.errors, approved.body.errors]).toEqual([undefined, undefined]);
    expect(retry.body.data?.adjustCredits).toMatchObject({ ...adjustment, replayed: false });
    expect(approved.body.errors).toBeUndefined();
    expect(approved.body.data?.approveAdjustment).toMatchObject({ ...adjustment, replayed: true });
    expect(emulator.count('create_transaction', userId)).toBe(1);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(40);

    for (const client of [supervisor.client, supervisor.second, app.client]) {
      const again: GraphQLResponse = await client.query(APPROVE, { id });
      expect(again.status).toBe(409);
      expect(again.body.errors?.[0]?.extensions).toMatchObject({ code: 'invalid_state', adjustmentId: adjustment.id });
    }
    expect(emulator.count('create_transaction', userId)).toBe(1);
  });

  it('keeps invalid_state without an adjustmentId for a request that was rejected', async () => {
    const agent = await operator('AGENT', { maxAdjustment: 1 });
    const supervisor = await operator('SUPERVISOR');
    const userId = `user_race_${randomUUID().slice(0, 8)}`;
    emulator.addCustomer(userId, { CRD: 0 });
    const held = await agent.client.query(ADJUST, { input: { userId, amount: 9, reason: 'RACE-2 goodwill' } });
    const id = held.body.errors?.[0]?.extensions?.approvalRequestId as string;
    await supervisor.client.query('mutation R($id: ID!) { rejectAdjustment(id: $id, reason: "not per policy") { id } }', { id });
    const again = await supervisor.client.query(APPROVE, { id });
    expect(again.status).toBe(409);
    expect(again.body.errors?.[0]?.extensions).toMatchObject({ code: 'invalid_state' });
    expect(again.body.errors?.[0]?.extensions).not.toHaveProperty('adjustmentId');
  });
});
