import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { TestClerk } from './helpers/clerk';
import { GatewayProcess, startGatewayProcess, tryParse } from './helpers/gateway-process';
import { GraphQLClient } from './helpers/graphql-client';
import { describeWithRedis, redisDatabase } from './helpers/redis';
import { ADMIN_SECRET, useEmulatorApp } from './helpers/test-app';
import { connectWs, subscribe, waitFor } from './helpers/ws-client';

/** The real process: graceful shutdown under SIGTERM, and what ends up in its logs. */
describe('the gateway process', () => {
  const emulator = new RevenueCatEmulator();
  const clerk = new TestClerk();
  let gateway: GatewayProcess | undefined;

  beforeAll(() => emulator.listen());
  afterAll(async () => {
    gateway?.kill('SIGKILL');
    await emulator.close();
  });

  it('finishes an in-flight adjustment exactly once on SIGTERM, tells subscribers 1001, logs no secret, and exits 0', async () => {
    const clerkToken = clerk.sessionToken('user_2abcXYZ', 300);
    gateway = await startGatewayProcess({
      ADMIN_SECRET,
      REVENUECAT_API_KEY: emulator.apiKey,
      REVENUECAT_PROJECT_ID: emulator.projectId,
      REVENUECAT_API_URL: emulator.baseUrl,
      CLERK_JWT_KEY: clerk.publicKeyPem,
      SHUTDOWN_GRACE_SECONDS: '10',
    });
    const client = new GraphQLClient(`${gateway.url}/graphql`, ADMIN_SECRET);

    // A subscriber, and requests whose headers carry credentials that must never be logged.
    const ws = connectWs(gateway.url, `Bearer ${clerkToken}`);
    const usage = subscribe(ws, 'subscription { usageChanged { id delta balance } }');
    await ws.connected;
    await client.query('{ currencies { code } }', undefined, { headers: { 'x-api-key': 'secret-api-key-value', cookie: 'session=secret-cookie-value' } });
    await client.query('{ currencies { code } }', undefined, { token: 'wrong-secret-that-must-not-be-logged' });
    emulator.injectFault({ endpoint: 'list_balances', status: 503, count: 1, backoffMs: 5 });
    await client.query('{ balances(userId: "user_2abcXYZ") { balance } }');

    // An adjustment that RevenueCat takes 1.5 s to answer, and SIGTERM while it is in flight.
    emulator.injectFault({ endpoint: 'create_transaction', latencyMs: 1500 });
    const key = `shutdown-${randomUUID()}`;
    const inFlight = client.query<{ adjustCredits: { balance: number; replayed: boolean } }>(
      'mutation($key: String) { adjustCredits(input: { userId: "user_2abcXYZ", amount: 40, reason: "OPS-1 during deploy", idempotencyKey: $key }) { balance replayed } }',
      { key },
    );
    await waitFor(() => emulator.requests.some((request) => request.endpoint === 'create_transaction'), 5000, 'the adjustment to reach RevenueCat');
    gateway.kill('SIGTERM');

    await waitFor(
      async () => {
        try {
          const late = await client.query('{ currencies { code } }');
          return late.status === 503 && late.body.errors?.[0]?.extensions?.code === 'shutting_down';
        } catch {
          return true; // already refusing connections: just as good
        }
      },
      5000,
      'new work to be refused',
    );

    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect(finished.body.data?.adjustCredits).toEqual({ balance: 290, replayed: false });
    expect(await ws.closed).toEqual({ code: 1001, reason: 'Going away' });
    expect(await gateway.exited).toBe(0);
    expect(emulator.transactions).toHaveLength(1);
    expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(290);
    // Its event reached the subscriber before the 1001.
    expect(usage.events).toEqual([{ usageChanged: { id: expect.any(String), delta: 40, balance: 290 } }]);

    // The logs: JSON lines, request ids on request lines, and no credential anywhere.
    const lines = gateway.output;
    const text = lines.join('\n');
    for (const secret of [ADMIN_SECRET, emulator.apiKey, clerkToken, 'wrong-secret-that-must-not-be-logged', 'secret-api-key-value', 'secret-cookie-value']) {
      expect(text).not.toContain(secret);
    }
    const parsed = lines.map((line) => tryParse(line));
    expect(parsed.filter((entry) => entry === undefined)).toEqual([]);
    const requestLines = parsed.filter((entry) => entry?.req);
    expect(requestLines.length).toBeGreaterThanOrEqual(5);
    expect(requestLines.every((entry) => typeof entry!.requestId === 'string' && entry!.requestId === entry!.req.id)).toBe(true);
    const audit = parsed.find((entry) => entry?.event === 'credits.adjustment');
    expect(audit).toMatchObject({ outcome: 'applied', idempotencyKey: key, requestId: expect.any(String) });
    expect(parsed.some((entry) => /retry 1\/2/.test(entry?.msg ?? '') && typeof entry?.requestId === 'string')).toBe(true);
    expect(parsed.some((entry) => entry?.context === 'Shutdown' && entry?.msg === 'stopped')).toBe(true);
  }, 60_000);

  it('delivers the usage.changed of every adjustment in flight at SIGTERM to its subscribers before closing them with 1001', async () => {
    await sigtermWithEventsInFlight(emulator, clerk, {}, (started) => (gateway = started));
  }, 60_000);
});

