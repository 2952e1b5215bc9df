import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import request from 'supertest';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { BulkClient, START } from './helpers/bulk';
import { ensureBuilt, GatewayProcess, startGatewayProcess, tryParse } from './helpers/gateway-process';
import { GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { OtlpReceiver, type ExportedSpan } from './helpers/otlp-receiver';
import { useTestSchema } from './helpers/postgres';
import { describeWithRedis, redisDatabase } from './helpers/redis';
import { ADMIN_SECRET } from './helpers/test-app';
import { connectWs, subscribe, waitFor } from './helpers/ws-client';

const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 };
const USER_ID = 'user_2abcXYZ';
/** Bounds on traces that must not grow with a bulk job's size or running time, with room over what they hold. */
const START_TRACE_MAX_SPANS = 20;
const ITEM_TRACE_MAX_SPANS = 20;

/**
 * Tracing, in the built gateway (`node dist/main.js`, as the README runs it) exporting to an OTLP/HTTP
 * receiver of the test's own: jest's module registry would keep the instrumentations from patching.
 * Real PostgreSQL (a schema of its own), Redis (a database of its own) and the RevenueCat emulator.
 */
describeWithRedis('tracing (OpenTelemetry over OTLP/HTTP)', () => {
  const schema = useTestSchema('tracing');
  const emulator = new RevenueCatEmulator();
  const receiver = new OtlpReceiver();
  const gateways: GatewayProcess[] = [];
  let receiverUrl: string;
  let redisUrl: string;

  beforeAll(async () => {
    ensureBuilt();
    receiverUrl = await receiver.listen();
    await emulator.listen();
    redisUrl = (await redisDatabase()).url;
  }, 180_000);

  afterAll(async () => {
    for (const gateway of gateways) gateway.kill('SIGKILL');
    await Promise.all(gateways.map((gateway) => gateway.exited));
    await receiver.close();
    await emulator.close();
  });

  beforeEach(() => {
    receiver.exports.length = 0;
    emulator.requests.length = 0;
  });

  async function start(env: Record<string, string>): Promise<GatewayProcess> {
    const gateway = await startGatewayProcess(
      {
        ADMIN_SECRET,
        REVENUECAT_API_KEY: emulator.apiKey,
        REVENUECAT_PROJECT_ID: emulator.projectId,
        REVENUECAT_API_URL: emulator.baseUrl,
        DATABASE_SCHEMA: schema.name,
        REDIS_URL: redisUrl,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
        ...env,
      },
      60_000,
      { built: true },
    );
    gateways.push(gateway);
    return gateway;
  }

  async function stop(gateway: GatewayProcess): Promise<void> {
    gateway.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  }

  /** One adjustment whose document holds the reason inline (and in a comment); the key and amount go as variables. */
  function adjust(gateway: GatewayProcess, reason: string, key: string, amount: number, headers: Record<string, string> = {}): Promise<GraphQLResponse> {
    const client = new GraphQLClient(`${gateway.url}/graphql?access_token=QUERY-STRING-SECRET`, ADMIN_SECRET);
    return client.query(
      `# ${reason}\nmutation Grant($key: String, $amount: Int!) { adjustCredits(input: { userId: "${USER_ID}", amount: $amount, reason: "${reason}", idempotencyKey: $key }) { balance } }`,
      { key, amount },
      { headers },
    );
  }

  it('exports one trace per operation: server, GraphQL operation, RevenueCat, PostgreSQL and Redis spans, and nothing private', async () => {
    const gateway = await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' });
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const reason = `TRACE-REASON-${randomUUID()}`;
    const key = `trace-key-${randomUUID()}`;
    const amount = 31337;
    // A graphql-ws subscriber meanwhile: it works as usual, and makes no trace of its own.
    const ws = connectWs(gateway.url, `Bearer ${ADMIN_SECRET}`);
    const usage = subscribe<{ usageChanged: { delta: number } }>(ws, `subscription { usageChanged(userId: "${USER_ID}") { delta } }`);
    await ws.connected;

    const response = await adjust(gateway, reason, key, amount, { traceparent: `00-${traceId}-${callerSpanId}-01` });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toEqual(expect.any(String));
    expect(await usage.next(5000)).toEqual({ usageChanged: { delta: amount } });
    await ws.dispose();

    // A literal that validation refuses is quoted by graphql-js in its error: the export must not carry it.
    const refusedLiteral = `REFUSED-LITERAL-${randomUUID()}`;
    const refused = await new GraphQLClient(`${gateway.url}/graphql`, ADMIN_SECRET).query(
      `mutation { adjustCredits(input: { userId: "${USER_ID}", amount: "${refusedLiteral}", reason: "x", idempotencyKey: "y" }) { balance } }`,
    );
    expect(JSON.stringify(refused.body.errors)).toContain(refusedLiteral);

    const spansOf = () => receiver.spans().filter((span) => span.traceId === traceId);
    const serverSpan = () => spansOf().find((span) => span.kind === SPAN_KIND.SERVER);
    await waitFor(() => serverSpan() !== undefined && receiver.spans().filter((span) => span.kind === SPAN_KIND.SERVER).length >= 2, 10_000, 'both server spans');
    const spans = spansOf();
    const byId = new Map(spans.map((span) => [span.spanId, span]));

    // The caller's trace goes on: the server span's parent is the caller's span.
    const server = serverSpan()!;
    expect(server).toMatchObject({ scope: '@fastify/otel', name: 'POST /graphql', parentSpanId: callerSpanId, serviceName: 'credits-admin-gateway' });
    expect(server.attributes).toMatchObject({ 'http.request.id': requestId, 'url.path': '/graphql', 'http.request.method': 'POST', 'http.response.status_code': 200 });

    const operation = spans.filter((span) => span.scope === '@opentelemetry/instrumentation-graphql' && span.attributes['graphql.operation.type'] !== undefined);
    expect(operation.map((span) => [span.name, span.attributes['graphql.operation.type'], span.attributes['graphql.operation.name']])).toEqual([
      ['mutation Grant', 'mutation', 'Grant'],
    ]);
    // Below the server span, and no span per field.
    const ancestors = (span: ExportedSpan): string[] => (byId.has(span.parentSpanId) ? [span.parentSpanId, ...ancestors(byId.get(span.parentSpanId)!)] : []);
    expect(ancestors(operation[0])).toContain(server.spanId);
    expect(spans.filter((span) => span.attributes['graphql.field.name'] !== undefined)).toEqual([]);
    // Every trace starts at a server span: not at start-up's introspection, nor at a subscription's event.
    expect(receiver.spans().filter((span) => span.parentSpanId === '' && span.kind !== SPAN_KIND.SERVER)).toEqual([]);
    expect(receiver.spans().filter((span) => span.attributes['graphql.operation.type'] === 'subscription')).toEqual([]);

    // RevenueCat: a client span per call, and RevenueCat received each one's traceparent.
    const clientSpans = spans.filter((span) => span.scope === '@opentelemetry/instrumentation-http');
    expect(clientSpans.length).toBeGreaterThanOrEqual(1);
    expect(clientSpans.every((span) => span.kind === SPAN_KIND.CLIENT)).toBe(true);
    const transaction = emulator.requests.find((request) => request.endpoint === 'create_transaction' && request.idempotencyKey !== undefined);
    expect(transaction?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const transactionSpanId = transaction!.traceparent!.split('-')[2];
    expect(clientSpans.find((span) => span.spanId === transactionSpanId)).toMatchObject({ name: 'POST', attributes: { 'http.response.status_code': 200 } });

    // PostgreSQL statements, parameterised: the key and the amount were bound, never written into the text.
    const statements = spans.filter((span) => span.scope === '@opentelemetry/instrumentation-pg' && span.attributes['db.query.text'] !== undefined);
    const insert = statements.find((span) => /^insert into "adjustments"/.test(String(span.attributes['db.query.text'])));
    expect(insert?.attributes['db.query.text']).toContain('$1');
    expect(insert?.kind).toBe(SPAN_KIND.CLIENT);

    // Redis commands, by name only.
    const commands = spans.filter((span) => span.scope === '@opentelemetry/instrumentation-ioredis');
    expect(commands.length).toBeGreaterThanOrEqual(1);
    for (const command of commands) expect(command.attributes['db.query.text']).toMatch(/^[a-z]+$/);

    // Nothing private anywhere in what was exported, nor the document's source.
    const exported = receiver.raw();
    for (const secret of [ADMIN_SECRET, emulator.apiKey, reason, key, refusedLiteral, 'QUERY-STRING-SECRET']) expect(exported).not.toContain(secret);
    expect(exported).not.toContain('graphql.source');
    // The process detector would export the command line, where a secret passed as an argument would be.
    expect(exported).not.toContain('process.command_args');
    const values = receiver
      .spans()
      .flatMap((span) => [span.name, span.status.message ?? '', ...Object.values(span.attributes), ...span.events.flatMap((event) => Object.values(event.attributes))]);
    expect(values.filter((value) => String(value).includes(String(amount)))).toEqual([]);

    // Log lines lead to the trace: the request's line to its server span, the audit line to the operation.
    const logged = gateway.output.map(tryParse).filter((line) => line?.requestId === requestId);
    expect(logged.find((line) => line?.msg === 'request completed')).toMatchObject({ trace_id: traceId, span_id: server.spanId });
    const audit = logged.find((line) => line?.event === 'credits.adjustment');
    expect(audit).toMatchObject({ trace_id: traceId });
    expect(byId.has(String(audit?.span_id))).toBe(true);

    await stop(gateway);
  }, 90_000);

  it('names a server span by its route, never by a path no route matched (one name per attacker-chosen path)', async () => {
    const gateway = await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', CONSOLE_DIR: join(__dirname, 'fixtures', 'console-dist') });
    const unrouted = `/no-such-path/${randomUUID()}`;
    expect((await request(gateway.url).get(unrouted)).status).toBe(404);
    expect((await request(gateway.url).get('/console/customers/user_1')).status).toBe(200);
    const server = () => receiver.spans().filter((span) => span.kind === SPAN_KIND.SERVER);
    await waitFor(() => server().length >= 2, 10_000, 'both server spans');
    expect(server().map((span) => [span.name, span.attributes['http.route']])).toEqual(
      expect.arrayContaining([
        ['GET', undefined],
        ['GET /console/*', '/console/*'],
      ]),
    );
    expect(receiver.spans().filter((span) => span.name.includes(unrouted))).toEqual([]);
    // The console's spans name its plugin, not the plugin function's source text.
    expect(receiver.raw()).not.toContain('addHook');
    await stop(gateway);
  }, 90_000);

  it('keeps a bulk job out of the trace of the request that started it: each item has a small trace of its own', async () => {
    const gateway = await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' });
    const client = new GraphQLClient(`${gateway.url}/graphql`, ADMIN_SECRET);
    const bulk = new BulkClient(client);
    const reason = `TRACE-BULK-REASON-${randomUUID()}`;
    const job = await bulk.create(reason);
    const items = [1, 2, 3, 4].map((n) => ({ userId: `user_trace_bulk_${n}_${randomBytes(4).toString('hex')}`, amount: n }));
    for (const item of items) emulator.addCustomer(item.userId, { CRD: 0 });
    await bulk.add(job.id, items);
    const startTraceId = randomBytes(16).toString('hex');
    const started = await client.query(START, { id: job.id }, { headers: { traceparent: `00-${startTraceId}-${randomBytes(8).toString('hex')}-01` } });
    expect(started.body.errors).toBeUndefined();
    expect((await bulk.waitFor(job.id, 'COMPLETED')).applied).toBe(items.length);
    // SIGTERM flushes every span the runner and the requests made.
    await stop(gateway);

    const spans = receiver.spans();
    const startTrace = spans.filter((span) => span.traceId === startTraceId);
    expect(startTrace.find((span) => span.kind === SPAN_KIND.SERVER)?.name).toBe('POST /graphql');
    // The mutation's own statements and commands only: no RevenueCat call, no item, none of the runner's polls.
    expect(startTrace.filter((span) => span.scope === '@opentelemetry/instrumentation-http')).toEqual([]);
    expect(startTrace.filter((span) => span.name === 'bulk item')).toEqual([]);
    expect(startTrace.length).toBeLessThanOrEqual(START_TRACE_MAX_SPANS);

    // One root `bulk item` span per item, each its own trace, holding that item's RevenueCat call.
    const itemSpans = spans.filter((span) => span.name === 'bulk item');
    expect(itemSpans).toHaveLength(items.length);
    expect(itemSpans.every((span) => span.parentSpanId === '' && span.attributes['bulk_adjustment.id'] === job.id)).toBe(true);
    expect(new Set(itemSpans.map((span) => span.traceId)).size).toBe(items.length);
    expect(new Set(itemSpans.map((span) => span.attributes['adjustment.id'])).size).toBe(items.length);
    const transactions = emulator.requests.filter((request) => request.endpoint === 'create_transaction' && request.idempotencyKey !== undefined);
    expect(transactions).toHaveLength(items.length);
    for (const transaction of transactions) {
      const [, traceId, spanId] = transaction.traceparent!.split('-');
      expect(itemSpans.map((span) => span.traceId)).toContain(traceId);
      expect(spans.find((span) => span.spanId === spanId)).toMatchObject({ traceId, kind: SPAN_KIND.CLIENT, scope: '@opentelemetry/instrumentation-http' });
    }
    // Each item's trace is small too: its statements, commands and call, not the job's.
    for (const item of itemSpans) expect(spans.filter((span) => span.traceId === item.traceId).length).toBeLessThanOrEqual(ITEM_TRACE_MAX_SPANS);
    expect(receiver.raw()).not.toContain(reason);
  }, 90_000);

  it('exports http/protobuf by default, and flushes what it holds on SIGTERM', async () => {
    // Batches every minute: only the flush at shutdown can export this trace in time.
    const gateway = await start({ OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_SERVICE_NAME: 'gateway-under-test' });
    const reason = `TRACE-REASON-${randomUUID()}`;
    const key = `trace-key-${randomUUID()}`;
    const response = await adjust(gateway, reason, key, 3);
    expect(response.status).toBe(200);
    expect(receiver.exports).toHaveLength(0);

    await stop(gateway);
    expect(receiver.exports.length).toBeGreaterThanOrEqual(1);
    expect(receiver.exports.every((received) => received.path === '/v1/traces' && received.contentType === 'application/x-protobuf')).toBe(true);
    // Protobuf keeps strings as UTF-8: the span names and service name are there as they are, the private values are not.
    const exported = receiver.raw();
    for (const expected of ['gateway-under-test', 'POST /graphql', 'mutation Grant', 'adjustments']) expect(exported).toContain(expected);
    for (const secret of [ADMIN_SECRET, emulator.apiKey, reason, key, 'QUERY-STRING-SECRET']) expect(exported).not.toContain(secret);
  }, 90_000);

  it('exports nothing, and logs no trace ids, with OTEL_SDK_DISABLED=true', async () => {
    const gateway = await start({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' });
    const response = await adjust(gateway, `TRACE-REASON-${randomUUID()}`, `trace-key-${randomUUID()}`, 2, {
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    // Everything a traced gateway would export has been exported once it has exited.
    await stop(gateway);
    expect(receiver.exports).toHaveLength(0);
    expect(emulator.requests.filter((request) => request.traceparent !== undefined)).toEqual([]);
    const line = gateway.output.map(tryParse).find((parsed) => parsed?.requestId === requestId && parsed?.msg === 'request completed');
    expect(line).toBeDefined();
    expect(line).not.toHaveProperty('trace_id');
  }, 90_000);
});
