import { Lifecycle } from '../src/lifecycle/lifecycle';
import { headersOf } from './helpers/graphql-client';
import { sample } from './helpers/metrics';
import { ADMIN_SECRET, startApp, TestApp, useEmulatorApp } from './helpers/test-app';
import { connectWs, subscribe, waitFor } from './helpers/ws-client';

async function get(app: TestApp, path: string): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const response = await app.http.get(path);
  const text = response.text;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, headers: headersOf(response) };
}

const REDIS_FALLBACK = 'rate limits counted per instance; realtime events reach this instance only';

describe('health probes', () => {
  const ctx = useEmulatorApp();
  const emulator = ctx.emulator;

  it('answers /healthz without authentication or dependencies', async () => {
    expect(await get(ctx.app, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('is ready when configured, and reports RevenueCat as last seen without calling it', async () => {
    const before = emulator.requests.length;
    const ready = await get(ctx.app, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.details).toMatchObject({
      lifecycle: { status: 'up' },
      config: { status: 'up' },
      redis: { status: 'up', mode: 'not configured: state is in-process' },
      database: { status: 'up', kind: 'postgres', answering: true },
      revenuecat: { status: 'up' },
    });
    expect(emulator.requests.length).toBe(before);
    expect(sample((await get(ctx.app, '/metrics')).text, 'credits_dependency_up', { dependency: 'database' })).toBe(1);
  });

  it('turns unready when the last RevenueCat call could not reach it, and ready again after one that did', async () => {
    emulator.injectFault({ endpoint: 'list_balances', status: 503, count: Infinity, backoffMs: 1 });
    await ctx.app.client.query('{ balances(userId: "user_2abcXYZ") { balance } }');
    const down = await get(ctx.app, '/readyz');
    expect(down.status).toBe(503);
    expect(down.body.error.revenuecat).toEqual({ status: 'down', lastSeenAt: expect.any(String), lastSeen: 'HTTP 503 from list_balances' });
    emulator.clearFaults();
    await ctx.app.client.query('{ balances(userId: "user_nobody") { balance } }');
    const up = await get(ctx.app, '/readyz');
    expect(up.status).toBe(200);
    expect(up.body.details.revenuecat).toMatchObject({ status: 'up', lastSeen: 'HTTP 404 from list_balances' });
  });

  it('is unready, naming only what is missing, when secrets are unset', async () => {
    const unconfigured = await startApp({ emulator, env: { ADMIN_SECRET: undefined, REVENUECAT_API_KEY: undefined } });
    try {
      const ready = await get(unconfigured, '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.error.config).toEqual({ status: 'down', missing: ['ADMIN_SECRET', 'REVENUECAT_API_KEY'] });
      expect(ready.text).not.toContain(emulator.projectId);
    } finally {
      await unconfigured.close();
    }
  });

  it('stays ready when the configured Redis does not answer, saying so in its body and a gauge, without showing its URL', async () => {
    const noRedis = await startApp({ emulator, env: { REDIS_URL: 'redis://:hunter2@127.0.0.1:1' } });
    try {
      const ready = await get(noRedis, '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.details.redis).toEqual({ status: 'up', answering: false, fallback: REDIS_FALLBACK });
      expect(ready.text).not.toContain('hunter2');
      expect(sample((await get(noRedis, '/metrics')).text, 'credits_dependency_up', { dependency: 'redis' })).toBe(0);
      expect((await get(noRedis, '/healthz')).status).toBe(200);
    } finally {
      await noRedis.close();
    }
  });

  it('is unready while draining for shutdown, and refuses new GraphQL work with 503 shutting_down', async () => {
    const draining = await startApp({ emulator });
    try {
      draining.app.get(Lifecycle).startDraining();
      expect((await get(draining, '/readyz')).body.error.lifecycle).toEqual({ status: 'down', message: 'shutting down' });
      const refused = await draining.client.query('{ currencies { code } }');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'shutting_down', status: 503 });
    } finally {
      await draining.close();
    }
  });
});

describe('GET /metrics', () => {
  const ctx = useEmulatorApp();
  const emulator = ctx.emulator;

  it('exports operations, upstream calls, idempotency and realtime figures in Prometheus format', async () => {
    const ws = connectWs(ctx.app.url, `Bearer ${ADMIN_SECRET}`);
    const usage = subscribe(ws, 'subscription { usageChanged(userId: "user_2abcXYZ") { id } }');
    await ws.connected;
    await ctx.app.client.query('{ balances(userId: "user_2abcXYZ") { balance } }');
    await ctx.app.client.query('{ balances(userId: "user_nobody") { balance } }');
    await ctx.app.client.query('{ currencies { code } }', undefined, { token: 'wrong' });
    emulator.injectFault({ endpoint: 'create_transaction', status: 503, backoffMs: 1 });
    const input = { userId: 'user_2abcXYZ', amount: 5, reason: 'MET-1 metrics', idempotencyKey: 'metrics-key-1' };
    const mutation = 'mutation($input: AdjustCreditsInput!) { adjustCredits(input: $input) { balance } }';
    await ctx.app.client.query(mutation, { input });
    await ctx.app.client.query(mutation, { input });
    await ctx.app.client.query(mutation, { input: { ...input, amount: 6 } });
    await usage.next();

    const { status, text, headers } = await get(ctx.app, '/metrics');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    expect(sample(text, 'credits_graphql_operations_total', { operation: 'balances', code: 'ok' })).toBe(1);
    expect(sample(text, 'credits_graphql_operations_total', { operation: 'balances', code: 'rc_customer_not_found' })).toBe(1);
    expect(sample(text, 'credits_graphql_operations_total', { operation: 'adjustCredits', code: 'ok' })).toBe(2);
    expect(sample(text, 'credits_graphql_operations_total', { operation: 'adjustCredits', code: 'idempotency_key_reused' })).toBe(1);
    expect(sample(text, 'credits_graphql_operation_duration_seconds_count', { operation: 'balances' })).toBe(2);
    expect(sample(text, 'credits_http_requests_refused_total', { code: 'invalid_admin_secret' })).toBe(1);
    expect(sample(text, 'credits_upstream_requests_total', { endpoint: 'create_transaction', outcome: '503' })).toBe(1);
    expect(sample(text, 'credits_upstream_requests_total', { endpoint: 'create_transaction', outcome: '200' })).toBe(1);
    expect(sample(text, 'credits_upstream_request_duration_seconds_count', { endpoint: 'list_balances' })).toBe(2);
    expect(sample(text, 'credits_upstream_retries_total', { endpoint: 'create_transaction', type: 'server_error' })).toBe(1);
    expect(sample(text, 'credits_revenuecat_rate_limit_limit', { endpoint: 'create_transaction' })).toBe(480);
    expect(sample(text, 'credits_revenuecat_rate_limit_usage', { endpoint: 'create_transaction' })).toBe(2);
    expect(sample(text, 'credits_idempotency_replays_total')).toBe(1);
    expect(sample(text, 'credits_idempotency_conflicts_total', { kind: 'reused' })).toBe(1);
    expect(sample(text, 'credits_realtime_connections')).toBe(1);
    expect(sample(text, 'credits_realtime_subscriptions', { scope: 'user' })).toBe(1);
    expect(sample(text, 'credits_realtime_events_published_total')).toBe(1);
    expect(sample(text, 'credits_realtime_events_delivered_total')).toBe(1);
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(text).not.toContain(ADMIN_SECRET);
    expect(text).not.toContain(emulator.apiKey);

    await ws.dispose();
    await waitFor(async () => sample((await get(ctx.app, '/metrics')).text, 'credits_realtime_connections') === 0, 3000, 'the connection gauge to drop');
  });
});
