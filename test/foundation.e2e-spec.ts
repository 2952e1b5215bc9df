import { Test } from '@nestjs/testing';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { AppModule } from '../src/app.module';
import { APP_OPTIONS, httpAdapter } from '../src/bootstrap';
import { loadConfig } from '../src/config/app-config';
import { errorCode, GraphQLClient } from './helpers/graphql-client';
import { TEST_DATABASE_URL } from './helpers/postgres';
import { ADMIN_SECRET, PREVIOUS_ADMIN_SECRET, startApp, TestApp, useEmulatorApp } from './helpers/test-app';

const BALANCES = `query Balances($userId: ID!, $includeEmpty: Boolean! = false) {
  balances(userId: $userId, includeEmpty: $includeEmpty) { currency name balance }
}`;
const CURRENCIES = `{ currencies { code name description productGrants { productIds amount trialAmount expireAtCycleEnd } } }`;

describe('foundation: auth, currencies and balances over GraphQL', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;

  beforeAll(async () => {
    await emulator.listen();
    app = await startApp({ emulator, env: { ADMIN_SECRET_PREVIOUS: PREVIOUS_ADMIN_SECRET } });
  });
  afterAll(async () => {
    await app.close();
    await emulator.close();
  });
  beforeEach(() => emulator.reset());

  describe('admin authentication', () => {
    it('answers 401 missing_bearer without a header, before the query is even parsed', async () => {
      const response = await app.client.query('{ this is not graphql', undefined, { token: null });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="credits-admin"');
      expect(response.body).toEqual({
        errors: [
          {
            message: 'missing_bearer: send Authorization: Bearer <admin secret>',
            extensions: { code: 'missing_bearer', status: 401, requestId: response.headers.get('x-request-id') },
          },
        ],
      });
    });

    it('answers 403 invalid_admin_secret for a wrong bearer, and gives no schema hints', async () => {
      const response = await app.client.query('{ currencie { code } }', undefined, { token: 'not-the-secret' });
      expect(response.status).toBe(403);
      expect(errorCode(response)).toBe('invalid_admin_secret');
      expect(JSON.stringify(response.body)).not.toMatch(/Did you mean|currencies/);
    });

    it('refuses introspection to an unauthenticated caller and allows it to an admin', async () => {
      const introspection = '{ __schema { queryType { fields { name } } } }';
      const anonymous = await app.client.query(introspection, undefined, { token: null });
      expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'missing_bearer']);
      expect(anonymous.body.data).toBeUndefined();
      const admin = await app.client.query<{ __schema: { queryType: { fields: Array<{ name: string }> } } }>(introspection);
      expect(admin.status).toBe(200);
      expect(admin.body.data?.__schema.queryType.fields.map((field) => field.name)).toEqual([
        'adjustment',
        'adjustments',
        'adjustmentsCsv',
        'approvalRequests',
        'balances',
        'bulkAdjustment',
        'bulkAdjustments',
        'currencies',
        'me',
        'operators',
      ]);
    });

    it('refuses a GET query without a bearer', async () => {
      const response = await app.http
        .get(`/graphql?query=${encodeURIComponent('{ currencies { code } }')}`)
        .set({ accept: 'application/json', 'apollo-require-preflight': 'true' });
      expect(response.status).toBe(401);
      expect(emulator.count('list_currencies')).toBe(0);
    });

    // Whatever the method or the Accept header says, an operation authenticates first; only a GET with no
    // operation in it that prefers HTML (by Apollo's own negotiation) is the Sandbox page.
    const INTROSPECTION = '{__schema{types{name}}}';
    it.each([
      ['a deferSpec multipart Accept preferred to HTML', 'multipart/mixed; deferSpec=20220824, text/html;q=0.9, application/json;q=0.1'],
      ['an incrementalSpec multipart Accept preferred to HTML', 'multipart/mixed; incrementalSpec=v0.2, text/html;q=0.9'],
      ['a graphql-response+json Accept with a charset preferred to HTML', 'application/graphql-response+json; charset=utf-8, text/html;q=0.9'],
      ['an Accept of text/html only', 'text/html'],
      ['a browser Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
      ['an Accept of */*', '*/*'],
    ])('refuses a GET introspection query without a bearer, with %s', async (_name, accept) => {
      const response = await app.http.get(`/graphql?query=${encodeURIComponent(INTROSPECTION)}`).set({ accept, 'apollo-require-preflight': '1' });
      const text = response.text;
      expect(response.status).toBe(401);
      expect(JSON.parse(text).errors[0].extensions.code).toBe('missing_bearer');
      expect(text).not.toMatch(/__Schema|__Type|Query/);
    });

    // Express mounted Apollo on every path under /graphql while the gate matched /graphql alone, so
    // `GET /graphql/x?query={__schema{...}}` answered the schema to anyone. No path reaches Apollo but
    // through the gate: each of these is refused or not found, and says nothing about the schema.
    it.each([
      '/graphql/x',
      '/graphql//',
      '/graphql/..',
      '/graphql/%2e%2e',
      '/graphql/.',
      '/GRAPHQL',
      '/graphql/',
      '/Graphql/x',
      '//graphql',
      '/graphql;x',
      '/graphql%2F',
      '/%67raphql',
    ])('never runs an unauthenticated operation at %s', async (path) => {
      const query = `query=${encodeURIComponent('{__schema{queryType{fields{name}}}}')}`;
      for (const method of ['GET', 'POST'] as const) {
        const { status, text } = await rawRequest(
          app,
          method === 'GET' ? `${path}?${query}` : path,
          method,
          method === 'POST' ? JSON.stringify({ query: '{__schema{queryType{fields{name}}}}' }) : undefined,
        );
        expect([path, method, [401, 404].includes(status)]).toEqual([path, method, true]);
        expect(text).not.toMatch(/"data"|"name":"balances"|Did you mean/);
      }
    });

    it('refuses a GET persisted-query attempt without a bearer even when it prefers HTML', async () => {
      const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } });
      const response = await app.http.get(`/graphql?extensions=${encodeURIComponent(extensions)}`).set({ accept: 'text/html', 'apollo-require-preflight': '1' });
      expect(response.status).toBe(401);
      expect(JSON.parse(response.text).errors[0].extensions.code).toBe('missing_bearer');
    });

    it('refuses a POST introspection without a bearer even when it prefers HTML', async () => {
      const response = await app.http
        .post('/graphql')
        .set({ accept: 'text/html', 'content-type': 'application/json' })
        .send(JSON.stringify({ query: INTROSPECTION }));
      const text = response.text;
      expect(response.status).toBe(401);
      expect(JSON.parse(text).errors[0].extensions.code).toBe('missing_bearer');
      expect(text).not.toMatch(/__Schema/);
    });

    it('answers an admin GET introspection query with the multipart-preferring Accept', async () => {
      const response = await app.http.get(`/graphql?query=${encodeURIComponent(INTROSPECTION)}`).set({
        accept: 'multipart/mixed; deferSpec=20220824, text/html;q=0.9, application/json;q=0.1',
        'apollo-require-preflight': '1',
        authorization: `Bearer ${ADMIN_SECRET}`,
      });
      expect(response.status).toBe(200);
      expect(response.text).toMatch(/__Schema/);
    });

    it('accepts the previous secret during a rotation', async () => {
      const response = await app.client.query(CURRENCIES, undefined, { token: PREVIOUS_ADMIN_SECRET });
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
    });

    it.each(['text/html', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'])(
      'serves the Apollo Sandbox landing page to a browser on GET /graphql (Accept: %s)',
      async (accept) => {
        const response = await app.http.get('/graphql').set({ accept });
        expect(response.status).toBe(200);
        expect(response.headers['content-type']).toMatch(/text\/html/);
        expect(response.text).toMatch(/sandbox/i);
      },
    );

    it('treats a GET with no query that Apollo would not answer with HTML as an operation', async () => {
      const response = await app.http.get('/graphql').set({ accept: 'multipart/mixed; deferSpec=20220824, text/html;q=0.9', 'apollo-require-preflight': '1' });
      expect(response.status).toBe(401);
      expect(JSON.parse(response.text).errors[0].extensions.code).toBe('missing_bearer');
    });

    it('answers 503 admin_unconfigured, naming what is missing and nothing else, when secrets are unset', async () => {
      const unconfigured = await startApp({ emulator, env: { ADMIN_SECRET: undefined, REVENUECAT_API_KEY: undefined } });
      try {
        const response = await unconfigured.client.query(CURRENCIES);
        expect(response.status).toBe(503);
        expect(response.body.errors?.[0]).toEqual({
          message: 'admin_unconfigured: ADMIN_SECRET, REVENUECAT_API_KEY not set on the server',
          extensions: {
            code: 'admin_unconfigured',
            status: 503,
            missing: ['ADMIN_SECRET', 'REVENUECAT_API_KEY'],
            requestId: response.headers.get('x-request-id'),
          },
        });
        expect(JSON.stringify(response.body)).not.toContain(emulator.projectId);
      } finally {
        await unconfigured.close();
      }
    });
  });

  describe('currencies', () => {
    it("lists the project's currencies with their product grants", async () => {
      const response = await app.client.query<{ currencies: Array<Record<string, unknown>> }>(CURRENCIES);
      expect(response.status).toBe(200);
      const [credits] = response.body.data!.currencies;
      expect(credits).toMatchObject({ code: 'CRD', name: 'Credits' });
      expect((credits.productGrants as unknown[]).length).toBeGreaterThanOrEqual(1);
      expect((credits.productGrants as Array<{ amount: number }>).every((grant) => grant.amount > 0)).toBe(true);
    });
  });

  describe('balances', () => {
    it("reads a customer's exact balances", async () => {
      const response = await app.client.query(BALANCES, { userId: 'user_2abcXYZ' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ data: { balances: [{ currency: 'CRD', name: 'Credits', balance: 250 }] } });
      // A customer's balances are never kept by a cache on the way (so no ETag is computed for them either).
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('etag')).toBeNull();
    });

    it('includes zero balances only with includeEmpty', async () => {
      expect((await app.client.query(BALANCES, { userId: 'user_demo_empty' })).body.data).toEqual({ balances: [] });
      expect((await app.client.query(BALANCES, { userId: 'user_demo_empty', includeEmpty: true })).body.data).toEqual({
        balances: [{ currency: 'CRD', name: 'Credits', balance: 0 }],
      });
    });

    it('reads a customer whose id needs URL encoding', async () => {
      const userId = 'user_2/../../projects?x=1&y=#é';
      emulator.addCustomer(userId, { CRD: 7 });
      const response = await app.client.query(BALANCES, { userId });
      expect(response.body.data).toEqual({ balances: [{ currency: 'CRD', name: 'Credits', balance: 7 }] });
      expect(emulator.requests.at(-1)?.customerId).toBe(userId);
    });

    it('answers 404 rc_customer_not_found for an unknown customer', async () => {
      const response = await app.client.query(BALANCES, { userId: 'user_nobody' });
      expect(response.status).toBe(404);
      expect(response.body.errors?.[0]).toMatchObject({
        message: 'rc_customer_not_found: RevenueCat has no customer with that id',
        path: ['balances'],
        extensions: { code: 'rc_customer_not_found', status: 404 },
      });
    });

    it('rides out an upstream 503 that succeeds on retry', async () => {
      emulator.injectFault({ endpoint: 'list_balances', status: 503, count: 1, backoffMs: 5 });
      const response = await app.client.query(BALANCES, { userId: 'user_2abcXYZ' });
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual({ balances: [{ currency: 'CRD', name: 'Credits', balance: 250 }] });
      expect(emulator.count('list_balances')).toBe(2);
    });

    it('answers 502 rc_call_failed: server_error when the upstream keeps failing, with nothing internal', async () => {
      emulator.injectFault({ endpoint: 'list_balances', status: 503, count: Infinity, backoffMs: 5, message: 'db node 7 down' });
      const response = await app.client.query(BALANCES, { userId: 'user_2abcXYZ' });
      expect(response.status).toBe(502);
      expect(response.body.errors?.[0]).toEqual({
        message: 'rc_call_failed: server_error',
        locations: [{ line: 2, column: 3 }],
        path: ['balances'],
        extensions: { code: 'rc_call_failed', status: 502, rcType: 'server_error', requestId: response.headers.get('x-request-id') },
      });
      expect(emulator.count('list_balances')).toBe(3);
      const text = JSON.stringify(response.body);
      expect(text).not.toContain('db node 7');
      expect(text).not.toContain(emulator.apiKey);
    });

    it('answers 502 rc_call_failed: timeout for a hung upstream', async () => {
      emulator.injectFault({ endpoint: 'list_balances', latencyMs: 10_000, count: Infinity });
      const fast = await startApp({ emulator, env: { REVENUECAT_TIMEOUT_MS: '100', REVENUECAT_MAX_RETRIES: '1' } });
      try {
        const response = await fast.client.query(BALANCES, { userId: 'user_2abcXYZ' });
        expect([response.status, response.body.errors?.[0]?.message]).toEqual([502, 'rc_call_failed: timeout']);
        expect(emulator.count('list_balances')).toBe(2);
      } finally {
        await fast.close();
      }
    });

    it.each([
      ['', 'userId', 'invalid_argument: userId must be 1 to 1500 characters long'],
      ['u'.repeat(1501), 'userId', 'invalid_argument: userId must be 1 to 1500 characters long'],
      ['user_\u0000x', 'userId', 'invalid_argument: userId must not contain control characters'],
    ])('answers 400 invalid_argument for userId %#, without calling RevenueCat', async (userId, field, message) => {
      const response = await app.client.query(BALANCES, { userId });
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.message).toBe(message);
      expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'invalid_argument', status: 400, field, requestId: expect.any(String) });
      expect(emulator.count('list_balances')).toBe(0);
    });

    it('answers 400 invalid_argument for a wrongly typed variable', async () => {
      const response = await app.client.query(BALANCES, { userId: 'user_2abcXYZ', includeEmpty: 'yes' });
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'invalid_argument', field: 'includeEmpty' });
    });

    it('answers 400 invalid_query for a field that does not exist', async () => {
      const response = await app.client.query('{ balances(userId: "x") { secret } }');
      expect([response.status, errorCode(response)]).toEqual([400, 'invalid_query']);
    });
  });
});

