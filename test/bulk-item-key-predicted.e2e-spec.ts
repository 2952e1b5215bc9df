import { createHash, randomUUID } from 'node:crypto';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { BulkClient } from './helpers/bulk';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { describeWithPostgres } from './helpers/postgres';
import { startApp, TestApp } from './helpers/test-app';

/**
 * A bulk item's key follows from its job's id (any VIEWER lists jobs) and its user, so it can be worked out
 * before the item is added. Sent first by anyone else, it would take the item's key from the job: the
 * ADMIN's add is then refused, or an approval request holds the key and later claims the item as its own.
 */
const ACTOR = 'operatorId name role';
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id amount balance replayed actor { ${ACTOR} } } }`;
const REVERSE = `mutation Reverse($input: ReverseAdjustmentInput!) { reverseAdjustment(input: $input) { id amount balance } }`;
const CREATE_OPERATOR = `mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { id name role } } }`;
const JOBS = `query Jobs { bulkAdjustments(first: 20) { nodes { id reason status } } }`;
const REQUESTS = `query Requests { approvalRequests(first: 100) { nodes { id idempotencyKey status } } }`;
const ITEMS = `query Items($id: ID!) { bulkAdjustment(id: $id) { items(first: 10) { nodes { id userId amount status idempotencyKey actor { ${ACTOR} } } } } }`;

const user = (label: string) => `user_predict_${label}_${randomUUID().slice(0, 8)}`;
/** What anyone can work out from a job's id and a user id. */
const predictedKey = (jobId: string, userId: string) => `${jobId}:${createHash('sha256').update(`bulk-item:${userId}`).digest('hex').slice(0, 40)}`;

describeWithPostgres("a bulk item's key worked out before the item is added", () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;

  beforeAll(async () => {
    await emulator.listen();
    app = await startApp({ emulator, env: { REVENUECAT_MAX_RETRIES: '0' } });
  });
  afterAll(async () => {
    await app?.close();
    await emulator.close();
  });

  async function operator(role: string, limits: Record<string, number> = {}): Promise<GraphQLClient> {
    const response = await app.client.query<{ createOperator: { token: string } }>(CREATE_OPERATOR, {
      input: { name: `${role.toLowerCase()} ${randomUUID().slice(0, 6)}`, role, ...limits },
    });
    const created = response.body.data?.createOperator;
    if (!created) throw new Error(`createOperator failed: ${JSON.stringify(response.body.errors)}`);
    return app.client.withToken(created.token);
  }

  it('is refused to adjustCredits and reverseAdjustment, within the limits or over them, and the job keeps and applies its items once', async () => {
    const viewer = await operator('VIEWER');
    const agent = await operator('AGENT', { maxAdjustment: 100, dailyLimit: 1000 });
    const reason = 'OUT-9 outage credit';
    const bulk = new BulkClient(app.client);
    const job = await bulk.create(reason);
    // The job is a DRAFT with no items; any VIEWER sees its id.
    const listed = await viewer.query<{ bulkAdjustments: { nodes: Array<{ id: string; status: string }> } }>(JOBS);
    expect(listed.body.data!.bulkAdjustments.nodes).toContainEqual(expect.objectContaining({ id: job.id, status: 'DRAFT' }));

    const [small, large, target] = [user('small'), user('large'), user('target')];
    for (const userId of [small, large, target]) emulator.addCustomer(userId, { CRD: 0 });
    const original = (await app.client.query<{ adjustCredits: { id: string } }>(ADJUST, { input: { userId: target, amount: 50, reason: 'OUT-9 setup' } })).body.data!
      .adjustCredits;
    const before = emulator.count('create_transaction');

    const refusals: GraphQLResponse[] = [
      // Within the agent's limits: it would apply under the agent's name, and the ADMIN could not add the user.
      await agent.query(ADJUST, { input: { userId: small, amount: 10, reason, idempotencyKey: predictedKey(job.id, small) } }),
      await agent.query(ADJUST, { input: { userId: small, amount: 10, reason } }, { headers: { 'Idempotency-Key': predictedKey(job.id, small) } }),
      // Over them: an approval request would hold the item's key.
      await agent.query(ADJUST, { input: { userId: large, amount: 50_000, reason, idempotencyKey: predictedKey(job.id, large) } }),
      await agent.query(REVERSE, { input: { adjustmentId: original.id, reason, idempotencyKey: predictedKey(job.id, target) } }),
      // The root secret too: the key is the job's, whoever sends it.
      await app.client.query(ADJUST, { input: { userId: small, amount: 10, reason, idempotencyKey: predictedKey(job.id, small) } }),
    ];
    expect(refusals.map((response) => [response.status, errorCode(response)])).toEqual(refusals.map(() => [422, 'idempotency_key_reused']));
    expect(emulator.count('create_transaction')).toBe(before);
    const requests = await app.client.query<{ approvalRequests: { nodes: Array<{ idempotencyKey: string }> } }>(REQUESTS);
    expect(requests.body.data!.approvalRequests.nodes.filter((node) => node.idempotencyKey.startsWith(job.id))).toEqual([]);

    // The ADMIN adds the users and runs the job: each item applied once, as the job's.
    await bulk.add(job.id, [
      { userId: small, amount: 10 },
      { userId: large, amount: 50_000 },
      { userId: target, amount: 7 },
    ]);
    const items = await viewer.query<{ bulkAdjustment: { items: { nodes: Array<{ userId: string; idempotencyKey: string; status: string }> } } }>(ITEMS, {
      id: job.id,
    });
    for (const node of items.body.data!.bulkAdjustment.items.nodes) {
      expect(node).toMatchObject({ status: 'QUEUED', idempotencyKey: predictedKey(job.id, node.userId) });
    }
    await bulk.start(job.id);
    const done = await bulk.waitFor(job.id, 'COMPLETED');
    expect([done.applied, done.total]).toEqual([3, 3]);
    expect(emulator.count('create_transaction')).toBe(before + 3);
    expect([emulator.balanceOf(small, 'CRD'), emulator.balanceOf(large, 'CRD'), emulator.balanceOf(target, 'CRD')]).toEqual([10, 50_000, 57]);
  });

  it('leaves keys that only look alike to their senders', async () => {
    const agent = await operator('AGENT', { maxAdjustment: 100 });
    const bulk = new BulkClient(app.client);
    const job = await bulk.create('OUT-10 outage credit');
    const userId = user('alike');
    emulator.addCustomer(userId, { CRD: 0 });
    const key = predictedKey(job.id, userId);
    // Not what the gateway ever derives: an upper-case spelling, and one with text after it.
    for (const alike of [key.toUpperCase(), `${key}:retry`]) {
      const response = await agent.query<{ adjustCredits: { amount: number } }>(ADJUST, { input: { userId, amount: 5, reason: 'OUT-10 ticket', idempotencyKey: alike } });
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data?.adjustCredits).toMatchObject({ amount: 5 });
    }
    expect(emulator.balanceOf(userId, 'CRD')).toBe(10);
  });
});
