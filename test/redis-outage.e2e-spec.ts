import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Clock } from '../src/common/clock';
import { ManualClock, randomMinute } from '../src/common/testing/manual-clock';
import { RATE_LIMIT_KEY_PREFIX } from '../src/rate-limit/fixed-window.storage';
import { usageChannelPrefix } from '../src/realtime/redis-usage-event.bus';
import { SubscriberRegistry } from '../src/realtime/subscriber-registry';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { errorCode, GraphQLResponse } from './helpers/graphql-client';
import { metric } from './helpers/metrics';
import { describeWithRedis, RedisProxy, redisClient, redisDatabase, startRedisProxy } from './helpers/redis';
import { ADMIN_SECRET, startApp, startTwoInstancesOnRedis, TestApp, TwoInstances } from './helpers/test-app';
import { connectWs, subscribe, TestWsClient, waitFor } from './helpers/ws-client';

// Nothing listens on port 1: a Redis that is down from the start.
const DEAD_REDIS_URL = 'redis://127.0.0.1:1';
const USAGE = `subscription Usage($userId: ID) { usageChanged(userId: $userId) { userId delta balance } }`;
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { balance replayed } }`;
const BALANCES = `query Balances($userId: ID!) { balances(userId: $userId) { balance } }`;

type Usage = { usageChanged: { userId: string; delta: number; balance: number } };

function adjust(app: TestApp, input: Record<string, unknown>): Promise<GraphQLResponse<{ adjustCredits: { balance: number; replayed: boolean } | null }>> {
  return app.client.query(ADJUST, { input });
}

function listeners(app: TestApp): number {
  return app.app.get(SubscriberRegistry).size.listeners;
}

function redisUp(app: TestApp): Promise<number | undefined> {
  return metric(app, 'credits_dependency_up', { dependency: 'redis' });
}

const settle = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

/** Warnings logged through Nest's Logger that match `pattern`, since the spy was installed. */
function warnings(spy: jest.SpyInstance, pattern: RegExp): string[] {
  return spy.mock.calls.map(([message]) => String(message)).filter((message) => pattern.test(message));
}

describe('Redis down from the start', () => {
  const emulator = new RevenueCatEmulator();
  const clock = new ManualClock(randomMinute());
  const clients: TestWsClient[] = [];
  let app: TestApp;
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn');
    await emulator.listen();
    app = await startApp({
      emulator,
      env: { REDIS_URL: DEAD_REDIS_URL, RATE_LIMIT_BALANCES_PER_MINUTE: '3' },
      override: (builder) => builder.overrideProvider(Clock).useValue(clock),
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((ws) => ws.dispose()));
    await app?.close();
    await emulator.close();
    warn.mockRestore();
  });
  beforeEach(() => emulator.reset());

  it('serves currencies, balances and a keyless adjustment, counting rate limits on this instance, and says so once', async () => {
    expect((await app.client.query('{ currencies { code } }')).status).toBe(200);
    const balances = [];
    for (let i = 0; i < 4; i++) balances.push(await app.client.query(BALANCES, { userId: 'user_demo_rich' }));
    expect(balances.map((response) => response.status)).toEqual([200, 200, 200, 429]);
    expect(errorCode(balances[3])).toBe('rate_limited');
    const adjusted = await adjust(app, { userId: 'user_demo_rich', amount: 5, reason: 'OUT-1 keyless' });
    expect(adjusted.status).toBe(200);
    expect(adjusted.body.data?.adjustCredits).toEqual({ balance: 100_005, replayed: false });
    expect(emulator.transactions).toHaveLength(1);

    expect(await metric(app, 'credits_rate_limit_fallback')).toBe(1);
    expect(await redisUp(app)).toBe(0);
    expect(warnings(warn, /^rate limits: Redis does not answer/)).toHaveLength(1);
  });

  it('applies a keyed adjustment exactly once: its record is in the journal, not in Redis', async () => {
    const input = { userId: 'user_demo_rich', amount: 5, reason: 'OUT-2 keyed', idempotencyKey: `out-${randomUUID()}` };
    const before = emulator.transactions.length;
    const applied = await adjust(app, input);
    expect(applied.status).toBe(200);
    const replayed = await adjust(app, input);
    expect(replayed.body.data?.adjustCredits).toEqual({ balance: applied.body.data!.adjustCredits!.balance, replayed: true });
    expect(emulator.transactions).toHaveLength(before + 1);
  });

  it("accepts a new subscription at once and hands it this instance's events", async () => {
    const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    clients.push(ws);
    const usage = subscribe<Usage>(ws, USAGE, { userId: 'user_demo_rich' });
    const everyone = subscribe<Usage>(ws, USAGE);
    await waitFor(() => listeners(app) === 2, 2000, 'both subscriptions to be accepted');
    expect((await adjust(app, { userId: 'user_demo_rich', amount: 7, reason: 'OUT-3 event' })).status).toBe(200);
    expect((await usage.next(2000)).usageChanged).toEqual({ userId: 'user_demo_rich', delta: 7, balance: 100_007 });
    expect((await everyone.next(2000)).usageChanged).toEqual({ userId: 'user_demo_rich', delta: 7, balance: 100_007 });
    await settle();
    expect(usage.errors).toEqual([]);
    expect(everyone.errors).toEqual([]);
    expect(usage.events).toHaveLength(1);
    expect(everyone.events).toHaveLength(1);
  });
});

describeWithRedis('a Redis outage and its end, through a proxy, with two instances', () => {
  const emulator = new RevenueCatEmulator();
  const clock = new ManualClock(randomMinute());
  const runId = randomUUID().slice(0, 8);
  const clients: TestWsClient[] = [];
  const keys: string[] = [];
  let proxy: RedisProxy;
  let instances: TwoInstances | undefined;
  let writer: TestApp;
  let reader: TestApp;
  let redis: Redis;
  let warn: jest.SpyInstance;

  function connect(app: TestApp): TestWsClient {
    const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    clients.push(ws);
    return ws;
  }

  function key(): string {
    const idempotencyKey = `out-${runId}-${keys.length}`;
    keys.push(idempotencyKey);
    return idempotencyKey;
  }

  async function redisChannels(): Promise<number> {
    return ((await redis.pubsub('CHANNELS', `${usageChannelPrefix((await redisDatabase()).index)}${runId}*`)) as string[]).length;
  }

  beforeAll(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn');
    redis = await redisClient();
    proxy = await startRedisProxy();
    await emulator.listen();
    instances = await startTwoInstancesOnRedis({
      emulator,
      env: { REDIS_URL: proxy.url, RATE_LIMIT_BALANCES_PER_MINUTE: '4' },
      override: (builder) => builder.overrideProvider(Clock).useValue(clock),
    });
    ({ first: writer, second: reader } = instances);
  });
  afterAll(async () => {
    await Promise.all(clients.map((ws) => ws.dispose()));
    await instances?.close();
    await proxy?.close();
    await emulator.close();
    const window = Math.floor(clock.now() / 60_000);
    const stale = [...(await redis.keys(`${RATE_LIMIT_KEY_PREFIX}*:${window - 1}`)), ...(await redis.keys(`${RATE_LIMIT_KEY_PREFIX}*:${window}`))];
    if (stale.length > 0) await redis.del(...stale);
    await redis.quit();
    warn.mockRestore();
  });

  it('keeps serving through the outage and returns to shared counters, records and events when Redis is back, without a restart', async () => {
    const [alice, bob] = [`${runId}_alice`, `${runId}_bob`];
    emulator.addCustomer(alice, { CRD: 100 });
    emulator.addCustomer(bob, { CRD: 100 });

    // Before: cross-instance delivery works.
    const aliceBefore = subscribe<Usage>(connect(reader), USAGE, { userId: alice });
    await waitFor(() => listeners(reader) === 1);
    await waitFor(async () => (await redisChannels()) === 1, 3000, 'the Redis subscription');
    await adjust(writer, { userId: alice, amount: 1, reason: 'OUT-10 before' });
    expect((await aliceBefore.next()).usageChanged).toEqual({ userId: alice, delta: 1, balance: 101 });

    proxy.cut();
    await waitFor(async () => (await redisUp(writer)) === 0 && (await redisUp(reader)) === 0, 5000, 'both instances to see Redis gone');

    // During: reads and adjustments work; a keyed adjustment applies once across both instances, since
    // its exactly-once record is in the shared database (another user, so the balances below stay put).
    const transactions = emulator.transactions.length;
    expect((await writer.client.query(BALANCES, { userId: alice })).status).toBe(200);
    const dave = `${runId}_dave`;
    emulator.addCustomer(dave, { CRD: 100 });
    const during = { userId: dave, amount: 50, reason: 'OUT-11 keyed', idempotencyKey: key() };
    expect((await adjust(writer, during)).body.data?.adjustCredits).toEqual({ balance: 150, replayed: false });
    expect((await adjust(reader, during)).body.data?.adjustCredits).toEqual({ balance: 150, replayed: true });
    expect(emulator.transactions).toHaveLength(transactions + 1);

    // New subscriptions are accepted at once and get this instance's events.
    const bobDuring = subscribe<Usage>(connect(reader), USAGE, { userId: bob });
    const everyoneDuring = subscribe<Usage>(connect(reader), USAGE);
    await waitFor(() => listeners(reader) === 3, 2000, 'the new subscriptions to be accepted');
    expect((await adjust(reader, { userId: bob, amount: 2, reason: 'OUT-12 local' })).status).toBe(200);
    expect((await bobDuring.next(2000)).usageChanged).toEqual({ userId: bob, delta: 2, balance: 102 });
    expect((await everyoneDuring.next(2000)).usageChanged).toEqual({ userId: bob, delta: 2, balance: 102 });
    expect(await metric(reader, 'credits_rate_limit_fallback')).toBe(1);

    proxy.restore();
    await waitFor(async () => (await redisUp(writer)) === 1 && (await redisUp(reader)) === 1, 10_000, 'both instances to see Redis back');
    await waitFor(async () => (await redisChannels()) === 2, 5000, "the reader's Redis subscriptions for both users");

    // After: events cross instances again, for subscriptions made before and during the outage, once each.
    await adjust(writer, { userId: alice, amount: 3, reason: 'OUT-13 after' });
    await adjust(writer, { userId: bob, amount: 4, reason: 'OUT-13 after' });
    expect((await aliceBefore.next()).usageChanged).toEqual({ userId: alice, delta: 3, balance: 104 });
    expect((await bobDuring.next()).usageChanged).toEqual({ userId: bob, delta: 4, balance: 106 });
    expect((await everyoneDuring.next()).usageChanged).toEqual({ userId: alice, delta: 3, balance: 104 });
    expect((await everyoneDuring.next()).usageChanged).toEqual({ userId: bob, delta: 4, balance: 106 });
    await settle();
    expect(aliceBefore.events).toHaveLength(2);
    expect(bobDuring.events).toHaveLength(2);
    expect(everyoneDuring.events).toHaveLength(3);

    // Idempotency records are shared again: a keyed adjustment on one instance replays on the other.
    const input = { userId: alice, amount: 10, reason: 'OUT-14 keyed after', idempotencyKey: key() };
    expect((await adjust(writer, input)).body.data?.adjustCredits).toEqual({ balance: 114, replayed: false });
    expect((await adjust(reader, input)).body.data?.adjustCredits).toEqual({ balance: 114, replayed: true });

    // Rate limits are shared again: in a fresh window, 4 balances over two instances, then both refuse.
    clock.advance(60_000);
    for (const app of [writer, reader, writer, reader]) expect((await app.client.query(BALANCES, { userId: alice })).status).toBe(200);
    expect(errorCode(await writer.client.query(BALANCES, { userId: alice }))).toBe('rate_limited');
    expect(errorCode(await reader.client.query(BALANCES, { userId: alice }))).toBe('rate_limited');
    expect(await metric(writer, 'credits_rate_limit_fallback')).toBe(0);
    expect(await metric(reader, 'credits_rate_limit_fallback')).toBe(0);

    // Each instance said once, not once per request, that it fell back.
    expect(warnings(warn, /^rate limits: Redis does not answer/)).toHaveLength(2);
  }, 60_000);

  it('does not wait on a Redis that stops answering without closing the connection, and recovers when it answers again', async () => {
    const userId = `${runId}_carol`;
    emulator.addCustomer(userId, { CRD: 100 });
    clock.advance(60_000);
    const input = { userId, amount: 5, reason: 'OUT-20 keyed', idempotencyKey: key() };
    proxy.pause();
    try {
      expect((await writer.client.query(BALANCES, { userId })).status).toBe(200);
      expect(await metric(writer, 'credits_rate_limit_fallback')).toBe(1);
      // The keyed adjustment needs no Redis: it applies at once, without waiting on the silent link.
      expect((await adjust(writer, input)).body.data?.adjustCredits).toEqual({ balance: 105, replayed: false });
      expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(1);
    } finally {
      proxy.restore();
    }
    expect((await adjust(reader, input)).body.data?.adjustCredits).toEqual({ balance: 105, replayed: true });
  }, 60_000);
});