describe('currency list cache', () => {
  const ctx = useEmulatorApp();
  const emulator = ctx.emulator;

  it('serves repeated and concurrent currency queries from one upstream call', async () => {
    const responses = await Promise.all(Array.from({ length: 5 }, () => ctx.app.client.query('{ currencies { code } }')));
    responses.push(await ctx.app.client.query('{ currencies { code } }'));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(emulator.count('list_currencies')).toBe(1);
  });

  it('reads every page of a project with more currencies than one page holds', async () => {
    const uncached = await startApp({ emulator, env: { CURRENCY_CACHE_TTL_SECONDS: '0' } });
    try {
      for (let i = 1; i <= 104; i++) emulator.addCurrency({ code: `X${i}`, name: `Extra ${i}` });
      const before = emulator.count('list_currencies');
      const response = await uncached.client.query<{ currencies: Array<{ code: string }> }>('{ currencies { code } }');
      expect(response.body.data?.currencies).toHaveLength(105);
      expect(response.body.data?.currencies.at(-1)?.code).toBe('X104');
      expect(emulator.count('list_currencies') - before).toBe(2);
    } finally {
      await uncached.close();
    }
  });
});

describe('ADMIN_SECRET comparison', () => {
  it('rejects a token that differs only in case', async () => {
    const app = await startApp();
    try {
      const response = await app.client.query('{ currencies { code } }', undefined, { token: ADMIN_SECRET.toUpperCase() });
      expect([response.status, errorCode(response)]).toEqual([403, 'invalid_admin_secret']);
    } finally {
      await app.close();
    }
  });
});

