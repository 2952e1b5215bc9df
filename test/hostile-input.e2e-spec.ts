import { getIntrospectionQuery } from 'graphql';
import { connect, type Socket } from 'node:net';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { Lifecycle } from '../src/lifecycle/lifecycle';
import { metric } from './helpers/metrics';
import { ADMIN_SECRET, startApp, TestApp } from './helpers/test-app';
import { connectWs, TestWsClient } from './helpers/ws-client';

const ADJUST = 'mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { balance } }';
const VALID = { userId: 'user_2abcXYZ', amount: 10, reason: 'HOSTILE-1 valid reason' };

interface Case {
  name: string;
  /** The raw request; defaults: POST, JSON, the admin bearer. */
  body?: string;
  input?: Record<string, unknown>;
  query?: string;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  url?: string;
  status: number;
  code: string;
  field?: string;
}

const adjust = (input: Record<string, unknown>) => JSON.stringify({ query: ADJUST, variables: { input } });
const balances = (userId: unknown) => JSON.stringify({ query: 'query B($userId: ID!) { balances(userId: $userId) { balance } }', variables: { userId } });
const nest = (depth: number) => `{ __schema { types { ${'ofType { '.repeat(depth)}name${' }'.repeat(depth)} } } }`;

const CASES: Case[] = [
  // Wrong types and out-of-range numbers.
  { name: 'amount as a string', input: { ...VALID, amount: '10' }, status: 400, code: 'invalid_argument', field: 'amount' },
  { name: 'amount as a float', input: { ...VALID, amount: 1.5 }, status: 400, code: 'invalid_argument', field: 'amount' },
  { name: 'amount of 2^31', input: { ...VALID, amount: 2 ** 31 }, status: 400, code: 'invalid_argument', field: 'amount' },
  { name: 'amount of -2^31 - 1', input: { ...VALID, amount: -(2 ** 31) - 1 }, status: 400, code: 'invalid_argument', field: 'amount' },
  { name: 'amount as negative zero', body: adjust(VALID).replace('"amount":10', '"amount":-0'), status: 400, code: 'amount_must_be_nonzero', field: 'amount' },
  { name: 'amount as 1e400', body: adjust(VALID).replace('"amount":10', '"amount":1e400'), status: 400, code: 'invalid_argument', field: 'amount' },
  { name: 'amount null', input: { ...VALID, amount: null }, status: 400, code: 'invalid_argument', field: 'amount' },
  {
    name: 'amount as a string literal in the document',
    query: 'mutation { adjustCredits(input: { userId: "u", amount: "5", reason: "abc" }) { balance } }',
    status: 400,
    code: 'invalid_argument',
  },
  { name: 'userId as an object', input: { ...VALID, userId: { $ne: null } }, status: 400, code: 'invalid_argument', field: 'userId' },
  // Missing and unknown fields.
  { name: 'missing amount', input: { userId: 'user_2abcXYZ', reason: 'HOSTILE-2' }, status: 400, code: 'invalid_argument', field: 'amount' },
  { name: 'missing reason', input: { userId: 'user_2abcXYZ', amount: 5 }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'missing input', body: JSON.stringify({ query: ADJUST }), status: 400, code: 'invalid_argument', field: 'input' },
  { name: 'an unknown input field', input: { ...VALID, admin: true }, status: 400, code: 'invalid_argument' },
  // Strings: huge, control characters, unicode, path traversal.
  { name: 'a reason of 10,000 characters', input: { ...VALID, reason: 'x'.repeat(10_000) }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a reason of white space only', input: { ...VALID, reason: ' \t\n  ' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a reason with a NUL byte', input: { ...VALID, reason: 'HOSTILE\u0000-3' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a reason with an escape sequence', input: { ...VALID, reason: 'HOSTILE-4 \u001b[31mred' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a reason of two emoji (two characters, four UTF-16 units)', input: { ...VALID, reason: '💸💸' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'an empty userId', input: { ...VALID, userId: '' }, status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'a userId of 1501 characters', input: { ...VALID, userId: 'u'.repeat(1501) }, status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'a userId with a newline', input: { ...VALID, userId: 'user_2abcXYZ\nuser_demo_rich' }, status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'a userId with a C1 control character', input: { ...VALID, userId: 'user\u0085x' }, status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'a path-traversal userId', input: { ...VALID, userId: '../../../projects/proj_emulator/customers/user_demo_rich' }, status: 404, code: 'rc_customer_not_found' },
  { name: 'an encoded path-traversal userId', input: { ...VALID, userId: '..%2F..%2Fuser_demo_rich' }, status: 404, code: 'rc_customer_not_found' },
  { name: 'a unicode userId nobody has', input: { ...VALID, userId: 'пользователь_🙂' }, status: 404, code: 'rc_customer_not_found' },
  { name: 'a currency with a slash', input: { ...VALID, currency: '../CRD' }, status: 400, code: 'invalid_argument', field: 'currency' },
  // Path steps: `.` and `..` would be resolved by the HTTP client and reach another RevenueCat endpoint;
  // anything else stays one customer id (one encoded path segment), which RevenueCat does not know.
  { name: 'a userId of "."', input: { ...VALID, userId: '.' }, status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'a userId of ".."', input: { ...VALID, userId: '..' }, status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'balances of userId "."', body: balances('.'), status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'balances of userId ".."', body: balances('..'), status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'a userId of "..."', input: { ...VALID, userId: '...' }, status: 404, code: 'rc_customer_not_found' },
  { name: 'a userId of "%2e%2e"', input: { ...VALID, userId: '%2e%2e' }, status: 404, code: 'rc_customer_not_found' },
  { name: 'balances of userId "%2E%2E"', body: balances('%2E%2E'), status: 404, code: 'rc_customer_not_found' },
  { name: 'a userId of "./user_demo_rich"', input: { ...VALID, userId: './user_demo_rich' }, status: 404, code: 'rc_customer_not_found' },
  { name: 'a userId with a backslash step', input: { ...VALID, userId: '..\\user_demo_rich' }, status: 404, code: 'rc_customer_not_found' },
  { name: 'a userId with "?" and "#"', input: { ...VALID, userId: 'user_2abcXYZ?x=1#frag' }, status: 404, code: 'rc_customer_not_found' },
  { name: 'a userId with a NUL byte', input: { ...VALID, userId: 'user_2abcXYZ\u0000' }, status: 400, code: 'invalid_argument', field: 'userId' },
  // Text that is not well-formed Unicode (a lone surrogate) is refused wherever it is given.
  { name: 'a userId with a lone high surrogate', input: { ...VALID, userId: 'user_\ud800' }, status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'a userId of a lone low surrogate', input: { ...VALID, userId: '\udc00' }, status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'balances of a userId with a lone surrogate', body: balances('user_\ud800'), status: 400, code: 'invalid_argument', field: 'userId' },
  { name: 'a reason with a lone surrogate', input: { ...VALID, reason: 'HOSTILE-7 \ud83d note' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a currency with a lone surrogate', input: { ...VALID, currency: 'CRD\ud800' }, status: 400, code: 'invalid_argument', field: 'currency' },
  { name: 'an idempotency key with a lone surrogate', input: { ...VALID, idempotencyKey: 'key-\ud800' }, status: 400, code: 'invalid_argument', field: 'idempotencyKey' },
  {
    name: 'an Idempotency-Key header of UTF-8 surrogate bytes',
    body: adjust(VALID),
    headers: { 'idempotency-key': 'key-\u00ed\u00a0\u0080' },
    status: 400,
    code: 'invalid_argument',
    field: 'idempotencyKey',
  },
  // Reasons that are empty to a reader, or carry control characters other than line breaks and tabs.
  { name: 'a reason of zero-width spaces only', input: { ...VALID, reason: '\u200b\u200b\u200b\u200b' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a reason of format characters only', input: { ...VALID, reason: '\u200c\u200d\u2060\ufeff\u00ad' }, status: 400, code: 'invalid_argument', field: 'reason' },
  {
    name: 'a reason of two visible characters padded with zero-width ones',
    input: { ...VALID, reason: 'ab\u200b\u200b\u200b' },
    status: 400,
    code: 'invalid_argument',
    field: 'reason',
  },
  { name: 'a reason of two visible characters around a no-break space', input: { ...VALID, reason: 'a\u00a0b' }, status: 400, code: 'invalid_argument', field: 'reason' },
  // Blank to a reader though not white space: Hangul fillers and the braille blank.
  { name: 'a reason of four Hangul fillers', input: { ...VALID, reason: '\u3164\u3164\u3164\u3164' }, status: 400, code: 'invalid_argument', field: 'reason' },
  {
    name: 'a reason of Hangul choseong, jungseong and halfwidth fillers',
    input: { ...VALID, reason: '\u115f\u1160\uffa0\u115f' },
    status: 400,
    code: 'invalid_argument',
    field: 'reason',
  },
  { name: 'a reason of four braille blanks', input: { ...VALID, reason: '\u2800\u2800\u2800\u2800' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a reason of two letters and braille blanks', input: { ...VALID, reason: 'ab\u2800\u2800\u2800' }, status: 400, code: 'invalid_argument', field: 'reason' },
  // Bidirectional controls reorder what the audit log and the RevenueCat dashboard show: refused outright.
  { name: 'a reason with a right-to-left override', input: { ...VALID, reason: 'HOSTILE-9 \u202egnp.exe' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a reason with a left-to-right mark', input: { ...VALID, reason: 'HOSTILE-9 \u200e ticket' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a reason with a first-strong isolate', input: { ...VALID, reason: 'HOSTILE-9 \u2068x\u2069' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a reason with an Arabic letter mark', input: { ...VALID, reason: 'HOSTILE-9 \u061c ticket' }, status: 400, code: 'invalid_argument', field: 'reason' },
  {
    name: 'a reversal whose reason holds a right-to-left override',
    body: JSON.stringify({
      query: 'mutation R($input: ReverseAdjustmentInput!) { reverseAdjustment(input: $input) { id } }',
      variables: { input: { adjustmentId: 'adj_none', reason: 'HOSTILE-9 \u202eevil' } },
    }),
    status: 400,
    code: 'invalid_argument',
    field: 'reason',
  },
  {
    name: 'a rejection whose reason is braille blanks',
    body: JSON.stringify({
      query: 'mutation J($id: ID!, $reason: String!) { rejectAdjustment(id: $id, reason: $reason) { id } }',
      variables: { id: 'apr_none', reason: '\u2800\u2800\u2800\u2800' },
    }),
    status: 400,
    code: 'invalid_argument',
    field: 'reason',
  },
  {
    name: 'a bulk job whose reason holds a right-to-left embedding',
    body: JSON.stringify({
      query: 'mutation C($input: CreateBulkAdjustmentInput!) { createBulkAdjustment(input: $input) { id } }',
      variables: { input: { reason: 'HOSTILE-9 \u202bticket\u202c' } },
    }),
    status: 400,
    code: 'invalid_argument',
    field: 'reason',
  },
  { name: 'a reason with a lone carriage return', input: { ...VALID, reason: 'HOSTILE-8 a\rb' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a reason with a vertical tab', input: { ...VALID, reason: 'HOSTILE-8 a\u000bb' }, status: 400, code: 'invalid_argument', field: 'reason' },
  { name: 'a lower-case currency', input: { ...VALID, currency: 'crd' }, status: 400, code: 'unknown_currency', field: 'currency' },
  { name: 'a unicode idempotency key', input: { ...VALID, idempotencyKey: 'ключ' }, status: 400, code: 'invalid_argument', field: 'idempotencyKey' },
  {
    name: 'an Idempotency-Key header of 201 characters',
    body: adjust(VALID),
    headers: { 'idempotency-key': 'k'.repeat(201) },
    status: 400,
    code: 'invalid_argument',
    field: 'idempotencyKey',
  },
  // Malformed requests.
  { name: 'malformed JSON', body: '{"query": "mutation {', status: 400, code: 'bad_request' },
  { name: 'a JSON array of operations (batching)', body: JSON.stringify([{ query: ADJUST, variables: { input: VALID } }]), status: 400, code: 'bad_request' },
  { name: 'variables that are not an object', body: JSON.stringify({ query: ADJUST, variables: '{"input":{}}' }), status: 400, code: 'bad_request' },
  { name: 'no query at all', body: JSON.stringify({ variables: { input: VALID } }), status: 400, code: 'bad_request' },
  { name: 'a text/plain body (CSRF-able)', body: adjust(VALID), headers: { 'content-type': 'text/plain' }, status: 400, code: 'bad_request' },
  { name: 'a form body (CSRF-able)', body: 'query=mutation', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400, code: 'bad_request' },
  // Fastify refuses a Content-Type that is not a media type before any handler: answered from the catalogue.
  { name: 'a Content-Type listing two types', body: adjust(VALID), headers: { 'content-type': 'application/json, text/plain' }, status: 400, code: 'bad_request' },
  { name: 'a Content-Type with a space in the type', body: adjust(VALID), headers: { 'content-type': 'application/ json' }, status: 400, code: 'bad_request' },
  { name: 'a body over 64 KiB', body: adjust({ ...VALID, reason: 'x'.repeat(70_000) }), status: 413, code: 'payload_too_large' },
  {
    name: 'a mutation over GET',
    method: 'GET',
    url: `?query=${encodeURIComponent('mutation { adjustCredits(input: { userId: "user_2abcXYZ", amount: 1, reason: "GET-1" }) { balance } }')}`,
    headers: { 'apollo-require-preflight': 'true' },
    status: 400,
    code: 'bad_request',
  },
  { name: 'a subscription over HTTP', body: JSON.stringify({ query: 'subscription { usageChanged { id } }' }), status: 400, code: 'bad_request' },
  // Documents.
  { name: 'a syntax error', body: JSON.stringify({ query: 'mutation { adjustCredits(' }), status: 400, code: 'invalid_query' },
  { name: 'an unknown field', body: JSON.stringify({ query: '{ ledger { secrets } }' }), status: 400, code: 'invalid_query' },
  { name: 'an unknown operation name', body: JSON.stringify({ query: ADJUST, operationName: 'Other', variables: { input: VALID } }), status: 400, code: 'invalid_query' },
  { name: 'a query nested 30 deep', body: JSON.stringify({ query: nest(30) }), status: 400, code: 'query_too_deep' },
  {
    name: '41 aliases',
    body: JSON.stringify({ query: `{ ${Array.from({ length: 41 }, (_, i) => `c${i}: currencies { code }`).join(' ')} }` }),
    status: 400,
    code: 'query_too_complex',
  },
  { name: 'a document of more than 2,000 tokens', body: JSON.stringify({ query: `{ currencies { ${'code '.repeat(2100)}} }` }), status: 400, code: 'query_too_complex' },
  // Authentication.
  { name: 'introspection without a bearer', body: JSON.stringify({ query: getIntrospectionQuery() }), headers: { authorization: '' }, status: 401, code: 'missing_bearer' },
  { name: 'a mutation with a 10 KB bearer', body: adjust(VALID), headers: { authorization: `Bearer ${'x'.repeat(10_000)}` }, status: 403, code: 'invalid_admin_secret' },
  {
    name: 'a mutation with a Basic credential',
    body: adjust(VALID),
    headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}` },
    status: 401,
    code: 'missing_bearer',
  },
];

describe('hostile and malformed input', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;
  const sockets: TestWsClient[] = [];

  beforeAll(async () => {
    await emulator.listen();
    app = await startApp({ emulator });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((ws) => ws.dispose()));
    // Whatever was thrown at it, nothing reached the ledger.
    expect(emulator.transactions).toHaveLength(0);
    expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(250);
    expect(emulator.balanceOf('user_demo_rich', 'CRD')).toBe(100_000);
    await app.close();
    await emulator.close();
  });

  it('has at least 30 cases', () => expect(CASES.length).toBeGreaterThanOrEqual(30));

  it.each(CASES)('$name → $status $code', async ({ body, input, query, headers, method = 'POST', url = '', status, code, field }) => {
    const request = (method === 'GET' ? app.http.get(`/graphql${url}`) : app.http.post(`/graphql${url}`)).set({
      'content-type': 'application/json',
      authorization: `Bearer ${ADMIN_SECRET}`,
      ...headers,
    });
    const response = method === 'GET' ? await request : await request.send(body ?? (query ? JSON.stringify({ query }) : adjust(input ?? VALID)));
    const text = response.text;
    let payload: { errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
    try {
      payload = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    expect([response.status, payload.errors?.[0]?.extensions?.code]).toEqual([status, code]);
    expect(payload.errors?.[0]?.extensions?.status).toBe(status);
    if (field) expect(payload.errors?.[0]?.extensions?.field).toBe(field);
    expect(text).not.toMatch(/stacktrace|originalError|at \w+ \(|node_modules/);
    expect(emulator.transactions).toHaveLength(0);
  });

  it('still lets an admin run the full standard introspection query', async () => {
    const response = await app.client.query(getIntrospectionQuery());
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
  });

  it('closes a subscription attempt without a credential with 4401', async () => {
    const ws = connectWs(app.url);
    expect(await ws.closed).toEqual({ code: 4401, reason: 'missing_bearer' });
  });

  it('holds subscriptions over graphql-ws to the same document limits', async () => {
    const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    await ws.connected;
    const failed = new Promise<unknown>((resolve) =>
      ws.client.subscribe({ query: `subscription { usageChanged { ${'id '.repeat(2100)}} }` }, { next: () => undefined, error: resolve, complete: () => undefined }),
    );
    const [error] = (await failed) as Array<{ message: string; extensions: Record<string, unknown> }>;
    expect(error.message).toMatch(/^query_too_complex: Document contains more tha[nt] 2000 tokens/);
    expect(error.extensions).toEqual({ code: 'query_too_complex', status: 400 });
    // Only that subscription failed: the connection serves the next one.
    const next = new Promise<unknown>((resolve) => ws.client.subscribe({ query: '{ __typename }' }, { next: resolve, error: resolve, complete: () => undefined }));
    expect(await next).toEqual({ data: { __typename: 'Query' } });
    await ws.dispose();
  });

  it.each(['...', '%2e%2e', './user_demo_rich', '..\\user_demo_rich', 'a/../../..', 'user?x=1#frag', '\u2024\u2024'])(
    'sends the userId %j to RevenueCat as one customer id on the balances path',
    async (userId) => {
      const before = emulator.requests.length;
      const response = await app.http
        .post('/graphql')
        .set({ 'content-type': 'application/json', authorization: `Bearer ${ADMIN_SECRET}` })
        .send(balances(userId));
      expect((response.body as { errors?: Array<{ extensions?: Record<string, unknown> }> }).errors?.[0]?.extensions?.code).toBe('rc_customer_not_found');
      expect(emulator.requests.slice(before).map((request) => [request.endpoint, request.customerId])).toEqual([['list_balances', userId]]);
    },
  );

  it.each([
    ['"."', '.'],
    ['".."', '..'],
    ['a lone surrogate', 'user_\ud800'],
  ])('refuses a usageChanged subscription for a userId of %s', async (_name, userId) => {
    const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    // Disposed by afterAll too: an accepted subscription would stay open, and the app would not close.
    sockets.push(ws);
    await ws.connected;
    const failed = new Promise<unknown>((resolve) =>
      ws.client.subscribe(
        { query: 'subscription S($userId: ID) { usageChanged(userId: $userId) { id } }', variables: { userId } },
        { next: resolve, error: resolve, complete: () => resolve('completed') },
      ),
    );
    // graphql-ws delivers a failed subscribe as a result carrying errors.
    const result = (await failed) as { errors?: Array<{ extensions: Record<string, unknown> }> };
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'invalid_argument', status: 400, field: 'userId' });
    await ws.dispose();
  });

  it('closes a connection that sends an oversized message with 1009', async () => {
    const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    await ws.connected;
    ws.client.subscribe(
      { query: `subscription { usageChanged(userId: "${'u'.repeat(20_000)}") { id } }` },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    expect((await ws.closed).code).toBe(1009);
  });
});

/** Raw HTTP over one socket: what a client that is not a browser or fetch can send. */
function rawSocket(url: string): { socket: Socket; received: Promise<string>; closedWithin: (ms: number) => Promise<boolean> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const received = new Promise<string>((resolve) => {
    const check = () => (/\r\n\r\n/.test(text) ? resolve(text) : socket.once('data', check));
    socket.once('data', check);
  });
  const closedWithin = (ms: number) => Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
  return { socket, received, closedWithin };
}

function statusAndBody(response: string): { status: number; code: unknown; requestId: unknown; headers: string } {
  const [head, body] = response.split('\r\n\r\n');
  const json = JSON.parse(body.trim() || '{}') as { errors?: Array<{ extensions?: Record<string, unknown> }> };
  return { status: Number(head.split(' ')[1]), code: json.errors?.[0]?.extensions?.code, requestId: json.errors?.[0]?.extensions?.requestId, headers: head.toLowerCase() };
}

describe('requests only a raw client sends', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;
  /** The one grant meant to apply here (the pipelined one); nothing else reaches the ledger. */
  let granted = 0;

  beforeAll(async () => {
    await emulator.listen();
    app = await startApp({ emulator });
  });
  afterAll(async () => {
    expect(emulator.transactions).toHaveLength(granted);
    await app.close();
    await emulator.close();
  });

  const body = JSON.stringify({ query: 'mutation { adjustCredits(input: { userId: "user_2abcXYZ", amount: 5, reason: "x", idempotencyKey: "raw-host" }) { balance } }' });
  it.each([
    ['an HTTP/1.0 request without Host', 'HTTP/1.0', undefined],
    ['an empty Host', 'HTTP/1.1', ''],
    ['a Host with a space', 'HTTP/1.1', 'a b'],
    ['a Host with an open IPv6 bracket', 'HTTP/1.1', '[::1'],
    ['a Host of %', 'HTTP/1.1', '%'],
    ['a Host whose userinfo hides an empty host name', 'HTTP/1.1', ':80@x'],
    ['a Host of [@x', 'HTTP/1.1', '[@x'],
  ])('answers %s with 400 bad_request and its request id, never 500, and applies nothing', async (_name, version, host) => {
    const { socket, received } = rawSocket(app.url);
    const hostLine = host === undefined ? '' : `Host: ${host}\r\n`;
    socket.write(
      `POST /graphql ${version}\r\n${hostLine}Authorization: Bearer ${ADMIN_SECRET}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    await new Promise((resolve) => socket.once('close', resolve));
    const answer = statusAndBody(await received);
    expect([answer.status, answer.code, typeof answer.requestId]).toEqual([400, 'bad_request', 'string']);
    expect(emulator.requests.filter((request) => request.endpoint === 'create_transaction')).toHaveLength(0);
  });

  // Refused by Node's HTTP parser before any handler: answered from the catalogue through the server's
  // clientError, with a request id in the body and in x-request-id, and the connection closed.
  it.each([
    ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n', 400, 'bad_request'],
    [
      'a control character in a header value',
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_SECRET}\r\nX-On-Behalf-Of: a\u0001b\r\n\r\n`,
      400,
      'bad_request',
    ],
    ['a method that is not a token', 'G(T /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n', 400, 'bad_request'],
    ['a version that is not HTTP', 'GET /healthz HTTX/1.1\r\nHost: localhost\r\n\r\n', 400, 'bad_request'],
    [
      'both Content-Length and chunked (request smuggling)',
      'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'bad_request',
    ],
    ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'x'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
  ])('answers %s from the catalogue with a request id, and goes on serving', async (_name, request, status, code) => {
    const refusedBefore = (await metric(app, 'credits_http_requests_refused_total', { code })) ?? 0;
    const { socket, received, closedWithin } = rawSocket(app.url);
    socket.write(request);
    expect(await closedWithin(3_000)).toBe(true);
    const answer = statusAndBody(await received);
    expect([answer.status, answer.code]).toEqual([status, code]);
    expect(answer.requestId).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(answer.headers).toContain(`x-request-id: ${answer.requestId}`);
    expect(answer.headers).toContain('content-type: application/json; charset=utf-8');
    expect(answer.headers).toContain('connection: close');
    expect(await metric(app, 'credits_http_requests_refused_total', { code })).toBe(refusedBefore + 1);
    expect((await app.http.get('/healthz')).status).toBe(200);
  });

  it('answers the Sandbox page with a bad Host with 400, not 500', async () => {
    const { socket, received } = rawSocket(app.url);
    socket.write('GET /graphql HTTP/1.1\r\nHost: a b\r\nAccept: text/html\r\nConnection: close\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(statusAndBody(await received).status).toBe(400);
  });

  it('refuses an unauthenticated request whose body is still arriving and does not keep its connection', async () => {
    const { socket, received, closedWithin } = rawSocket(app.url);
    // A gigabyte announced, one byte sent: Node's 5 s keep-alive bound ends it, as it did on Express.
    socket.write(`POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{`);
    const answer = statusAndBody(await received);
    expect([answer.status, answer.code]).toEqual([401, 'missing_bearer']);
    expect(await closedWithin(8_000)).toBe(true);
  }, 15_000);

  const grant = (key: string) =>
    JSON.stringify({
      query: `mutation { adjustCredits(input: { userId: "user_demo_rich", amount: 7, reason: "pipelined", idempotencyKey: "${key}" }) { balance replayed } }`,
    });
  const post = (payload: string, authorized: boolean) =>
    `POST /graphql HTTP/1.1\r\nHost: localhost\r\n${authorized ? `Authorization: Bearer ${ADMIN_SECRET}\r\n` : ''}Content-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`;

  it('answers a request pipelined behind a refused one on the same connection', async () => {
    const { socket } = rawSocket(app.url);
    const key = `pipelined-${Date.now()}`;
    let text = '';
    socket.on('data', (chunk: string) => (text += chunk));
    socket.write(post(grant(`${key}-refused`), false) + post(grant(key), true));
    const answered = () => (text.match(/HTTP\/1\.1 /g) ?? []).length === 2 && /"replayed":false\}\}\}/.test(text);
    for (let waited = 0; waited < 5_000 && !answered(); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    expect(text.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 401', 'HTTP/1.1 200']);
    expect(text).toContain('{"data":{"adjustCredits":{"balance":100007,"replayed":false}}}');
    expect(emulator.balanceOf('user_demo_rich', 'CRD')).toBe(100_007);
    granted += 1;
  });

  it('answers a mutation pipelined before a malformed request first, then refuses the malformed one', async () => {
    const { socket, closedWithin } = rawSocket(app.url);
    let text = '';
    socket.on('data', (chunk: string) => (text += chunk));
    // Node's own handler (and Fastify's) would answer 400 in the grant's place while the grant applies.
    socket.write(post(grant(`before-garbage-${Date.now()}`), true) + 'GET /healthz HTTP/1.1\r\nNo colon here\r\n\r\n');
    expect(await closedWithin(5_000)).toBe(true);
    expect(text.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 400']);
    expect(text).toContain('{"data":{"adjustCredits":{"balance":100014,"replayed":false}}}');
    expect(text).toMatch(/"code":"bad_request"/);
    granted += 1;
  });

  it('runs nothing pipelined behind a request it refuses and closes (too large)', async () => {
    const { socket, closedWithin } = rawSocket(app.url);
    const tooLarge = JSON.stringify({ query: `{ currencies { code } }`, padding: 'x'.repeat(70_000) });
    const before = emulator.requests.filter((request) => request.endpoint === 'create_transaction').length;
    socket.write(post(tooLarge, true) + post(grant(`behind-413-${Date.now()}`), true));
    expect(await closedWithin(3_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(emulator.requests.filter((request) => request.endpoint === 'create_transaction').length).toBe(before);
  });

  it('survives a WebSocket upgrade whose target is not a URL, and goes on serving', async () => {
    const { socket, closedWithin } = rawSocket(app.url);
    socket.write(
      'GET //[ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(await closedWithin(2_000)).toBe(true);
    expect((await app.http.get('/healthz')).status).toBe(200);
  });

  it('closes each connection once its answer is sent after shutdown has begun, so closing the server waits on none', async () => {
    const draining = await startApp({ emulator });
    try {
      draining.app.get(Lifecycle).startDraining();
      const { socket, received, closedWithin } = rawSocket(draining.url);
      socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(await received).toMatch(/^HTTP\/1\.1 200/);
      // Closed as soon as its answer is sent, not after the 5 s keep-alive.
      expect(await closedWithin(1_000)).toBe(true);
    } finally {
      await draining.close();
    }
  });

  it("closes an idle kept-alive connection after 5 s, as Node does (not Fastify's 72 s)", async () => {
    const { socket, received, closedWithin } = rawSocket(app.url);
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const answer = await received;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer.toLowerCase()).toContain('keep-alive: timeout=5');
    expect(await closedWithin(7_000)).toBe(true);
  }, 15_000);
});
