import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../src/common/testing/manual-clock';
import { Metrics } from '../src/metrics/metrics';
import { RedisHealth } from '../src/redis/redis-health';
import { IdempotencyStore } from '../src/idempotency/idempotency-store.port';
import { MemoryIdempotencyStore } from '../src/idempotency/memory-idempotency.store';
import { IDEMPOTENCY_KEY_PREFIX, RedisIdempotencyStore } from '../src/idempotency/redis-idempotency.store';
import { describeWithRedis, redisClient } from './helpers/redis';

/** The same contract for every adapter; `elapse` moves time past a lease or TTL. */
function storeContract(make: () => { store: IdempotencyStore; elapse: (ms: number) => Promise<void> }) {
  let store: IdempotencyStore;
  let elapse: (ms: number) => Promise<void>;
  let key: string;

  beforeEach(() => {
    ({ store, elapse } = make());
    key = `test-${randomUUID()}`;
  });

  it('lets exactly one of many concurrent claims through', async () => {
    const results = await Promise.all(Array.from({ length: 25 }, () => store.claim(key, 'fp', 10_000)));
    expect(results.filter((result) => result.kind === 'claimed')).toHaveLength(1);
    expect(results.filter((result) => result.kind === 'in_progress')).toHaveLength(24);
  });

  it('tells a different request with the same key apart, in progress and after', async () => {
    const claim = await store.claim(key, 'fp-a', 10_000);
    expect(await store.claim(key, 'fp-b', 10_000)).toEqual({ kind: 'mismatch' });
    if (claim.kind !== 'claimed') throw new Error('not claimed');
    expect(await store.complete(key, claim.token, 'fp-a', '{"ok":true}', 60_000)).toBe(true);
    expect(await store.claim(key, 'fp-b', 10_000)).toEqual({ kind: 'mismatch' });
  });

  it('replays a completed outcome to the same request', async () => {
    const claim = await store.claim(key, 'fp', 10_000);
    if (claim.kind !== 'claimed') throw new Error('not claimed');
    await store.complete(key, claim.token, 'fp', '{"answer":42}', 60_000);
    expect(await store.claim(key, 'fp', 10_000)).toEqual({ kind: 'completed', outcome: '{"answer":42}' });
  });

  it('frees a key on release by its owner only', async () => {
    const claim = await store.claim(key, 'fp', 10_000);
    if (claim.kind !== 'claimed') throw new Error('not claimed');
    await store.release(key, 'someone-else');
    expect(await store.claim(key, 'fp', 10_000)).toEqual({ kind: 'in_progress' });
    await store.release(key, claim.token);
    expect((await store.claim(key, 'fp', 10_000)).kind).toBe('claimed');
  });

  it('frees a crashed claim when its lease runs out, and the late owner cannot overwrite the new one', async () => {
    const first = await store.claim(key, 'fp', 100);
    if (first.kind !== 'claimed') throw new Error('not claimed');
    await elapse(150);
    const second = await store.claim(key, 'fp', 10_000);
    expect(second.kind).toBe('claimed');
    expect(await store.complete(key, first.token, 'fp', '{"late":true}', 60_000)).toBe(false);
    expect(await store.claim(key, 'fp', 10_000)).toEqual({ kind: 'in_progress' });
  });

  it('forgets a completed outcome after its time to live', async () => {
    const claim = await store.claim(key, 'fp', 10_000);
    if (claim.kind !== 'claimed') throw new Error('not claimed');
    await store.complete(key, claim.token, 'fp', '{}', 100);
    await elapse(150);
    expect((await store.claim(key, 'other', 10_000)).kind).toBe('claimed');
  });
}

describe('MemoryIdempotencyStore', () => {
  storeContract(() => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryIdempotencyStore(clock);
    return {
      store,
      elapse: async (ms) => clock.advance(ms),
    };
  });
});

describeWithRedis('RedisIdempotencyStore', () => {
  let redis: Redis;
  let health: RedisHealth;
  beforeAll(() => {
    redis = redisClient();
    health = new RedisHealth(redis, new Metrics());
  });
  afterAll(async () => {
    const keys = await redis.keys(`${IDEMPOTENCY_KEY_PREFIX}test-*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  storeContract(() => ({
    store: new RedisIdempotencyStore(redis, health),
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }));
});
