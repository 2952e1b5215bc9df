import Redis from 'ioredis';
import { Clock } from '../src/common/clock';
import { ManualClock, randomMinute } from '../src/common/testing/manual-clock';
import { RATE_LIMIT_KEY_PREFIX } from '../src/rate-limit/fixed-window.storage';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { errorCode, GraphQLResponse } from './helpers/graphql-client';
import { describeWithRedis, redisClient } from './helpers/redis';
import { ADMIN_SECRET, PREVIOUS_ADMIN_SECRET, startApp, startTwoInstancesOnRedis, TestApp, TwoInstances } from './helpers/test-app';

// The spec's limits: unset the test helper's lifted ones.
const SPEC_LIMITS = {
  RATE_LIMIT_CURRENCIES_PER_MINUTE: undefined,
  RATE_LIMIT_BALANCES_PER_MINUTE: undefined,
  RATE_LIMIT_ADJUST_CREDITS_PER_MINUTE: undefined,
};

const OPERATIONS = [
  { name: 'currencies', limit: 60, query: '{ currencies { code } }' },
  { name: 'balances', limit: 120, query: '{ balances(userId: "user_demo_rich") { balance } }' },
  { name: 'adjustCredits', limit: 30, query: 'mutation { adjustCredits(input: { userId: "user_demo_rich", amount: 1, reason: "RL-1 limit" }) { balance } }' },
];

async function spend(app: TestApp, query: string, times: number): Promise<Array<GraphQLResponse<any>>> {
  const responses: Array<GraphQLResponse<any>> = [];
  for (let i = 0; i < times; i++) responses.push(await app.client.query(query));
  return responses;
}

describe('rate limits', () => {
  const emulator = new RevenueCatEmulator({
    rateLimits: { project_configuration: Infinity, customer_information: Infinity, virtual_currencies_create_transaction: Infinity },
  });
  let clock: ManualClock;
  let app: TestApp;

  beforeAll(() => emulator.listen());
  afterAll(() => emulator.close());
  beforeEach(async () => {
    emulator.reset();
    clock = new ManualClock(randomMinute() + 15_000);
    app = await startApp({
      emulator,
      env: { ...SPEC_LIMITS, ADMIN_SECRET_PREVIOUS: PREVIOUS_ADMIN_SECRET, TRUST_PROXY: 'loopback' },
      override: (builder) => builder.overrideProvider(Clock).useValue(clock),
    });
  });
  afterEach(() => app.close());

  it.each(OPERATIONS)('holds $name to $limit a minute, with RateLimit headers, and resets on the next minute', async ({ query, limit }) => {
    const allowed = await spend(app, query, limit);
    expect(allowed.map((response) => response.status)).toEqual(Array(limit).fill(200));
    expect(allowed[0].headers.get('ratelimit-limit')).toBe(String(limit));
    expect(allowed[0].headers.get('ratelimit-remaining')).toBe(String(limit - 1));
    expect(allowed[0].headers.get('ratelimit-reset')).toBe('45');
    expect(allowed[limit - 1].headers.get('ratelimit-remaining')).toBe('0');

    const refused = await app.client.query(query);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('45');
    expect(refused.headers.get('ratelimit-limit')).toBe(String(limit));
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('ratelimit-reset')).toBe('45');
    expect(refused.body.errors?.[0]).toMatchObject({
      message: 'rate_limited: too many requests; retry after the given number of seconds',
      extensions: { code: 'rate_limited', status: 429, retryAfterSeconds: 45 },
    });

    clock.advance(45_000);
    const reset = await app.client.query(query);
    expect(reset.status).toBe(200);
    expect(reset.headers.get('ratelimit-remaining')).toBe(String(limit - 1));
    expect(reset.headers.get('ratelimit-reset')).toBe('60');
  });

  it('does not execute a refused adjustment', async () => {
    await spend(app, OPERATIONS[2].query, 31);
    expect(emulator.transactions).toHaveLength(30);
    expect(emulator.balanceOf('user_demo_rich', 'CRD')).toBe(100_030);
  });

  it('counts every aliased field: 31 aliased adjustCredits execute 30', async () => {
    const fields = Array.from({ length: 31 }, (_, i) => `a${i}: adjustCredits(input: { userId: "user_demo_rich", amount: 1, reason: "RL-2 alias ${i}" }) { balance }`);
    const response = await app.client.query(`mutation { ${fields.join('\n')} }`);
    expect(response.status).toBe(200);
    const data = response.body.data as Record<string, unknown>;
    expect(Object.values(data).filter((value) => value !== null)).toHaveLength(30);
    expect(response.body.errors?.map((error) => error.extensions?.code)).toEqual(['rate_limited']);
    expect(emulator.transactions).toHaveLength(30);
    expect((await app.client.query(OPERATIONS[2].query)).status).toBe(429);
  });

  it('refuses a batched array of operations outright', async () => {
    const response = await app.http
      .post('/graphql')
      .set({ 'content-type': 'application/json', authorization: `Bearer ${ADMIN_SECRET}` })
      .send(JSON.stringify(Array.from({ length: 31 }, () => ({ query: OPERATIONS[2].query }))));
    expect(response.status).toBe(400);
    expect(response.body.errors[0].extensions.code).toBe('bad_request');
    expect(emulator.transactions).toHaveLength(0);
  });

  it('keeps separate budgets per credential and per client address behind a trusted proxy', async () => {
    await spend(app, OPERATIONS[2].query, 30);
    expect(errorCode(await app.client.query(OPERATIONS[2].query))).toBe('rate_limited');
    expect((await app.client.query(OPERATIONS[2].query, undefined, { token: PREVIOUS_ADMIN_SECRET })).status).toBe(200);
    const elsewhere = { headers: { 'x-forwarded-for': '203.0.113.7' } };
    expect((await app.client.query(OPERATIONS[2].query, undefined, elsewhere)).status).toBe(200);
  });

  it('checks the role first: a caller refused a field spends none of its budget', async () => {
    const created = await app.client.query<{ createOperator: { token: string } }>(
      'mutation { createOperator(input: { name: "rate-limited viewer", role: VIEWER }) { token } }',
    );
    const viewer = app.client.withToken(created.body.data!.createOperator.token);
    for (let i = 0; i < 31; i++) {
      const refused = await viewer.query(OPERATIONS[2].query);
      expect([refused.status, errorCode(refused), refused.headers.get('ratelimit-limit')]).toEqual([403, 'forbidden', null]);
    }
    const me = await viewer.query('{ me { role } }');
    expect([me.status, me.headers.get('ratelimit-limit'), me.headers.get('ratelimit-remaining')]).toEqual([200, '120', '119']);
    expect(emulator.transactions).toHaveLength(0);
  });

  it('ignores X-Forwarded-For when no proxy is trusted', async () => {
    const direct = await startApp({ emulator, env: SPEC_LIMITS, override: (builder) => builder.overrideProvider(Clock).useValue(clock) });
    try {
      await spend(direct, OPERATIONS[2].query, 30);
      const spoofed = await direct.client.query(OPERATIONS[2].query, undefined, { headers: { 'x-forwarded-for': '198.51.100.9' } });
      expect(errorCode(spoofed)).toBe('rate_limited');
    } finally {
      await direct.close();
    }
  });
});

