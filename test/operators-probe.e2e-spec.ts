import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { DatabaseUnavailableError } from '../src/database/database-errors';
import { AdjustmentRepository } from '../src/journal/adjustment.repository';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { createTestSchema, describeWithPostgres, TEST_DATABASE_URL } from './helpers/postgres';
import { startTcpProxy } from './helpers/tcp-proxy';
import { startApp, startTwoInstancesOnRedis, TestApp, TwoInstances } from './helpers/test-app';
import { connectWs, subscribe, waitFor } from './helpers/ws-client';

/**
 * Attacks on issue 13 (operators, roles, limits, approvals): each test names the hole it checks is closed.
 */
const ACTOR = 'operatorId name role onBehalfOf';
const CREATE = `mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { id name role maxAdjustment dailyLimit } } }`;
const UPDATE = `mutation Update($input: UpdateOperatorInput!) { updateOperator(input: $input) { id role maxAdjustment dailyLimit } }`;
const REVOKE = `mutation Revoke($id: ID!) { revokeOperator(id: $id) { id revokedAt } }`;
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) {
  adjustCredits(input: $input) { id balance replayed idempotencyKey actor { ${ACTOR} } approvedBy { ${ACTOR} } }
}`;
const APPROVE = `mutation Approve($id: ID!) {
  approveAdjustment(id: $id) { id balance replayed idempotencyKey actor { ${ACTOR} } approvedBy { ${ACTOR} } }
}`;
const REJECT = `mutation Reject($id: ID!, $reason: String!) { rejectAdjustment(id: $id, reason: $reason) { id status } }`;
const REQUEST = `query Requests { approvalRequests(first: 50) { nodes { id status idempotencyKey } } }`;

type Role = 'VIEWER' | 'AGENT' | 'SUPERVISOR' | 'ADMIN';
interface Credential {
  token: string;
  operator: { id: string; name: string; role: Role };
  client: GraphQLClient;
}
type Adjusted = { id: string; balance: number; replayed: boolean; idempotencyKey: string; actor: Record<string, unknown>; approvedBy: Record<string, unknown> | null };

async function createOperator(by: GraphQLClient, role: Role, limits: { maxAdjustment?: number | null; dailyLimit?: number | null } = {}): Promise<Credential> {
  const response = await by.query<{ createOperator: Omit<Credential, 'client'> }>(CREATE, {
    input: { name: `probe ${role.toLowerCase()} ${randomUUID().slice(0, 6)}`, role, ...limits },
  });
  const created = response.body.data?.createOperator;
  if (!created) throw new Error(`createOperator failed: ${JSON.stringify(response.body.errors)}`);
  return { ...created, client: by.withToken(created.token) };
}

function adjust(client: GraphQLClient, input: Record<string, unknown>): Promise<GraphQLResponse<{ adjustCredits: Adjusted | null }>> {
  return client.query(ADJUST, { input: { reason: 'PRB-1 probe', ...input } });
}

function approvalId(response: GraphQLResponse<unknown>): string {
  const extensions = response.body.errors?.[0]?.extensions;
  if (extensions?.code !== 'approval_required') throw new Error(`expected approval_required, got ${JSON.stringify(response.body)}`);
  return extensions.approvalRequestId as string;
}

const actorOf = (credential: Credential) => ({ operatorId: credential.operator.id, name: credential.operator.name, role: credential.operator.role, onBehalfOf: null });
const user = (name: string) => `user_probe_${name}_${randomUUID().slice(0, 8)}`;

describeWithPostgres('operators under attack', () => {
  let emulator: RevenueCatEmulator;
  let instances: TwoInstances;
  let app: TestApp;
  let other: TestApp;
  beforeAll(async () => {
    emulator = new RevenueCatEmulator();
    await emulator.listen();
    instances = await startTwoInstancesOnRedis({ emulator, env: { REVENUECAT_MAX_RETRIES: '0' } });
    app = instances.first;
    other = instances.second;
  });
  afterAll(async () => {
    await instances?.close();
    await emulator.close();
  });
  afterEach(() => jest.restoreAllMocks());

  it('answers ids with a NUL character invalid_argument or not_found, never 500', async () => {
    const supervisor = await createOperator(app.client, 'SUPERVISOR');
    const answers: unknown[] = [];
    for (const [query, variables] of [
      [REVOKE, { id: 'op_\u0000' }],
      [UPDATE, { input: { id: 'op_\u0000', maxAdjustment: 5 } }],
      [APPROVE, { id: 'apr_\u0000' }],
      [REJECT, { id: 'apr_\u0000', reason: 'PRB-2 nul' }],
      ['query A($id: ID!) { adjustment(id: $id) { id } }', { id: 'adj_\u0000' }],
      ['mutation R($input: ReverseAdjustmentInput!) { reverseAdjustment(input: $input) { id } }', { input: { adjustmentId: 'adj_\u0000', reason: 'PRB-2 nul' } }],
      ['query L($f: AdjustmentFilter) { adjustments(filter: $f) { nodes { id } } }', { f: { operatorId: 'op_\u0000' } }],
      ['query L($f: AdjustmentFilter) { adjustments(filter: $f) { nodes { id } } }', { f: { bulkAdjustmentId: 'bulk_\u0000' } }],
      ['query L($a: String) { adjustments(after: $a) { nodes { id } } }', { a: Buffer.from(JSON.stringify([Date.now(), 'adj_\u0000'])).toString('base64url') }],
      ['query L($a: String) { approvalRequests(after: $a) { nodes { id } } }', { a: Buffer.from(JSON.stringify([Date.now(), 'apr_\u0000'])).toString('base64url') }],
    ] as const) {
      const response = await supervisor.client.query(query, variables);
      answers.push([response.status, errorCode(response)]);
    }
    expect(answers).toEqual([
      [404, 'not_found'],
      [404, 'not_found'],
      [404, 'not_found'],
      [404, 'not_found'],
      [200, undefined],
      [404, 'not_found'],
      [400, 'invalid_argument'],
      [400, 'invalid_argument'],
      [400, 'invalid_argument'],
      [400, 'invalid_argument'],
    ]);
  });

  it("an approver whose approval could not be applied (database away, RevenueCat's answer lost) can retry it and it applies once", async () => {
    const agent = await createOperator(app.client, 'AGENT', { maxAdjustment: 10 });
    const supervisor = await createOperator(app.client, 'SUPERVISOR');
    const userId = user('approve503');
    emulator.addCustomer(userId, { CRD: 0 });
    const key = `prb-503-${randomUUID()}`;
    const id = approvalId(await adjust(agent.client, { userId, amount: 50, idempotencyKey: key }));

    const journal = app.app.get(AdjustmentRepository);
    jest.spyOn(journal, 'claim').mockRejectedValueOnce(new DatabaseUnavailableError());
    const failed = await supervisor.client.query(APPROVE, { id });
    expect([failed.status, errorCode(failed)]).toEqual([503, 'dependency_unavailable']);
    expect(emulator.count('create_transaction', userId)).toBe(0);

    // "Nothing was changed; retry": the approver's retry applies it, once.
    const retried = await supervisor.client.query<{ approveAdjustment: Adjusted }>(APPROVE, { id });
    expect(retried.body.errors).toBeUndefined();
    expect(retried.body.data?.approveAdjustment).toMatchObject({ balance: 50, idempotencyKey: key, actor: actorOf(agent), approvedBy: actorOf(supervisor) });
    // Applied: deciding it again is invalid_state, as for anyone.
    expect(errorCode(await supervisor.client.query(APPROVE, { id }))).toBe('invalid_state');
    // Another supervisor still finds it decided.
    const late = await (await createOperator(app.client, 'SUPERVISOR')).client.query(APPROVE, { id });
    expect(errorCode(late)).toBe('invalid_state');
    expect(emulator.count('create_transaction', userId)).toBe(1);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(50);

    // RevenueCat's answer lost (applied, outcome unknown): the approver's retry settles it, once.
    const lostKey = `prb-lost-${randomUUID()}`;
    const lostId = approvalId(await adjust(agent.client, { userId, amount: 30, idempotencyKey: lostKey }));
    emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, applyFirst: true, status: 503, count: 1 });
    const lost = await supervisor.client.query(APPROVE, { id: lostId });
    expect(lost.body.errors?.[0]?.extensions).toMatchObject({ code: 'rc_call_failed', outcome: 'unknown' });
    const settled = await supervisor.client.query<{ approveAdjustment: Adjusted }>(APPROVE, { id: lostId });
    expect(settled.body.data?.approveAdjustment).toMatchObject({ balance: 80, idempotencyKey: lostKey, actor: actorOf(agent), approvedBy: actorOf(supervisor) });
    expect(emulator.balanceOf(userId, 'CRD')).toBe(80);
  });

  it('the key of a pending approval request is that request: the root secret cannot apply another adjustment under it', async () => {
    const agent = await createOperator(app.client, 'AGENT', { maxAdjustment: 10 });
    const supervisor = await createOperator(app.client, 'SUPERVISOR');
    const userId = user('keyclash');
    emulator.addCustomer(userId, { CRD: 0 });
    const key = `prb-clash-${randomUUID()}`;
    const id = approvalId(await adjust(agent.client, { userId, amount: 50, idempotencyKey: key }));
    const admin = await createOperator(app.client, 'ADMIN');
    for (const client of [app.client, admin.client]) {
      const clash = await adjust(client, { userId, amount: 7, idempotencyKey: key });
      expect([clash.status, errorCode(clash)]).toEqual([422, 'idempotency_key_reused']);
      // The same adjustment: the same request, waiting.
      expect(approvalId(await adjust(client, { userId, amount: 50, idempotencyKey: key }))).toBe(id);
    }
    expect(emulator.count('create_transaction', userId)).toBe(0);
    const approved = await supervisor.client.query<{ approveAdjustment: Adjusted }>(APPROVE, { id });
    expect(approved.body.data?.approveAdjustment).toMatchObject({ balance: 50, actor: actorOf(agent), approvedBy: actorOf(supervisor) });
    // Once approved, the root secret's retry with the key is the replay of the requester's adjustment.
    const replay = await adjust(app.client, { userId, amount: 50, idempotencyKey: key });
    expect(replay.body.data?.adjustCredits).toMatchObject({ id: approved.body.data!.approveAdjustment.id, replayed: true, actor: actorOf(agent) });
    expect(emulator.count('create_transaction', userId)).toBe(1);
  });

  it("an approved request applied by someone else re-sending its key is still the requester's adjustment", async () => {
    const agent = await createOperator(app.client, 'AGENT', { maxAdjustment: 10 });
    const otherAgent = await createOperator(app.client, 'AGENT', { maxAdjustment: 10 });
    const supervisor = await createOperator(app.client, 'SUPERVISOR');
    const userId = user('follow');
    emulator.addCustomer(userId, { CRD: 0 });
    const key = `prb-follow-${randomUUID()}`;
    const id = approvalId(await adjust(agent.client, { userId, amount: 40, idempotencyKey: key }));
    jest.spyOn(app.app.get(AdjustmentRepository), 'claim').mockRejectedValueOnce(new DatabaseUnavailableError());
    expect(errorCode(await supervisor.client.query(APPROVE, { id }))).toBe('dependency_unavailable');
    jest.restoreAllMocks();
    const applied = await adjust(otherAgent.client, { userId, amount: 40, idempotencyKey: key });
    expect(applied.body.data?.adjustCredits).toMatchObject({ balance: 40, actor: actorOf(agent), approvedBy: actorOf(supervisor) });
    expect(emulator.count('create_transaction', userId)).toBe(1);
  });

  it('a SUPERVISOR demoted on one instance can no longer approve on the other, even within the token cache second', async () => {
    const agent = await createOperator(app.client, 'AGENT', { maxAdjustment: 1 });
    const supervisor = await createOperator(app.client, 'SUPERVISOR');
    const userId = user('demoted');
    emulator.addCustomer(userId, { CRD: 0 });
    const id = approvalId(await adjust(agent.client, { userId, amount: 5 }));
    const onOther = other.client.withToken(supervisor.token);
    // Authenticated (and cached) on the other instance, then demoted here.
    expect((await onOther.query('{ me { role } }')).body.data).toEqual({ me: { role: 'SUPERVISOR' } });
    expect((await app.client.query(UPDATE, { input: { id: supervisor.operator.id, role: 'AGENT' } })).body.errors).toBeUndefined();
    const approved = await onOther.query(APPROVE, { id });
    expect(errorCode(approved)).toBe('forbidden');
    expect(emulator.count('create_transaction', userId)).toBe(0);
  });

  it('an ADMIN operator demoted to a limited AGENT (then a VIEWER) on one instance is held to it on the other at once', async () => {
    const admin = await createOperator(app.client, 'ADMIN');
    const userId = user('demotedadmin');
    emulator.addCustomer(userId, { CRD: 0 });
    const onOther = other.client.withToken(admin.token);
    expect((await onOther.query('{ me { role } }')).body.data).toEqual({ me: { role: 'ADMIN' } });
    expect((await app.client.query(UPDATE, { input: { id: admin.operator.id, role: 'AGENT', maxAdjustment: 10 } })).body.errors).toBeUndefined();
    const response = await adjust(onOther, { userId, amount: 1000 });
    expect(errorCode(response)).toBe('approval_required');
    // Demoted to VIEWER: not even within the limit.
    expect((await app.client.query(UPDATE, { input: { id: admin.operator.id, role: 'VIEWER' } })).body.errors).toBeUndefined();
    const viewer = await adjust(onOther, { userId, amount: 1 });
    expect(viewer.body.errors?.[0]?.extensions).toMatchObject({ code: 'forbidden', requiredRole: 'AGENT' });
    expect(emulator.count('create_transaction', userId)).toBe(0);
  });

  it('a revoked or demoted SUPERVISOR cannot create or revoke operators on the other instance within the token cache second', async () => {
    const supervisor = await createOperator(app.client, 'SUPERVISOR');
    const onOther = other.client.withToken(supervisor.token);
    expect((await onOther.query('{ me { role } }')).body.data).toEqual({ me: { role: 'SUPERVISOR' } });
    await app.client.query(REVOKE, { id: supervisor.operator.id });
    const created = await onOther.query(CREATE, { input: { name: 'persistence', role: 'AGENT' } });
    expect(errorCode(created)).toBe('invalid_admin_secret');
    expect(created.body.data?.createOperator ?? null).toBeNull();

    const demoted = await createOperator(app.client, 'SUPERVISOR');
    const demotedOnOther = other.client.withToken(demoted.token);
    const victim = await createOperator(app.client, 'AGENT');
    expect((await demotedOnOther.query('{ me { role } }')).body.data).toEqual({ me: { role: 'SUPERVISOR' } });
    await app.client.query(UPDATE, { input: { id: demoted.operator.id, role: 'VIEWER' } });
    expect(errorCode(await demotedOnOther.query(CREATE, { input: { name: 'still a supervisor?', role: 'AGENT' } }))).toBe('forbidden');
    expect(errorCode(await demotedOnOther.query(REVOKE, { id: victim.operator.id }))).toBe('forbidden');
    const listed = await app.client.query<{ operators: Array<{ id: string; name: string }> }>('{ operators { id name } }');
    expect(listed.body.data!.operators.map((operator) => operator.name)).not.toContain('still a supervisor?');
    expect(listed.body.data!.operators.map((operator) => operator.id)).toContain(victim.operator.id);
  });

  it('a SUPERVISOR cannot hand an AGENT limits above its own (an unlimited puppet would bypass approval)', async () => {
    const supervisor = await createOperator(app.client, 'SUPERVISOR', { maxAdjustment: 100, dailyLimit: 1000 });
    for (const limits of [{}, { maxAdjustment: 101, dailyLimit: 1000 }, { maxAdjustment: 100 }, { maxAdjustment: 100, dailyLimit: 1001 }]) {
      const response = await supervisor.client.query(CREATE, { input: { name: 'puppet', role: 'AGENT', ...limits } });
      expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'forbidden', requiredRole: 'ADMIN' });
    }
    // A VIEWER cannot adjust: its limits do not matter.
    expect((await supervisor.client.query(CREATE, { input: { name: 'viewer', role: 'VIEWER' } })).body.errors).toBeUndefined();
    const within = await createOperator(supervisor.client, 'AGENT', { maxAdjustment: 100, dailyLimit: 1000 });
    for (const input of [{ clearLimits: true }, { maxAdjustment: 500 }, { dailyLimit: 5000 }]) {
      const response = await supervisor.client.query(UPDATE, { input: { id: within.operator.id, ...input } });
      expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'forbidden', requiredRole: 'ADMIN' });
    }
    // Promoting an unlimited VIEWER (an ADMIN's) to AGENT would make an unlimited AGENT too.
    const viewer = await createOperator(app.client, 'VIEWER');
    expect(errorCode(await supervisor.client.query(UPDATE, { input: { id: viewer.operator.id, role: 'AGENT' } }))).toBe('forbidden');
    expect((await supervisor.client.query(UPDATE, { input: { id: viewer.operator.id, role: 'AGENT', maxAdjustment: 50, dailyLimit: 10 } })).body.errors).toBeUndefined();
    // Lowering one limit of an AGENT an ADMIN made leaves the other as it was; revoking it is fine too.
    const big = await createOperator(app.client, 'AGENT', { maxAdjustment: 100_000 });
    const lowered = await supervisor.client.query<{ updateOperator: Record<string, unknown> }>(UPDATE, { input: { id: big.operator.id, dailyLimit: 900 } });
    expect(lowered.body.data?.updateOperator).toMatchObject({ maxAdjustment: 100_000, dailyLimit: 900 });
    expect(errorCode(await supervisor.client.query(UPDATE, { input: { id: big.operator.id, dailyLimit: 1001 } }))).toBe('forbidden');
    expect((await supervisor.client.query(REVOKE, { id: big.operator.id })).body.errors).toBeUndefined();
    // An unlimited SUPERVISOR may give any limits, as before.
    const unlimited = await createOperator(app.client, 'SUPERVISOR');
    expect((await unlimited.client.query(CREATE, { input: { name: 'free agent', role: 'AGENT' } })).body.errors).toBeUndefined();
  });

  it('a retry of a key in flight at the daily limit (read before the first wrote it) is that adjustment, not an approval request', async () => {
    const agent = await createOperator(app.client, 'AGENT', { dailyLimit: 10 });
    const userId = user('retryatlimit');
    emulator.addCustomer(userId, { CRD: 0 });
    const key = `prb-retry-${randomUUID()}`;
    const first = await adjust(agent.client, { userId, amount: 10, idempotencyKey: key });
    expect(first.body.data?.adjustCredits?.balance).toBe(10);
    // The retry looked the key up before the first request's record was written (two requests racing).
    jest.spyOn(app.app.get(AdjustmentRepository), 'findByIdempotencyKey').mockResolvedValueOnce(null);
    const retry = await adjust(agent.client, { userId, amount: 10, idempotencyKey: key });
    expect(retry.body.errors).toBeUndefined();
    expect(retry.body.data?.adjustCredits).toMatchObject({ id: first.body.data!.adjustCredits!.id, replayed: true, balance: 10 });
    const requests = await app.client.query<{ approvalRequests: { nodes: Array<{ idempotencyKey: string }> } }>(REQUEST);
    expect(requests.body.errors).toBeUndefined();
    expect(requests.body.data!.approvalRequests.nodes.filter((request) => request.idempotencyKey === key)).toEqual([]);
    expect(emulator.count('create_transaction', userId)).toBe(1);
  });

  it("runs no query or mutation over graphql-ws, whatever the role, and closes a revoked ADMIN operator's socket", async () => {
    const admin = await createOperator(app.client, 'ADMIN');
    const userId = user('wsmutation');
    emulator.addCustomer(userId, { CRD: 0 });
    const ws = connectWs(app.url, `Bearer ${admin.token}`);
    try {
      await ws.connected;
      const failures: unknown[] = [];
      for (const [query, variables] of [
        [ADJUST, { input: { userId, amount: 5, reason: 'PRB-9 over ws' } }],
        [CREATE, { input: { name: 'via ws', role: 'ADMIN' } }],
        ['{ me { role } }', undefined],
      ] as const) {
        const [error] = (await subscribe(ws, query, variables).failed) as Array<{ extensions?: Record<string, unknown> }>;
        failures.push(error.extensions?.code);
      }
      expect(failures).toEqual(['bad_request', 'bad_request', 'bad_request']);
      // Introspection is an admin credential's, over the socket too.
      const schema = subscribe<{ __schema: { queryType: { name: string } } }>(ws, '{ __schema { queryType { name } } }');
      expect(await schema.next()).toEqual({ __schema: { queryType: { name: 'Query' } } });
      expect(emulator.count('create_transaction', userId)).toBe(0);
      // Revoked on the other instance: this socket closes within the sweep.
      await other.client.query(REVOKE, { id: admin.operator.id });
      expect(await ws.closed).toEqual({ code: 4403, reason: 'token revoked' });
    } finally {
      await ws.dispose();
    }
  });

  it('names the approver in the audit line of an approved adjustment, as the journal does', async () => {
    const agent = await createOperator(app.client, 'AGENT', { maxAdjustment: 1 });
    const supervisor = await createOperator(app.client, 'SUPERVISOR');
    const userId = user('audit');
    emulator.addCustomer(userId, { CRD: 0 });
    const key = `prb-audit-${randomUUID()}`;
    const id = approvalId(await adjust(agent.client, { userId, amount: 3, idempotencyKey: key }));
    const log = jest.spyOn(Logger.prototype, 'log');
    const approved = await supervisor.client.query(APPROVE, { id }, { headers: { 'x-on-behalf-of': 'lead@support.example' } });
    expect(approved.body.errors).toBeUndefined();
    await adjust(agent.client, { userId, amount: 3, idempotencyKey: key });
    const lines = log.mock.calls.map(([entry]) => entry as Record<string, unknown>).filter((entry) => entry?.event === 'credits.adjustment' && entry.idempotencyKey === key);
    const approver = { approvedBy: supervisor.operator.name, approvedByOperatorId: supervisor.operator.id, approvedByOnBehalfOf: 'lead@support.example' };
    expect(lines).toEqual([
      expect.objectContaining({ actor: agent.operator.name, operatorId: agent.operator.id, outcome: 'applied', ...approver }),
      expect.objectContaining({ actor: agent.operator.name, outcome: 'replayed', ...approver }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(supervisor.token.slice(8));
  });

  it('refuses an odd token over graphql-ws without a 500 or a crash: lone surrogates, cgo_ + the root secret, huge', async () => {
    for (const token of ['cgo_\ud800\udc00\ud800', `cgo_${'x'.repeat(43)}\udfff`, 'cgo_' + 'test-admin-secret-0123456789abcdef', 'cgo_' + 'A'.repeat(12_000)]) {
      const ws = connectWs(app.url, `Bearer ${token}`);
      const closed = await ws.closed;
      expect(closed.code).toBe(4401);
    }
  });
});

describeWithPostgres('approvals with the database away', () => {
  it('answers approveAdjustment and rejectAdjustment 503 dependency_unavailable with nothing decided or applied, then approves once it is back', async () => {
    const emulator = new RevenueCatEmulator();
    await emulator.listen();
    const schema = await createTestSchema('probe_outage');
    const target = new URL(TEST_DATABASE_URL);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.port = String(proxy.port);
    const app = await startApp({ emulator, env: { DATABASE_URL: viaProxy.toString(), DATABASE_SCHEMA: schema.name, REVENUECAT_MAX_RETRIES: '0' } });
    try {
      const agent = await createOperator(app.client, 'AGENT', { maxAdjustment: 1 });
      emulator.addCustomer('user_probe_outage', { CRD: 0 });
      const id = approvalId(await adjust(agent.client, { userId: 'user_probe_outage', amount: 9 }));
      proxy.cut();
      // The root secret needs no database to authenticate: the failure is the approval's own.
      for (const [query, variables] of [
        [APPROVE, { id }],
        [REJECT, { id, reason: 'PRB-7 outage' }],
      ] as const) {
        const response = await app.client.query(query, variables);
        expect([response.status, errorCode(response)]).toEqual([503, 'dependency_unavailable']);
      }
      proxy.restore();
      await waitFor(async () => (await app.client.query(REQUEST)).status === 200, 5000, 'recovery');
      const requests = await app.client.query<{ approvalRequests: { nodes: Array<{ id: string; status: string }> } }>(REQUEST);
      expect(requests.body.data!.approvalRequests.nodes).toEqual([{ id, status: 'PENDING', idempotencyKey: expect.any(String) }]);
      const approved = await app.client.query<{ approveAdjustment: Adjusted }>(APPROVE, { id });
      expect(approved.body.data?.approveAdjustment).toMatchObject({ balance: 9, actor: actorOf(agent) });
      expect(emulator.count('create_transaction', 'user_probe_outage')).toBe(1);
    } finally {
      proxy.restore();
      await app.close();
      await proxy.close();
      await schema.drop();
      await emulator.close();
    }
  });
});
