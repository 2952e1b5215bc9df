import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { RedisPacingStore } from '../src/revenuecat/pacing/redis-pacing.store';
import { TransactionPacer } from '../src/revenuecat/pacing/transaction-pacer';
import { Clock } from '../src/common/clock';
import { Metrics } from '../src/metrics/metrics';
import { closeRedis, createRedisClient } from '../src/redis/redis.module';
import { RedisHealth } from '../src/redis/redis-health';
import { describeWithRedis, RedisProxy, redisClient, redisDatabase, startRedisProxy } from './helpers/redis';

// Nothing listens on port 1: a Redis that is down from the start.
const DEAD_REDIS_URL = 'redis://127.0.0.1:1';

// 600 a minute, 75% for bulk: 450 bulk transactions a minute, one slot every 133.33 ms.
const OPTIONS = { transactionsPerMinute: 600, bulkSharePercent: 75 };
const TARGET_PER_MINUTE = 450;
const INTERVAL = 60_000 / TARGET_PER_MINUTE;
/** Slots are never closer than the interval less a tenth of it: a taker that late keeps the schedule. */
const MIN_GAP = INTERVAL * 0.9 - 0.001;

/** The app's Redis client settings, with the health tracking that decides between Redis and memory. */
function instance(url: string, keyPrefix: string): { pacer: TransactionPacer; redis: Redis } {
  const redis = createRedisClient(url, 'pacing-test');
  const pacer = new TransactionPacer(redis, new RedisHealth(redis, new Metrics()), new Clock(), { ...OPTIONS, keyPrefix });
  return { pacer, redis };
}

/**
 * Takes bulk slots until `until`, answering the times they were granted at: the pacer's decisions, which
 * Redis orders, not when this busy test process got round to noticing them.
 */
async function takeFor(pacer: TransactionPacer, until: number): Promise<number[]> {
  const times: number[] = [];
  for (;;) {
    const grantedAt = await pacer.takeBulk();
    if (grantedAt >= until) return times;
    times.push(grantedAt);
  }
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((time, i) => time - times[i]);
}

describeWithRedis('TransactionPacer: one bulk schedule for every instance, through Redis', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  let keyPrefix: string;
  let admin: Redis;
  let url: string;

  beforeAll(async () => {
    admin = await redisClient();
    ({ url } = await redisDatabase());
  });

  beforeEach(() => {
    keyPrefix = `test:{pacing-${randomUUID()}}:`;
  });

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
    await admin.del(...RedisPacingStore.keys(keyPrefix));
  });

  afterAll(async () => {
    await admin.quit();
  });

  function started(url: string): TransactionPacer {
    const { pacer, redis } = instance(url, keyPrefix);
    cleanup.push(() => closeRedis(redis));
    return pacer;
  }

  it('two instances together take bulk at 75% of the budget (within 5%), evenly spaced', async () => {
    const [one, two] = [started(url), started(url)];
    const end = Date.now() + 4_000;
    const [a, b] = await Promise.all([takeFor(one, end), takeFor(two, end)]);
    const times = [...a, ...b].sort((x, y) => x - y);
    const perMinute = ((times.length - 1) * 60_000) / (times[times.length - 1] - times[0]);
    expect(perMinute).toBeGreaterThanOrEqual(TARGET_PER_MINUTE * 0.95);
    expect(perMinute).toBeLessThanOrEqual(TARGET_PER_MINUTE * 1.05);
    expect(Math.min(...gaps(times))).toBeGreaterThanOrEqual(MIN_GAP);
    expect([one.status.shared, two.status.shared]).toEqual([true, true]);
  });

  it("a 429's pause on one instance pauses the other", async () => {
    const [one, two] = [started(url), started(url)];
    await two.takeBulk();
    const pausedAt = Date.now();
    await one.pause(800);
    expect(await two.takeBulk()).toBeGreaterThanOrEqual(pausedAt + 800);
    expect(Date.now()).toBeGreaterThanOrEqual(pausedAt + 800);
  });

  it('paces on its own while Redis is unreachable', async () => {
    const pacer = started(DEAD_REDIS_URL);
    const end = Date.now() + 1_500;
    const resolved: number[] = [];
    const times: number[] = [];
    for (let grantedAt = await pacer.takeBulk(); grantedAt < end; grantedAt = await pacer.takeBulk()) {
      times.push(grantedAt);
      resolved.push(Date.now());
    }
    expect(pacer.status.shared).toBe(false);
    expect(times.length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...gaps(times))).toBeGreaterThanOrEqual(MIN_GAP);
    // Also as this process saw them (loosely: it shares two cores): the first slot, granted after the
    // first command to the dead Redis failed, is not followed by another at once.
    expect(Math.min(...gaps(resolved))).toBeGreaterThanOrEqual(INTERVAL / 2);
    expect(await pacer.takeInteractive()).toEqual({ withinBudget: true, pausedForMs: 0 });
  });

  it('falls back without a burst when Redis goes away, and shares the budget again when it is back', async () => {
    const proxy: RedisProxy = await startRedisProxy();
    cleanup.push(() => proxy.close());
    const pacer = started(proxy.url);
    const [taken] = RedisPacingStore.keys(keyPrefix);

    const lastShared = await pacer.takeBulk();
    expect(pacer.status.shared).toBe(true);
    expect(await admin.zcard(taken)).toBe(1);

    proxy.cut();
    let previous = await pacer.takeBulk();
    expect(pacer.status.shared).toBe(false);
    // This instance remembers its own recent slots: the first one on its own keeps the spacing.
    expect(previous - lastShared).toBeGreaterThanOrEqual(MIN_GAP);
    expect(await admin.zcard(taken)).toBe(1);

    proxy.restore();
    const deadline = Date.now() + 15_000;
    const gapsAfterCut: number[] = [];
    while (!pacer.status.shared && Date.now() < deadline) {
      const grantedAt = await pacer.takeBulk();
      gapsAfterCut.push(grantedAt - previous);
      previous = grantedAt;
    }
    expect(pacer.status.shared).toBe(true);
    expect(Math.min(...gapsAfterCut)).toBeGreaterThanOrEqual(MIN_GAP);
    // The slot that found Redis again was taken there.
    expect(await admin.zcard(taken)).toBe(2);
  });
});
