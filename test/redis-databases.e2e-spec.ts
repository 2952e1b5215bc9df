import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { PACING_KEY_PREFIX } from '../src/revenuecat/pacing/redis-pacing.store';
import { RATE_LIMIT_KEY_PREFIX } from '../src/rate-limit/fixed-window.storage';
import { describeWithRedis, leaseRedisDatabase, RedisDatabase, redisDatabase } from './helpers/redis';
import { ADMIN_SECRET, startApp, startTwoInstancesOnRedis, TestApp, TwoInstances } from './helpers/test-app';
import { connectWs, subscribe, TestSubscription, TestWsClient, waitFor } from './helpers/ws-client';

const ADJUST = 'mutation($input: AdjustCreditsInput!) { adjustCredits(input: $input) { balance } }';
const USAGE = 'subscription($userId: ID) { usageChanged(userId: $userId) { userId delta } }';
type Usage = { usageChanged: { userId: string; delta: number } };

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? testFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('Redis in the tests', () => {
  it('is never flushed whole, nor used at a fixed address, by any test file', () => {
    const wholeFlush = new RegExp(['flush', 'all'].join(''), 'i');
    const fixedAddress = /redis:\/\/127\.0\.0\.1:6379/;
    const offending = testFiles(__dirname)
      .filter((file) => !file.endsWith(join('helpers', 'redis.ts')))
      .filter((file) => {
        const text = readFileSync(file, 'utf8');
        return wholeFlush.test(text) || fixedAddress.test(text);
      })
      .map((file) => relative(__dirname, file));
    expect(offending).toEqual([]);
  });
});

describeWithRedis('an app on a logical database of its own', () => {
  const emulator = new RevenueCatEmulator();
  const runId = randomUUID().slice(0, 8);
  const clients: TestWsClient[] = [];
  let own: RedisDatabase;
  let other: RedisDatabase;
  let instances: TwoInstances | undefined;
  let elsewhere: TestApp | undefined;
  let watcher: Redis | undefined;

  beforeAll(async () => {
    own = await redisDatabase();
    other = await leaseRedisDatabase();
    await emulator.listen();
    instances = await startTwoInstancesOnRedis({ emulator });
    elsewhere = await startApp({ emulator, env: { REDIS_URL: other.url } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((ws) => ws.dispose()));
    watcher?.disconnect();
    await instances?.close();
    await elsewhere?.close();
    await other?.release();
    await emulator.close();
  });

  it('keeps its counters and pacing budget (written by Lua scripts) in that database', async () => {
    const userId = `user_db_${runId}_keys`;
    emulator.addCustomer(userId, { CRD: 10 });
    const adjusted = await elsewhere!.client.query(ADJUST, { input: { userId, amount: 1, reason: 'DB-1 where state goes' } });
    expect(adjusted.body.data).toEqual({ adjustCredits: { balance: 11 } });

    const redis = other.client();
    try {
      const keys = await redis.keys('credits-gateway:*');
      expect(keys.some((key) => key.startsWith(RATE_LIMIT_KEY_PREFIX))).toBe(true);
      expect(keys.some((key) => key.startsWith(PACING_KEY_PREFIX))).toBe(true);
    } finally {
      await redis.quit();
    }
  });

  it('does not hand its subscribers the events of an app on another database of the same server', async () => {
    const userId = `user_db_${runId}_events`;
    emulator.addCustomer(userId, { CRD: 100 });
    const { first: reader, second: writer } = instances!;
    const ws = connectWs(reader.url, `Bearer ${ADMIN_SECRET}`);
    clients.push(ws);
    const watching: Array<TestSubscription<Usage>> = [subscribe<Usage>(ws, USAGE, { userId }), subscribe<Usage>(ws, USAGE)];
    await ws.connected;
    const deltas = (subscription: TestSubscription<Usage>) =>
      subscription.events.filter((event) => event.usageChanged.userId === userId).map((event) => event.usageChanged.delta);
    const adjust = async (app: TestApp, amount: number) => expect((await app.client.query(ADJUST, { input: { userId, amount, reason: `DB-2 ${amount}` } })).status).toBe(200);

    // An event from the writer reaches the reader only through Redis: its subscriptions are live there.
    await waitFor(
      async () => {
        if (watching.every((subscription) => deltas(subscription).includes(1))) return true;
        if (watching.every((subscription) => deltas(subscription).length === 0)) await adjust(writer, 1);
        return false;
      },
      10_000,
      "the reader's Redis subscriptions",
    );

    // Every channel of the server, whatever its database: once this sees the other app's event,
    // Redis has sent it to every subscriber it was going to reach.
    watcher = own.client();
    const published: string[] = [];
    watcher.on('pmessage', (_pattern: string, _channel: string, message: string) => published.push(message));
    await watcher.psubscribe('*');
    await adjust(elsewhere!, 2);
    await waitFor(() => published.some((message) => message.includes(userId) && message.includes('"delta":2')), 5000, "the other database's event to be published");

    // Then one more from the writer: the reader gets it after anything Redis sent it before.
    await adjust(writer, 3);
    await waitFor(() => watching.every((subscription) => deltas(subscription).includes(3)), 5000, "the writer's second event");
    // (The writer's first event may have been sent more than once while the subscriptions settled.)
    expect(watching.map((subscription) => deltas(subscription).filter((delta) => delta !== 1))).toEqual([[3], [3]]);
  });
});
