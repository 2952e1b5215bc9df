import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { adjustmentIdFor, requestFingerprint, upstreamKeyFor } from '../src/idempotency/idempotency-keys';
import { GatewayProcess, startGatewayProcess } from './helpers/gateway-process';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { sample } from './helpers/metrics';
import { createTestSchema, describeWithPostgres, TEST_DATABASE_URL, TestSchema } from './helpers/postgres';
import { ADMIN_SECRET } from './helpers/test-app';
import { waitFor } from './helpers/ws-client';

const CREATE_OPERATOR = `mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { id name role } } }`;
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id } }`;
const APPROVE = `mutation Approve($id: ID!) { approveAdjustment(id: $id) { id replayed } }`;

/**
 * An approver whose approval is held by a claim of another instance waits, bounded, for it to settle. That
 * wait is no adjustment of this instance: on SIGTERM it ends at once with the answer it would end with
 * (409, the decision stored, a retry replays it), instead of holding the shutdown and being cut off.
 */
describeWithPostgres('approvals: an approver waiting when the instance shuts down', () => {
  const emulator = new RevenueCatEmulator();
  let gateway: GatewayProcess | undefined;
  let schema: TestSchema;
  let db: Client;

  beforeAll(async () => {
    await emulator.listen();
    schema = await createTestSchema('approval_wait');
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    gateway?.kill('SIGKILL');
    await db?.end();
    await schema?.drop();
    await emulator.close();
  });

  it('answers the waiting approver 409 at once on SIGTERM, sends nothing, and exits 0 within the grace', async () => {
    // RevenueCat's default timeout and retries: a held record is waited for up to 20 s, longer than the grace.
    gateway = await startGatewayProcess({
      ADMIN_SECRET,
      REVENUECAT_API_KEY: emulator.apiKey,
      REVENUECAT_PROJECT_ID: emulator.projectId,
      REVENUECAT_API_URL: emulator.baseUrl,
      DATABASE_SCHEMA: schema.name,
      SHUTDOWN_GRACE_SECONDS: '5',
    });
    const graphqlUrl = `${gateway.url}/graphql`;
    const root = new GraphQLClient(graphqlUrl, ADMIN_SECRET);
    const operator = async (role: string, limits: Record<string, number> = {}) => {
      const response = await root.query<{ createOperator: { token: string; operator: { id: string; name: string } } }>(CREATE_OPERATOR, {
        input: { name: `${role.toLowerCase()} ${randomUUID().slice(0, 6)}`, role, ...limits },
      });
      const created = response.body.data!.createOperator;
      return { ...created.operator, client: new GraphQLClient(graphqlUrl, created.token) };
    };
    const agent = await operator('AGENT', { maxAdjustment: 1 });
    const supervisor = await operator('SUPERVISOR');
    const userId = `user_wait_${randomUUID().slice(0, 8)}`;
    emulator.addCustomer(userId, { CRD: 0 });
    const key = `wait-${randomUUID()}`;
    const reason = 'WAIT-1 goodwill';
    const held = await agent.client.query(ADJUST, { input: { userId, amount: 40, reason, idempotencyKey: key } });
    expect(errorCode(held)).toBe('approval_required');
    const approvalRequestId = held.body.errors![0].extensions!.approvalRequestId as string;

    // The request's key claimed by another instance (its lease alive): what the requester's retry there leaves.
    const upstreamKey = upstreamKeyFor(key);
    await db.query(
      `insert into "${schema.name}".adjustments (id, idempotency_key, fingerprint, user_id, currency, amount, reason, status, upstream_key, attempts,
         actor_operator_id, actor_name, actor_role, lease_token, lease_expires_at)
       values ($1, $2, $3, $4, 'CRD', 40, $5, 'PENDING', $6, 1, $7, $8, 'AGENT', 'another-instance', now() + interval '60 seconds')`,
      [adjustmentIdFor(upstreamKey), key, requestFingerprint({ userId, currency: 'CRD', amount: 40, reason }), userId, reason, upstreamKey, agent.id, agent.name],
    );

    // What the approver gets: an answer, or its connection cut ("socket hang up").
    const approving = supervisor.client.query<{ approveAdjustment: unknown }>(APPROVE, { id: approvalRequestId }).then(
      (response: GraphQLResponse) => ({ status: response.status, code: errorCode(response) }),
      (error: Error) => ({ failed: String(error) }),
    );
    // Waiting: its first claim found the key held.
    await waitFor(
      async () => sample((await request(gateway!.url).get('/metrics')).text, 'credits_idempotency_conflicts_total', { kind: 'in_progress' }) === 1,
      5000,
      'the approver to find the record held',
    );
    const signalled = performance.now();
    gateway.kill('SIGTERM');
    const answered = await approving;
    const answeredAfterMs = performance.now() - signalled;
    const exitCode = await gateway.exited;
    const exitedAfterMs = performance.now() - signalled;

    expect(answered).toEqual({ status: 409, code: 'idempotency_key_in_progress' });
    expect(answeredAfterMs).toBeLessThan(2000);
    expect(exitCode).toBe(0);
    expect(exitedAfterMs).toBeLessThan(5000);
    expect(emulator.count('create_transaction', userId)).toBe(0);
    const { rows } = await db.query(`select status from "${schema.name}".approval_requests where id = $1`, [approvalRequestId]);
    expect(rows).toEqual([{ status: 'APPROVED' }]);
  }, 60_000);
});