describeWithRedis('rate limits across instances sharing one Redis', () => {
  const emulator = new RevenueCatEmulator();
  const clock = new ManualClock(randomMinute());
  let instances: TwoInstances | undefined;
  let first: TestApp;
  let second: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    redis = await redisClient();
    await emulator.listen();
    instances = await startTwoInstancesOnRedis({ emulator, env: SPEC_LIMITS, override: (builder) => builder.overrideProvider(Clock).useValue(clock) });
    ({ first, second } = instances);
  });
  afterAll(async () => {
    await instances?.close();
    await emulator.close();
    const keys = await redis.keys(`${RATE_LIMIT_KEY_PREFIX}*:${Math.floor(clock.now() / 60_000)}`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('shares one budget: 30 adjustments over two instances, then both refuse', async () => {
    const query = OPERATIONS[2].query;
    const responses = [...(await spend(first, query, 15)), ...(await spend(second, query, 15))];
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(errorCode(await first.client.query(query))).toBe('rate_limited');
    expect(errorCode(await second.client.query(query))).toBe('rate_limited');
    expect(emulator.transactions).toHaveLength(30);
  });

  it('keeps each shared counter only until its window ends, plus a second', async () => {
    const window = Math.floor(clock.now() / 60_000);
    const keys = await redis.keys(`${RATE_LIMIT_KEY_PREFIX}*:${window}`);
    expect(keys.length).toBeGreaterThan(0);
    const msLeft = (window + 1) * 60_000 - clock.now();
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(msLeft + 1000);
    }
  });

  it('still counts after Redis has lost its scripts (SCRIPT FLUSH, as after a restart)', async () => {
    const query = OPERATIONS[2].query;
    const window = Math.floor(clock.now() / 60_000);
    const total = async () => {
      const keys = await redis.keys(`${RATE_LIMIT_KEY_PREFIX}*:${window}`);
      const values = await Promise.all(keys.map((key) => redis.get(key)));
      return values.reduce((sum, value) => sum + Number(value), 0);
    };
    const before = await total();
    await redis.script('FLUSH');
    expect(errorCode(await first.client.query(query))).toBe('rate_limited');
    expect(await total()).toBe(before + 1);
  });
});