describe('an app built from AppModule alone, without configureApp', () => {
  it('validates input and answers catalogue errors like the configured app: the pipe and filter are providers', async () => {
    const emulator = new RevenueCatEmulator();
    await emulator.listen();
    const config = loadConfig({
      ADMIN_SECRET,
      REVENUECAT_API_KEY: emulator.apiKey,
      REVENUECAT_PROJECT_ID: emulator.projectId,
      REVENUECAT_API_URL: emulator.baseUrl,
      LOG_LEVEL: 'silent',
      DATABASE_URL: TEST_DATABASE_URL,
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(config)] }).compile();
    const app = moduleRef.createNestApplication(httpAdapter(config), { ...APP_OPTIONS, logger: false });
    try {
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
      const client = new GraphQLClient(app.getHttpServer(), ADMIN_SECRET);
      const response = await client.query(BALANCES, { userId: 'u'.repeat(1501) });
      expect([response.status, errorCode(response), response.body.errors?.[0]?.extensions?.field]).toEqual([400, 'invalid_argument', 'userId']);
      expect(emulator.count('list_balances')).toBe(0);
    } finally {
      await app.close();
      await emulator.close();
    }
  });
});

/** A request whose path is sent exactly as written: supertest keeps `..` and `.` (fetch would resolve them first). */
async function rawRequest(app: TestApp, path: string, method: 'GET' | 'POST', body?: string): Promise<{ status: number; text: string }> {
  const request = (method === 'GET' ? app.http.get(path) : app.http.post(path)).set({ 'apollo-require-preflight': '1', accept: 'application/json' });
  const response = body === undefined ? await request : await request.set('content-type', 'application/json').send(body);
  return { status: response.status, text: response.text };
}