describeWithRedis('the gateway process with Redis', () => {
  const emulator = new RevenueCatEmulator();
  const clerk = new TestClerk();
  let gateway: GatewayProcess | undefined;

  beforeAll(() => emulator.listen());
  afterAll(async () => {
    gateway?.kill('SIGKILL');
    await emulator.close();
  });

  it('delivers the usage.changed of every adjustment in flight at SIGTERM, through Redis, before closing subscribers with 1001', async () => {
    await sigtermWithEventsInFlight(emulator, clerk, { REDIS_URL: (await redisDatabase()).url }, (started) => (gateway = started));
  }, 60_000);
});

/**
 * N adjustments in flight (RevenueCat answers each after 1.5 s), a subscriber for the user and one for
 * every user, SIGTERM: N applied, N events received by each, then 1001 and exit 0.
 */
async function sigtermWithEventsInFlight(
  emulator: RevenueCatEmulator,
  clerk: TestClerk,
  env: Record<string, string>,
  started: (gateway: GatewayProcess) => void,
): Promise<void> {
  const N = 10;
  const userId = `user_sigterm_${randomUUID()}`;
  emulator.addCustomer(userId, { CRD: 1000 });
  const gateway = await startGatewayProcess({
    ADMIN_SECRET,
    REVENUECAT_API_KEY: emulator.apiKey,
    REVENUECAT_PROJECT_ID: emulator.projectId,
    REVENUECAT_API_URL: emulator.baseUrl,
    CLERK_JWT_KEY: clerk.publicKeyPem,
    SHUTDOWN_GRACE_SECONDS: '10',
    RATE_LIMIT_ADJUST_CREDITS_PER_MINUTE: '1000',
    ...env,
  });
  started(gateway);
  const client = new GraphQLClient(`${gateway.url}/graphql`, ADMIN_SECRET);
  // The user's own app, and an internal tool watching every user.
  const app = connectWs(gateway.url, `Bearer ${clerk.sessionToken(userId, 300)}`);
  const tool = connectWs(gateway.url, `Bearer ${ADMIN_SECRET}`);
  const own = subscribe<{ usageChanged: { delta: number; balance: number } }>(app, 'subscription { usageChanged { delta balance } }');
  const everyone = subscribe<{ usageChanged: { userId: string; delta: number } }>(tool, 'subscription { usageChanged { userId delta } }');
  await Promise.all([app.connected, tool.connected]);
  // A subscription is live once it has received an event: warm up until both have one (the subscribe
  // message may still be on its way when the connection is acknowledged). Warm-ups are 100 each.
  const WARM_UP = 100;
  const everyoneForUser = () => everyone.events.filter((event) => event.usageChanged.userId === userId);
  let warmUps = 0;
  await waitFor(
    async () => {
      if (own.events.length > 0 && everyoneForUser().length > 0) return true;
      warmUps += 1;
      await client.query(`mutation { adjustCredits(input: { userId: "${userId}", amount: ${WARM_UP}, reason: "OPS-11 warm-up" }) { balance } }`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return false;
    },
    10_000,
    'both subscriptions to receive a warm-up event',
  );
  const startBalance = 1000 + warmUps * WARM_UP;

  const transactionsBefore = emulator.transactions.length;
  emulator.injectFault({ endpoint: 'create_transaction', latencyMs: 1500, count: N });
  const inFlight = Array.from({ length: N }, (_, i) =>
    client.query<{ adjustCredits: { balance: number } }>(
      `mutation { adjustCredits(input: { userId: "${userId}", amount: ${i + 1}, reason: "OPS-11 in flight ${i}", idempotencyKey: "${randomUUID()}" }) { balance } }`,
    ),
  );
  await waitFor(() => emulator.count('create_transaction', userId) === N + warmUps, 5000, 'every adjustment to reach RevenueCat');
  gateway.kill('SIGTERM');

  const answers = await Promise.all(inFlight);
  expect(answers.map((answer) => answer.status)).toEqual(Array(N).fill(200));
  expect(emulator.transactions.length - transactionsBefore).toBe(N);
  const total = (N * (N + 1)) / 2;
  expect(emulator.balanceOf(userId, 'CRD')).toBe(startBalance + total);
  expect([await app.closed, await tool.closed]).toEqual([
    { code: 1001, reason: 'Going away' },
    { code: 1001, reason: 'Going away' },
  ]);
  expect(await gateway.exited).toBe(0);
  // Every applied adjustment's event reached both subscribers before they were told to go away.
  const deltas = (events: Array<{ usageChanged: { delta: number } }>) =>
    events
      .map((event) => event.usageChanged.delta)
      .filter((delta) => delta !== WARM_UP)
      .sort((a, b) => a - b);
  const expected = Array.from({ length: N }, (_, i) => i + 1);
  expect(deltas(own.events)).toEqual(expected);
  expect(deltas(everyoneForUser())).toEqual(expected);
  expect(Math.max(...own.events.map((event) => event.usageChanged.balance))).toBe(startBalance + total);
}

/** README "Operations": every response carrying an error has both, also the ones Apollo itself produces. */
describe('request ids on every error', () => {
  const ctx = useEmulatorApp();
  const json = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_SECRET}` };
  const get = { authorization: `Bearer ${ADMIN_SECRET}`, accept: 'application/json', 'apollo-require-preflight': 'true' };
  const query = (document: string) => `?query=${encodeURIComponent(document)}`;

  it.each([
    { name: 'a batched array', body: JSON.stringify([{ query: '{ currencies { code } }' }]), code: 'bad_request' },
    { name: 'an empty body', body: '', code: 'bad_request' },
    { name: 'a query that is not a string', body: JSON.stringify({ query: 42 }), code: 'bad_request' },
    { name: 'variables as a JSON string', body: JSON.stringify({ query: '{ currencies { code } }', variables: '{}' }), code: 'bad_request' },
    { name: 'a GET with a bad query', method: 'GET', url: query('{ currencies {'), headers: get, code: 'invalid_query' },
    { name: 'a GET with variables that are not JSON', method: 'GET', url: `${query('{ currencies { code } }')}&variables=nope`, headers: get, code: 'bad_request' },
    {
      name: 'a GET without a CSRF preflight header',
      method: 'GET',
      url: query('{ currencies { code } }'),
      headers: { authorization: get.authorization },
      code: 'bad_request',
    },
    { name: 'an unknown field (a validation error)', body: JSON.stringify({ query: '{ ledger }' }), code: 'invalid_query' },
  ])('$name: 400 $code with extensions.requestId equal to the x-request-id header', async ({ body, method = 'POST', url = '', headers = json, code }) => {
    const request = (method === 'GET' ? ctx.app.http.get(`/graphql${url}`) : ctx.app.http.post(`/graphql${url}`)).set(headers);
    const response = method === 'GET' ? await request : await request.send(body);
    const payload = response.body as { errors: Array<{ extensions: Record<string, unknown> }> };
    const requestId = response.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.status).toBe(400);
    expect(payload.errors.map((error) => [error.extensions.code, error.extensions.requestId])).toEqual([[code, requestId]]);
    expect(ctx.emulator.transactions).toHaveLength(0);
  });

  it("echoes the caller's own request id in both places", async () => {
    const response = await ctx.app.http
      .post('/graphql')
      .set({ ...json, 'x-request-id': 'ticket-4711.a' })
      .send('[]');
    const payload = response.body as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect([response.status, response.headers['x-request-id'], payload.errors[0].extensions.requestId]).toEqual([400, 'ticket-4711.a', 'ticket-4711.a']);
  });
});

interface RawExchange {
  /** Everything the server sent before it closed the connection. */
  text: string;
  status: number;
  headers: Record<string, string>;
  body: any;
}

/**
 * A raw HTTP/1.1 exchange: `head` is written at once, then `trickle` one byte every `everyMs` until the
 * server closes the connection. Resolves with what it answered; rejects when it has not closed within
 * `patienceMs` (a slow client would then hold the connection).
 */
function rawExchange(url: string, head: string, options: { trickle?: string; everyMs?: number; patienceMs: number }): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let sent = 0;
    const trickler = setInterval(() => {
      if (options.trickle && sent < options.trickle.length && socket.writable) socket.write(options.trickle[sent++]);
    }, options.everyMs ?? 100);
    const patience = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${options.patienceMs} ms; got: ${Buffer.concat(chunks).toString() || 'nothing'}`));
    }, options.patienceMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(trickler);
      clearTimeout(patience);
      const text = Buffer.concat(chunks).toString();
      const [headText, bodyText = ''] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = headText.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ text, status: Number(statusLine.split(' ')[1]), headers, body: tryParse(bodyText) });
    });
    socket.write(head);
  });
}

