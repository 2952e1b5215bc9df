import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { hashOperatorToken } from '../src/operators/operator-token';
import { startGatewayProcess } from './helpers/gateway-process';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { createTestSchema, describeWithPostgres, TEST_DATABASE_URL } from './helpers/postgres';
import { startTcpProxy } from './helpers/tcp-proxy';
import { ADMIN_SECRET, startApp, startTwoInstancesOnRedis, TestApp, TwoInstances, useEmulatorApp } from './helpers/test-app';
import { connectWs, subscribe, waitFor } from './helpers/ws-client';

const OPERATOR_FIELDS = `id name role maxAdjustment dailyLimit tokenPrefix createdAt createdBy { operatorId name role onBehalfOf } revokedAt lastUsedAt`;
const CREATE = `mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { ${OPERATOR_FIELDS} } } }`;
const UPDATE = `mutation Update($input: UpdateOperatorInput!) { updateOperator(input: $input) { ${OPERATOR_FIELDS} } }`;
const REVOKE = `mutation Revoke($id: ID!) { revokeOperator(id: $id) { ${OPERATOR_FIELDS} } }`;
const LIST = `query List($includeRevoked: Boolean! = false) { operators(includeRevoked: $includeRevoked) { ${OPERATOR_FIELDS} } }`;
const ME = '{ me { operatorId name role onBehalfOf } }';
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id balance actor { operatorId name role onBehalfOf } } }`;
const USAGE = 'subscription Usage($userId: ID) { usageChanged(userId: $userId) { userId delta balance } }';

type Role = 'VIEWER' | 'AGENT' | 'SUPERVISOR' | 'ADMIN';
interface Operator {
  id: string;
  name: string;
  role: Role;
  maxAdjustment: number | null;
  dailyLimit: number | null;
  tokenPrefix: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdBy: Record<string, unknown>;
}
interface Credential {
  token: string;
  operator: Operator;
}

async function createOperator(
  client: GraphQLClient,
  input: { name?: string; role: Role; maxAdjustment?: number | null; dailyLimit?: number | null },
  headers?: Record<string, string>,
): Promise<Credential> {
  const response = await client.query<{ createOperator: Credential }>(
    CREATE,
    { input: { name: `${input.role.toLowerCase()} ${randomUUID().slice(0, 6)}`, ...input } },
    { headers },
  );
  if (!response.body.data?.createOperator) throw new Error(`createOperator failed: ${JSON.stringify(response.body.errors)}`);
  return response.body.data.createOperator;
}

function expectForbidden(response: GraphQLResponse<unknown>, requiredRole: Role): void {
  expect(response.status).toBe(403);
  expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'forbidden', status: 403, requiredRole });
}

async function tableRows(schema: string, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`set search_path to "${schema}"`);
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

describeWithPostgres('operators: named credentials with roles', () => {
  const ctx = useEmulatorApp({ env: { REVENUECAT_MAX_RETRIES: '0' } });
  let app: TestApp;
  let emulator: RevenueCatEmulator;
  const operators = {} as Record<Role, Credential>;
  const as = (role: Role) => app.client.withToken(operators[role].token);

  beforeAll(async () => {
    app = ctx.app;
    emulator = ctx.emulator;
    for (const role of ['VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN'] as const) operators[role] = await createOperator(app.client, { role });
  });

  it('shows a token once, keeps only its hash and first 8 characters, and records who created it', async () => {
    const created = await createOperator(
      app.client,
      { name: '  Jane Support  ', role: 'AGENT', maxAdjustment: 500, dailyLimit: 2000 },
      { 'x-on-behalf-of': 'lead@support.example' },
    );
    expect(created.token).toMatch(/^cgo_[A-Za-z0-9_-]{43}$/);
    expect(created.operator).toMatchObject({
      id: expect.stringMatching(/^op_[0-9a-f-]{36}$/),
      name: 'Jane Support',
      role: 'AGENT',
      maxAdjustment: 500,
      dailyLimit: 2000,
      tokenPrefix: created.token.slice(0, 8),
      createdBy: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: 'lead@support.example' },
      revokedAt: null,
      lastUsedAt: null,
    });
    const [row] = await tableRows(app.config.database.kind === 'postgres' ? app.config.database.schema! : '', 'select * from operators where id = $1', [created.operator.id]);
    expect(row.token_hash).toBe(hashOperatorToken(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(JSON.stringify(row)).not.toContain(created.token.slice(8));

    // The token is never listed again.
    const listed = await app.client.query<{ operators: Operator[] }>(LIST);
    expect(listed.body.data!.operators.find((operator) => operator.id === created.operator.id)).toMatchObject({ tokenPrefix: created.token.slice(0, 8) });
    expect(JSON.stringify(listed.body)).not.toContain(created.token);

    // It authenticates as that operator, and lastUsedAt is recorded.
    const me = await app.client.withToken(created.token).query(ME, undefined, { headers: { 'x-on-behalf-of': 'jane@example.com' } });
    expect(me.body.data).toEqual({ me: { operatorId: created.operator.id, name: 'Jane Support', role: 'AGENT', onBehalfOf: 'jane@example.com' } });
    await waitFor(
      async () => {
        const listedAgain = await app.client.query<{ operators: Operator[] }>(LIST);
        return listedAgain.body.data!.operators.find((operator) => operator.id === created.operator.id)?.lastUsedAt !== null;
      },
      3000,
      'lastUsedAt',
    );
  });

  it('answers me for the root secrets as admin with no operator id', async () => {
    expect((await app.client.query(ME)).body.data).toEqual({ me: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: null } });
  });

  it('refuses an unknown operator-shaped token and a garbage one alike: 403 invalid_admin_secret', async () => {
    for (const token of [`cgo_${'A'.repeat(43)}`, 'cgo_short', operators.AGENT.token + 'x']) {
      const response = await app.client.withToken(token).query(ME);
      expect([response.status, errorCode(response)]).toEqual([403, 'invalid_admin_secret']);
    }
  });

  describe('role boundaries (HTTP)', () => {
    const userId = `user_roles_${randomUUID().slice(0, 8)}`;
    beforeAll(() => emulator.addCustomer(userId, { CRD: 100 }));

    const reads: Array<[string, string, Role]> = [
      ['currencies', '{ currencies { code } }', 'VIEWER'],
      ['balances', `{ balances(userId: "${'user_nobody'}") { currency } }`, 'VIEWER'],
      ['adjustments', '{ adjustments(first: 1) { nodes { id } } }', 'VIEWER'],
      ['adjustment', '{ adjustment(id: "nope") { id } }', 'VIEWER'],
      ['me', ME, 'VIEWER'],
      ['operators', '{ operators { id } }', 'SUPERVISOR'],
    ];

    it.each(reads)('%s needs %s', async (_field, query, required) => {
      for (const role of ['VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN'] as const) {
        const response = await as(role).query(query);
        const allowed = ['VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN'].indexOf(role) >= ['VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN'].indexOf(required);
        if (allowed) expect(response.body.errors?.[0]?.extensions?.code).not.toBe('forbidden');
        else expectForbidden(response, required);
      }
    });

    it('adjustCredits needs AGENT: a VIEWER is refused before anything is written or sent', async () => {
      const before = emulator.count('create_transaction');
      const refused = await as('VIEWER').query(ADJUST, { input: { userId, amount: 5, reason: 'RB-1 viewer try', idempotencyKey: `rb-${randomUUID()}` } });
      expectForbidden(refused, 'AGENT');
      expect(emulator.count('create_transaction')).toBe(before);
      const history = await app.client.query<{ adjustments: { nodes: unknown[] } }>('query H($u: ID) { adjustments(filter: { userId: $u }) { nodes { id } } }', { u: userId });
      expect(history.body.data!.adjustments.nodes).toHaveLength(0);

      const applied = await as('AGENT').query<{ adjustCredits: { balance: number; actor: unknown } }>(ADJUST, { input: { userId, amount: 5, reason: 'RB-1 agent grant' } });
      expect(applied.body.data!.adjustCredits).toEqual(
        expect.objectContaining({ balance: 105, actor: { operatorId: operators.AGENT.operator.id, name: operators.AGENT.operator.name, role: 'AGENT', onBehalfOf: null } }),
      );
      expect(emulator.count('create_transaction')).toBe(before + 1);
    });

    it('fails only the forbidden fields of an operation that has others, which run', async () => {
      const response = await as('AGENT').query(
        `mutation { adjustCredits(input: { userId: "${userId}", amount: 1, reason: "RB-3 alongside" }) { balance } createOperator(input: { name: "no", role: VIEWER }) { token } }`,
      );
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual({ adjustCredits: { balance: 106 }, createOperator: null });
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors?.[0]).toMatchObject({ path: ['createOperator'], extensions: { code: 'forbidden', requiredRole: 'SUPERVISOR' } });
    });
  });

  describe('role boundaries (graphql-ws)', () => {
    it('lets any operator watch usageChanged, and holds queries and mutations over the socket to the same roles', async () => {
      const ws = connectWs(app.url, `Bearer ${operators.VIEWER.token}`);
      try {
        await ws.connected;
        const userId = `user_ws_roles_${randomUUID().slice(0, 8)}`;
        emulator.addCustomer(userId, { CRD: 10 });
        const watching = subscribe(ws, USAGE, { userId });
        const mutation = subscribe(ws, ADJUST, { input: { userId, amount: 1, reason: 'RB-2 over ws' } });
        const [error] = (await mutation.failed) as Array<{ extensions?: Record<string, unknown> }>;
        expect(error.extensions).toMatchObject({ code: 'forbidden', requiredRole: 'AGENT' });
        await new Promise((resolve) => setTimeout(resolve, 100));
        const applied = await as('AGENT').query(ADJUST, { input: { userId, amount: 2, reason: 'RB-2 agent grant' } });
        expect(applied.body.errors).toBeUndefined();
        expect(await watching.next()).toEqual({ usageChanged: { userId, delta: 2, balance: 12 } });
        const operatorsOverWs = subscribe(ws, '{ operators { id } }');
        const [listError] = (await operatorsOverWs.failed) as Array<{ extensions?: Record<string, unknown> }>;
        expect(listError.extensions).toMatchObject({ code: 'forbidden', requiredRole: 'SUPERVISOR' });
      } finally {
        await ws.dispose();
      }
    });
  });

  describe('who may manage whom', () => {
    it('lets a SUPERVISOR create, update and revoke VIEWERs and AGENTs only', async () => {
      const supervisor = as('SUPERVISOR');
      const agent = await createOperator(supervisor, { role: 'AGENT', maxAdjustment: 100 });
      expect(agent.operator.createdBy).toMatchObject({ operatorId: operators.SUPERVISOR.operator.id, role: 'SUPERVISOR' });
      for (const role of ['SUPERVISOR', 'ADMIN'] as const) {
        expectForbidden(await supervisor.query(CREATE, { input: { name: 'too high', role } }), 'ADMIN');
      }
      // Promoting an AGENT to SUPERVISOR, or touching a SUPERVISOR, needs an ADMIN.
      expectForbidden(await supervisor.query(UPDATE, { input: { id: agent.operator.id, role: 'SUPERVISOR' } }), 'ADMIN');
      expectForbidden(await supervisor.query(UPDATE, { input: { id: operators.SUPERVISOR.operator.id, maxAdjustment: 1_000_000 } }), 'ADMIN');
      expectForbidden(await supervisor.query(REVOKE, { id: operators.ADMIN.operator.id }), 'ADMIN');

      const updated = await supervisor.query<{ updateOperator: Operator }>(UPDATE, { input: { id: agent.operator.id, role: 'VIEWER', dailyLimit: 50 } });
      expect(updated.body.data!.updateOperator).toMatchObject({ role: 'VIEWER', maxAdjustment: 100, dailyLimit: 50 });
      const cleared = await supervisor.query<{ updateOperator: Operator }>(UPDATE, { input: { id: agent.operator.id, clearLimits: true, dailyLimit: 70 } });
      expect(cleared.body.data!.updateOperator).toMatchObject({ maxAdjustment: null, dailyLimit: 70 });
      // The new role applies to the very next request on this instance.
      expectForbidden(await app.client.withToken(agent.token).query(ADJUST, { input: { userId: 'user_x', amount: 1, reason: 'demoted now' } }), 'AGENT');

      const revoked = await supervisor.query<{ revokeOperator: Operator }>(REVOKE, { id: agent.operator.id });
      expect(revoked.body.data!.revokeOperator.revokedAt).toEqual(expect.any(String));
      // Revoking again answers the operator as it is; updating a revoked one is invalid_state.
      const again = await supervisor.query<{ revokeOperator: Operator }>(REVOKE, { id: agent.operator.id });
      expect(again.body.data!.revokeOperator.revokedAt).toBe(revoked.body.data!.revokeOperator.revokedAt);
      expect(errorCode(await supervisor.query(UPDATE, { input: { id: agent.operator.id, dailyLimit: 5 } }))).toBe('invalid_state');
    });

    it('needs SUPERVISOR to manage at all, and an ADMIN operator manages anyone', async () => {
      expectForbidden(await as('AGENT').query(CREATE, { input: { name: 'agent try', role: 'VIEWER' } }), 'SUPERVISOR');
      const supervisor = await createOperator(as('ADMIN'), { role: 'SUPERVISOR' });
      const promoted = await as('ADMIN').query<{ updateOperator: Operator }>(UPDATE, { input: { id: supervisor.operator.id, role: 'ADMIN' } });
      expect(promoted.body.data!.updateOperator.role).toBe('ADMIN');
      const revoked = await as('ADMIN').query<{ revokeOperator: Operator }>(REVOKE, { id: supervisor.operator.id });
      expect(revoked.body.data!.revokeOperator.revokedAt).not.toBeNull();
    });

    it('lists revoked operators only when asked', async () => {
      const gone = await createOperator(app.client, { role: 'VIEWER' });
      await app.client.query(REVOKE, { id: gone.operator.id });
      const live = await as('SUPERVISOR').query<{ operators: Operator[] }>(LIST);
      const all = await as('SUPERVISOR').query<{ operators: Operator[] }>(LIST, { includeRevoked: true });
      expect(live.body.data!.operators.map((o) => o.id)).not.toContain(gone.operator.id);
      expect(all.body.data!.operators.map((o) => o.id)).toContain(gone.operator.id);
    });

    it.each([
      [{ name: '', role: 'VIEWER' }, 'name'],
      [{ name: '\u200b\u200b', role: 'VIEWER' }, 'name'],
      [{ name: 'bad\u0007bell', role: 'VIEWER' }, 'name'],
      [{ name: 'x'.repeat(101), role: 'VIEWER' }, 'name'],
      [{ name: 'zero limit', role: 'AGENT', maxAdjustment: 0 }, 'maxAdjustment'],
      [{ name: 'negative limit', role: 'AGENT', dailyLimit: -5 }, 'dailyLimit'],
    ])('refuses %j as invalid_argument naming %s', async (input, field) => {
      const response = await app.client.query(CREATE, { input });
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'invalid_argument', field });
    });

    it('answers not_found for an unknown operator id', async () => {
      for (const [query, variables] of [
        [UPDATE, { input: { id: 'op_nope', dailyLimit: 5 } }],
        [REVOKE, { id: 'op_nope' }],
      ] as const) {
        const response = await app.client.query(query, variables);
        expect([response.status, errorCode(response)]).toEqual([404, 'not_found']);
      }
    });
  });

  it('gives each credential its own rate-limit budget', async () => {
    const limited = await startApp({ emulator, env: { RATE_LIMIT_READS_PER_MINUTE: '2' } });
    try {
      const first = await createOperator(limited.client, { role: 'VIEWER' });
      const second = await createOperator(limited.client, { role: 'VIEWER' });
      const a = limited.client.withToken(first.token);
      expect((await a.query(ME)).status).toBe(200);
      expect((await a.query(ME)).status).toBe(200);
      const third = await a.query(ME);
      expect([third.status, errorCode(third)]).toEqual([429, 'rate_limited']);
      expect((await limited.client.withToken(second.token).query(ME)).status).toBe(200);
      expect((await limited.client.query(ME)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describeWithPostgres('operators: revocation', () => {
  let emulator: RevenueCatEmulator;
  let instances: TwoInstances;
  beforeAll(async () => {
    emulator = new RevenueCatEmulator();
    await emulator.listen();
    instances = await startTwoInstancesOnRedis({ emulator });
  });
  afterAll(async () => {
    await instances?.close();
    await emulator.close();
  });

  it('refuses a revoked token at once on the revoking instance and within a second on the other, and closes its subscriptions on both', async () => {
    const { first, second } = instances;
    const operator = await createOperator(first.client, { role: 'AGENT' });
    const onFirst = first.client.withToken(operator.token);
    const onSecond = second.client.withToken(operator.token);
    // Both instances have the token in their cache.
    expect((await onFirst.query(ME)).status).toBe(200);
    expect((await onSecond.query(ME)).status).toBe(200);
    const wsFirst = connectWs(first.url, `Bearer ${operator.token}`);
    const wsSecond = connectWs(second.url, `Bearer ${operator.token}`);
    await Promise.all([wsFirst.connected, wsSecond.connected]);
    subscribe(wsFirst, USAGE);
    subscribe(wsSecond, USAGE);
    // An open connection of another operator is left alone.
    const bystander = await createOperator(first.client, { role: 'VIEWER' });
    const wsBystander = connectWs(second.url, `Bearer ${bystander.token}`);
    await wsBystander.connected;

    const revokedAt = Date.now();
    const revoked = await first.client.query(REVOKE, { id: operator.operator.id });
    expect(revoked.body.errors).toBeUndefined();
    const answer = await onFirst.query(ME);
    expect([answer.status, errorCode(answer)]).toEqual([403, 'invalid_admin_secret']);
    expect(await wsFirst.closed).toEqual({ code: 4403, reason: 'token revoked' });

    await waitFor(async () => (await onSecond.query(ME)).status === 403, 3000, 'the second instance to refuse the revoked token');
    const refusedAfter = Date.now() - revokedAt;
    expect(await wsSecond.closed).toEqual({ code: 4403, reason: 'token revoked' });
    const closedAfter = Date.now() - revokedAt;
    expect(refusedAfter).toBeLessThanOrEqual(1500);
    expect(closedAfter).toBeLessThanOrEqual(1500);

    // A new connection with the revoked token is refused; the bystander is still connected.
    const retry = connectWs(second.url, `Bearer ${operator.token}`);
    expect((await retry.closed).code).toBe(4401);
    const still = await Promise.race([wsBystander.closed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('open'), 300))]);
    expect(still).toBe('open');
    await wsBystander.dispose();
  });
});

describeWithPostgres('operators: the database away', () => {
  it('answers an operator token 503 dependency_unavailable, never 500 or 403, while the root secret still reads balances', async () => {
    const emulator = new RevenueCatEmulator();
    await emulator.listen();
    const schema = await createTestSchema('operators_outage');
    const target = new URL(TEST_DATABASE_URL);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.port = String(proxy.port);
    const app = await startApp({ emulator, env: { DATABASE_URL: viaProxy.toString(), DATABASE_SCHEMA: schema.name } });
    try {
      emulator.addCustomer('user_outage_ops', { CRD: 7 });
      const operator = await createOperator(app.client, { role: 'VIEWER' });
      // Out of the cache (a second at most).
      await new Promise((resolve) => setTimeout(resolve, 1100));
      proxy.cut();
      const refused = await app.client.withToken(operator.token).query(ME);
      expect([refused.status, errorCode(refused)]).toEqual([503, 'dependency_unavailable']);
      const ws = connectWs(app.url, `Bearer ${operator.token}`);
      expect(await ws.closed).toEqual({ code: 1013, reason: 'dependency_unavailable' });
      const balances = await app.client.query('{ balances(userId: "user_outage_ops") { currency balance } }');
      expect(balances.body.data).toEqual({ balances: [{ currency: 'CRD', balance: 7 }] });
      proxy.restore();
      await waitFor(async () => (await app.client.withToken(operator.token).query(ME)).status === 200, 5000, 'recovery');
    } finally {
      proxy.restore();
      await app.close();
      await proxy.close();
      await schema.drop();
      await emulator.close();
    }
  });
});

describeWithPostgres('operators: tokens stay secret', () => {
  it('never writes a token to the logs, an error or the journal', async () => {
    const emulator = new RevenueCatEmulator();
    await emulator.listen();
    const schema = await createTestSchema('operators_secret');
    const gateway = await startGatewayProcess({
      ADMIN_SECRET,
      REVENUECAT_API_KEY: emulator.apiKey,
      REVENUECAT_PROJECT_ID: emulator.projectId,
      REVENUECAT_API_URL: emulator.baseUrl,
      DATABASE_SCHEMA: schema.name,
      LOG_LEVEL: 'debug',
    });
    try {
      const root = new GraphQLClient(`${gateway.url}/graphql`, ADMIN_SECRET);
      const created = await createOperator(root, { role: 'AGENT' });
      const client = root.withToken(created.token);
      emulator.addCustomer('user_secret_ops', { CRD: 1 });
      const responses: string[] = [];
      for (const [query, variables] of [
        [ADJUST, { input: { userId: 'user_secret_ops', amount: 3, reason: 'SEC-1 grant' } }],
        [ADJUST, { input: { userId: 'user_secret_ops', amount: 0, reason: 'SEC-1 zero' } }],
        ['{ operators { id } }', undefined],
        [ME, undefined],
      ] as const) {
        responses.push(JSON.stringify((await client.query(query, variables)).body));
      }
      await root.query(REVOKE, { id: created.operator.id });
      responses.push(JSON.stringify((await client.query(ME)).body));
      await new Promise((resolve) => setTimeout(resolve, 200));

      const logs = gateway.output.join('\n');
      expect(logs).toContain(created.operator.id);
      for (const text of [logs, ...responses]) {
        expect(text).not.toContain(created.token);
        expect(text).not.toContain(created.token.slice(8));
        expect(text).not.toContain(hashOperatorToken(created.token));
      }
      const journal = await tableRows(schema.name, 'select * from adjustments');
      expect(journal).toHaveLength(1);
      expect(JSON.stringify(journal)).not.toContain(created.token.slice(8));
    } finally {
      gateway.kill('SIGKILL');
      await gateway.exited;
      await schema.drop();
      await emulator.close();
    }
  });
});
