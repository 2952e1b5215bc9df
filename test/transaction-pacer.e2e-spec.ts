import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { Metrics } from '../src/metrics/metrics';
import { RedisHealth } from '../src/redis/redis-health';
import { ManualClock, randomMinute } from '../src/common/testing/manual-clock';
import { describeWithRedis, redisClient } from './helpers/redis';
import { RedisPacingStore } from '../src/revenuecat/pacing/redis-pacing.store';
import { Test } from '@nestjs/testing';
import { CommonModule } from '../src/common/common.module';
import { loadConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';
import { MetricsModule } from '../src/metrics/metrics.module';
import { RedisModule } from '../src/redis/redis.module';
import { MAX_PAUSE_MS, TRANSACTION_PACER_PROVIDERS, TransactionPacer } from '../src/revenuecat/pacing/transaction-pacer';

// 600 a minute, 75% for bulk: 450 bulk a minute, one slot every 133.33 ms; bulk stops at 590 in the last 60 s.
const BUDGET = 600;
const SHARE = 75;
const INTERVAL = 60_000 / 450;

interface Setup {
  redis: () => Redis | null;
  health: () => RedisHealth;
}

function pacerSuite({ redis, health }: Setup): void {
  let clock: ManualClock;
  let pacer: TransactionPacer;
  let start: number;
  let keyPrefix: string;

  beforeEach(() => {
    start = randomMinute() + 12_000;
    clock = new ManualClock(start, { advanceOnSleep: true });
    keyPrefix = `test:{pacing-${randomUUID()}}:`;
    const client = redis();
    pacer = new TransactionPacer(client, health(), clock, {
      transactionsPerMinute: BUDGET,
      bulkSharePercent: SHARE,
      keyPrefix,
    });
  });

  afterEach(async () => {
    await redis()?.del(...RedisPacingStore.keys(keyPrefix));
  });

  async function bulkTimes(count: number): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const grantedAt = await pacer.takeBulk();
      expect(grantedAt).toBe(clock.now());
      times.push(grantedAt);
    }
    return times;
  }

  it('gives bulk one slot every 60000 / (budget x share) ms, the first at once', async () => {
    const times = await bulkTimes(12);
    times.forEach((time, i) => {
      // Sleeps are whole milliseconds: each slot comes at its point of the schedule, rounded up.
      expect(time - start).toBeGreaterThanOrEqual(i * INTERVAL - 0.001);
      expect(time - start).toBeLessThanOrEqual(i * INTERVAL + 1);
    });
  });

  it('caps bulk at BULK_SHARE_PERCENT of the budget: 450 in a minute, evenly spread', async () => {
    const times: number[] = [];
    for (;;) {
      await pacer.takeBulk();
      if (clock.now() >= start + 60_000) break;
      times.push(clock.now());
    }
    expect(times).toHaveLength(450);
    const gaps = times.slice(1).map((time, i) => time - times[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(Math.floor(INTERVAL));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(Math.ceil(INTERVAL));
  });

  it('counts interactive calls at once, never refusing one, and says when the budget is used up', async () => {
    const takes = [];
    for (let i = 0; i < BUDGET + 2; i++) takes.push(await pacer.takeInteractive());
    expect(clock.now()).toBe(start);
    expect(takes.filter((take) => take.withinBudget)).toHaveLength(BUDGET);
    expect(takes.slice(BUDGET)).toEqual([
      { withinBudget: false, pausedForMs: 0 },
      { withinBudget: false, pausedForMs: 0 },
    ]);
    // A minute later the window is empty again.
    clock.advance(60_000);
    expect(await pacer.takeInteractive()).toEqual({ withinBudget: true, pausedForMs: 0 });
  });

  it('yields to interactive use: bulk stops while the last 60 s hold the budget less a second of it', async () => {
    for (let i = 0; i < 585; i++) await pacer.takeInteractive();
    const bulk = await bulkTimes(5);
    expect(bulk.every((time) => time < start + 1000)).toBe(true);
    // 585 + 5 = 590 = 600 - 10: interactive calls still find the last 10 of the budget free, then are told it is used up.
    const takes = [];
    for (let i = 0; i < 11; i++) takes.push((await pacer.takeInteractive()).withinBudget);
    expect(takes).toEqual([...Array<boolean>(10).fill(true), false]);
    // The next bulk slot waits until the 585 interactive calls leave the window.
    await pacer.takeBulk();
    expect(clock.now()).toBe(start + 60_000);
  });

  it('pauses bulk for a Retry-After, never interactive calls; a shorter pause does not shorten it', async () => {
    await pacer.takeBulk();
    await pacer.pause(5_000);
    await pacer.pause(2_000);
    expect(await pacer.takeInteractive()).toEqual({ withinBudget: true, pausedForMs: 5_000 });
    await pacer.takeBulk();
    expect(clock.now()).toBe(start + 5_000);
  });

  it('bounds a pause, taking an absurd Retry-After as a broken header', async () => {
    await pacer.pause(3_600_000);
    expect(pacer.status.bulkPausedForMs).toBe(MAX_PAUSE_MS);
  });

  it("adopts RevenueCat's reported limit when it is lower than the configured budget, and drops it when it is not", async () => {
    await pacer.observe({ usage: 1, limit: 120 });
    expect(pacer.status).toMatchObject({ transactionsPerMinute: 120, bulkPerMinute: 90 });
    const times = await bulkTimes(2);
    expect(times[1] - times[0]).toBe(Math.ceil(60_000 / 90));
    await pacer.observe({ usage: 3, limit: 2_147_483_647 });
    expect(pacer.status).toMatchObject({ transactionsPerMinute: BUDGET, bulkPerMinute: 450 });
  });

  it("pauses bulk until RevenueCat's window resets when someone else nearly used it up", async () => {
    // 10 left of 600 is the interactive reserve: bulk waits for the next clock minute (48 s away).
    await pacer.observe({ usage: 590, limit: 600 });
    expect(pacer.status.bulkPausedForMs).toBe(48_000);
    await pacer.takeBulk();
    expect(clock.now()).toBe(start + 48_000);
    // With a reset time given, that one.
    await pacer.observe({ remaining: 0, resetSeconds: 7 });
    expect(pacer.status.bulkPausedForMs).toBe(7_000);
    // Plenty left: no pause.
    clock.advance(7_000);
    await pacer.observe({ usage: 100, limit: 600 });
    expect(pacer.status.bulkPausedForMs).toBe(0);
  });

  it('stops waiting when the signal aborts, having taken no slot', async () => {
    await pacer.takeBulk();
    const controller = new AbortController();
    clock.onSleep = () => controller.abort();
    await expect(pacer.takeBulk(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    clock.onSleep = undefined;
    await expect(pacer.takeBulk(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    // The slot the aborted waiter was waiting for is still free.
    clock.time = start + Math.ceil(INTERVAL);
    await pacer.takeBulk();
    expect(clock.now()).toBe(start + Math.ceil(INTERVAL));
  });
}

describe('TRANSACTION_PACER_PROVIDERS', () => {
  it('builds the pacer from the configuration and the global Redis, metrics and clock providers', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.register(loadConfig({ REVENUECAT_TRANSACTIONS_PER_MINUTE: '240', BULK_SHARE_PERCENT: '50' })), CommonModule, MetricsModule, RedisModule],
      providers: TRANSACTION_PACER_PROVIDERS,
    }).compile();
    try {
      expect(moduleRef.get(TransactionPacer).status).toMatchObject({ shared: false, transactionsPerMinute: 240, bulkPerMinute: 120, bulkIntervalMs: 500 });
    } finally {
      await moduleRef.close();
    }
  });
});

describe('TransactionPacer on one instance (no Redis)', () => {
  const health = new RedisHealth(null, new Metrics());
  pacerSuite({ redis: () => null, health: () => health });
});

describeWithRedis('TransactionPacer through Redis (the same rules, applied by the Lua scripts)', () => {
  let client: Redis;
  let health: RedisHealth;
  beforeAll(async () => {
    client = await redisClient();
    health = new RedisHealth(client, new Metrics());
  });
  afterAll(async () => {
    await client.quit();
  });

  pacerSuite({ redis: () => client, health: () => health });

  it('keeps the spacing of the slots it took alone when Redis answers again (no burst at the switch back)', async () => {
    const start = randomMinute();
    const clock = new ManualClock(start, { advanceOnSleep: true });
    const keyPrefix = `test:{pacing-${randomUUID()}}:`;
    const flaky = { usable: true, commandFailed: () => undefined } as unknown as RedisHealth;
    const pacer = new TransactionPacer(client, flaky, clock, { transactionsPerMinute: BUDGET, bulkSharePercent: SHARE, keyPrefix });
    try {
      await pacer.takeBulk();
      Object.assign(flaky, { usable: false });
      await pacer.takeBulk();
      expect([clock.now(), pacer.status.shared]).toEqual([start + Math.ceil(INTERVAL), false]);
      // Redis's schedule says the next slot is due now; this instance's own slot says 133 ms from now.
      Object.assign(flaky, { usable: true });
      await pacer.takeBulk();
      expect(clock.now()).toBeGreaterThanOrEqual(start + 2 * INTERVAL);
      expect(pacer.status.shared).toBe(true);
    } finally {
      await client.del(...RedisPacingStore.keys(keyPrefix));
    }
  });

  it('shares the schedule, the budget and pauses between instances using one key prefix', async () => {
    const start = randomMinute();
    const clock = new ManualClock(start, { advanceOnSleep: true });
    const keyPrefix = `test:{pacing-${randomUUID()}}:`;
    const options = { transactionsPerMinute: BUDGET, bulkSharePercent: SHARE, keyPrefix };
    const [one, two] = [new TransactionPacer(client, health, clock, options), new TransactionPacer(client, health, clock, options)];
    try {
      await one.takeBulk();
      await two.takeBulk();
      expect(clock.now()).toBe(start + Math.ceil(INTERVAL));
      for (let i = 0; i < BUDGET - 2; i++) await one.takeInteractive();
      expect(await two.takeInteractive()).toEqual({ withinBudget: false, pausedForMs: 0 });
      await one.pause(3_000);
      expect(await two.takeInteractive()).toEqual({ withinBudget: false, pausedForMs: 3_000 });
      expect([one.status.shared, two.status.shared]).toEqual([true, true]);
    } finally {
      await client.del(...RedisPacingStore.keys(keyPrefix));
    }
  });
});