/** README "Hostile input": slow clients cannot hold the service. */
describe('slow request bodies', () => {
  const ctx = useEmulatorApp({ env: { REQUEST_BODY_TIMEOUT_SECONDS: '1' } });
  const ADJUST = JSON.stringify({ query: 'mutation { adjustCredits(input: { userId: "user_2abcXYZ", amount: 5, reason: "SLOW-1" }) { balance } }' });
  const head = (contentLength: number) =>
    `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: Bearer ${ADMIN_SECRET}\r\n` + `Content-Length: ${contentLength}\r\n\r\n`;

  it('answers a body that has not arrived within REQUEST_BODY_TIMEOUT_SECONDS with 408 request_timeout and closes the connection', async () => {
    const answer = await rawExchange(ctx.app.url, head(Buffer.byteLength(ADJUST)), { trickle: ADJUST, everyMs: 100, patienceMs: 8000 });
    expect(answer.status).toBe(408);
    expect(answer.headers.connection).toBe('close');
    expect(answer.body).toEqual({
      errors: [
        {
          message: 'request_timeout: the request body did not arrive within 1 s',
          extensions: { code: 'request_timeout', status: 408, requestId: answer.headers['x-request-id'] },
        },
      ],
    });
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx.emulator.transactions).toHaveLength(0);
  }, 15_000);

  it('answers a declared Content-Length over the limit with 413 at once, without waiting for the body, and closes the connection', async () => {
    const answer = await rawExchange(ctx.app.url, head(10_000_000), { patienceMs: 5000 });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(answer.body).toEqual({
      errors: [
        {
          message: 'payload_too_large: the request body is larger than 65536 bytes',
          extensions: { code: 'payload_too_large', status: 413, requestId: answer.headers['x-request-id'] },
        },
      ],
    });
    expect(ctx.emulator.transactions).toHaveLength(0);
  });

  it('still reads a body that arrives slowly but within the bound', async () => {
    const query = JSON.stringify({ query: '{ currencies { code } }' });
    const answer = await rawExchange(ctx.app.url, head(Buffer.byteLength(query)).replace('HTTP/1.1\r\n', 'HTTP/1.1\r\nConnection: close\r\n'), {
      trickle: query,
      everyMs: 1,
      patienceMs: 8000,
    });
    expect([answer.status, answer.body]).toEqual([200, { data: { currencies: [{ code: 'CRD' }] } }]);
  });
});
