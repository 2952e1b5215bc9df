import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Metrics } from '../src/metrics/metrics';
import { usageChannelPrefix } from '../src/realtime/redis-usage-event.bus';
import { RealtimeServer } from '../src/realtime/realtime.server';
import { SubscriberRegistry } from '../src/realtime/subscriber-registry';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { TestClerk } from './helpers/clerk';
import { describeWithRedis, redisClient, redisDatabase } from './helpers/redis';
import { ADMIN_SECRET, startApp, startTwoInstancesOnRedis, TestApp, TwoInstances } from './helpers/test-app';
import { connectWs, subscribe, TestWsClient, waitFor } from './helpers/ws-client';

const USAGE = `subscription Usage($userId: ID) {
  usageChanged(userId: $userId) { id type silent userId currency delta balance occurredAt }
}`;
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id balance adjustedAt replayed } }`;

type Usage = { usageChanged: Record<string, any> };

function adjust(app: TestApp, input: Record<string, unknown>) {
  return app.client.query<{ adjustCredits: Record<string, any> | null }>(ADJUST, { input });
}

function listeners(app: TestApp): number {
  return app.app.get(SubscriberRegistry).size.listeners;
}

const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

describe('usageChanged over graphql-ws', () => {
  const emulator = new RevenueCatEmulator();
  const clerk = new TestClerk();
  let app: TestApp;
  const clients: TestWsClient[] = [];

  function connect(authorization?: string): TestWsClient {
    const ws = connectWs(app.url, authorization);
    clients.push(ws);
    return ws;
  }

  beforeAll(async () => {
    await emulator.listen();
    app = await startApp({ emulator, env: { CLERK_JWT_KEY: clerk.publicKeyPem } });
  });
  afterAll(async () => {
    await app.close();
    await emulator.close();
  });
  beforeEach(() => {
    emulator.reset();
    emulator.addCustomer('user_alice', { CRD: 100 });
    emulator.addCustomer('user_bob', { CRD: 100 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((ws) => ws.dispose()));
    await waitFor(() => listeners(app) === 0, 2000, 'subscriptions to be released');
  });

  it('delivers the silent envelope with the balance after the change to an admin watching the user', async () => {
    const ws = connect(`Bearer ${ADMIN_SECRET}`);
    const usage = subscribe<Usage>(ws, USAGE, { userId: 'user_alice' });
    await waitFor(() => listeners(app) === 1);
    const adjustment = (await adjust(app, { userId: 'user_alice', amount: 25, reason: 'RT-1 goodwill' })).body.data!.adjustCredits!;
    expect((await usage.next()).usageChanged).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'usage.changed',
      silent: true,
      userId: 'user_alice',
      currency: 'CRD',
      delta: 25,
      balance: 125,
      occurredAt: adjustment.adjustedAt,
    });
  });

  it('lets an admin watch every user at once', async () => {
    const usage = subscribe<Usage>(connect(`Bearer ${ADMIN_SECRET}`), USAGE);
    await waitFor(() => listeners(app) === 1);
    await adjust(app, { userId: 'user_alice', amount: 1, reason: 'RT-2 one' });
    await adjust(app, { userId: 'user_bob', amount: -2, reason: 'RT-2 two' });
    const events = [(await usage.next()).usageChanged, (await usage.next()).usageChanged];
    expect(events.map((event) => [event.userId, event.delta, event.balance])).toEqual([
      ['user_alice', 1, 101],
      ['user_bob', -2, 98],
    ]);
  });

  it("gives a Clerk session its own user's events only, with or without naming the user", async () => {
    const token = `Bearer ${clerk.sessionToken('user_alice')}`;
    const named = subscribe<Usage>(connect(token), USAGE, { userId: 'user_alice' });
    const implicit = subscribe<Usage>(connect(token), USAGE);
    await waitFor(() => listeners(app) === 2);
    await adjust(app, { userId: 'user_bob', amount: 7, reason: 'RT-3 not yours' });
    await adjust(app, { userId: 'user_alice', amount: 3, reason: 'RT-3 yours' });
    for (const usage of [named, implicit]) {
      expect((await usage.next()).usageChanged).toMatchObject({ userId: 'user_alice', delta: 3, balance: 103 });
    }
    await settle();
    expect(named.events).toHaveLength(1);
    expect(implicit.events).toHaveLength(1);
  });

  it("refuses a Clerk session another user's events", async () => {
    const usage = subscribe<Usage>(connect(`Bearer ${clerk.sessionToken('user_alice')}`), USAGE, { userId: 'user_bob' });
    const [error] = (await usage.failed) as Array<{ message: string; extensions: Record<string, unknown> }>;
    expect(error.message).toBe('forbidden: a user may only watch their own usage');
    expect(error.extensions).toEqual({ code: 'forbidden', status: 403 });
    expect(listeners(app)).toBe(0);
  });

  const REFUSED_TO_USERS = {
    message: 'forbidden: a user token may only subscribe to usageChanged',
    extensions: { code: 'forbidden', status: 403 },
  };

  it.each([
    ['introspection of the schema', '{ __schema { types { name } } }'],
    ['introspection of a type', '{ __type(name: "Mutation") { fields { name } } }'],
    ['introspection as a subscription', 'subscription { __schema { types { name } } }'],
    ['__typename probing of the query root', '{ __typename }'],
    ['__typename probing of the mutation root', 'mutation { __typename }'],
    ['another field', '{ currencies { code } }'],
    ['a misspelled field', '{ currencie { code } }'],
    ['a mutation', 'mutation { adjustCredits(input: { userId: "user_alice", amount: 5, reason: "mine now" }) { balance } }'],
    ['usageChanged beside another field', 'subscription { usageChanged { id } __typename }'],
    ['usageChanged next to a second operation', 'subscription A { usageChanged { id } } query B { currencies { code } }'],
    ['introspection inside usageChanged', 'subscription { usageChanged { id __type(name: "Query") { name } } }'],
    ['usageChanged under @skip', 'subscription { usageChanged @skip(if: true) { id } }'],
  ])('refuses a Clerk connection %s with forbidden, before validation', async (_name, query) => {
    const usage = subscribe(connect(`Bearer ${clerk.sessionToken('user_alice')}`), query);
    // Whichever comes first: the refusal, or (the defect) an answer.
    const outcome = await Promise.race([usage.failed, usage.next().then((data) => ({ data }))]);
    expect(outcome).toEqual([REFUSED_TO_USERS]);
    expect(usage.events).toEqual([]);
    expect(emulator.count('list_currencies')).toBe(0);
  });

  it.each([
    ['a misspelled field of the event', 'subscription { usageChanged { id balanse } }'],
    ['a misspelled argument', 'subscription { usageChanged(userID: "user_alice") { id } }'],
    ['a misspelled variable type', 'subscription ($u: AdjustCreditsInpt) { usageChanged(userId: $u) { id } }'],
    ['a variable of another existing type', 'subscription ($u: AdjustCreditsInput) { usageChanged(userId: $u) { id } }'],
  ])('gives a Clerk connection no validation hints for %s', async (_name, query) => {
    const usage = subscribe(connect(`Bearer ${clerk.sessionToken('user_alice')}`), query);
    expect(await usage.failed).toEqual([{ message: 'invalid_query: not a valid usageChanged subscription', extensions: { code: 'invalid_query', status: 400 } }]);
  });

  it('still lets a Clerk connection ask for __typename inside usageChanged (Apollo iOS adds it)', async () => {
    const usage = subscribe<Usage>(connect(`Bearer ${clerk.sessionToken('user_alice')}`), 'subscription { usageChanged { __typename balance } }');
    await waitFor(() => listeners(app) === 1);
    await adjust(app, { userId: 'user_alice', amount: 4, reason: 'RT-7 typename' });
    expect((await usage.next()).usageChanged).toEqual({ __typename: 'UsageChangedEvent', balance: 104 });
  });

  it('keeps introspection and validation hints for the admin secret over graphql-ws', async () => {
    const ws = connect(`Bearer ${ADMIN_SECRET}`);
    const introspection = subscribe<{ __schema: { mutationType: { name: string } } }>(ws, '{ __schema { mutationType { name } } }');
    expect((await introspection.next()).__schema.mutationType.name).toBe('Mutation');
    const typo = subscribe(ws, 'subscription { usageChanged { balanse } }');
    const [error] = (await typo.failed) as Array<{ message: string }>;
    expect(error.message).toMatch(/Did you mean "balance"\?/);
  });

  it.each([
    ['@skip on the root field', 'subscription { usageChanged @skip(if: true) { id } }'],
    ['@include on the root field', 'subscription { usageChanged @include(if: false) { id } }'],
    ['@skip on a root inline fragment', 'subscription { ... on Subscription @skip(if: true) { usageChanged { id } } }'],
    ['@skip inside a root fragment', 'subscription { ...F } fragment F on Subscription { usageChanged @skip(if: true) { id } }'],
  ])('answers an admin subscription with %s invalid_query, and the connection keeps working', async (_name, query) => {
    const ws = connect(`Bearer ${ADMIN_SECRET}`);
    const conditional = subscribe(ws, query);
    const [error] = (await conditional.failed) as Array<{ message: string; extensions: { code: string } }>;
    expect(error.extensions.code).toBe('invalid_query');
    expect(error.message).toBe('invalid_query: a subscription cannot use @skip or @include on its root field');
    // The same connection still serves a good subscription.
    const usage = subscribe<Usage>(ws, 'subscription { usageChanged(userId: "user_alice") { balance } }');
    await waitFor(() => listeners(app) === 1);
    await adjust(app, { userId: 'user_alice', amount: 3, reason: 'RT-8 after a conditional root' });
    expect((await usage.next()).usageChanged.balance).toBeGreaterThan(0);
  });

  it('closes a Clerk connection with 4403 token expired once its token expires, and stops its events', async () => {
    const ws = connect(`Bearer ${clerk.sessionToken('user_alice', 2)}`);
    const usage = subscribe<Usage>(ws, USAGE);
    await waitFor(() => listeners(app) === 1);
    const closedOrNot = await Promise.race([ws.closed, settle(8000).then(() => 'still open after 8 s')]);
    expect(closedOrNot).toEqual({ code: 4403, reason: 'token expired' });
    await waitFor(() => listeners(app) === 0, 2000, 'the expired subscription to be released');
    await adjust(app, { userId: 'user_alice', amount: 6, reason: 'RT-8 after expiry' });
    await settle();
    expect(usage.events).toEqual([]);
  }, 15_000);

  it('leaves an admin connection and a Clerk connection with a long-lived token open', async () => {
    const admin = connect(`Bearer ${ADMIN_SECRET}`);
    const user = connect(`Bearer ${clerk.sessionToken('user_alice', 600)}`);
    subscribe<Usage>(admin, USAGE);
    const usage = subscribe<Usage>(user, USAGE);
    await waitFor(() => listeners(app) === 2);
    await settle(2500);
    await adjust(app, { userId: 'user_alice', amount: 2, reason: 'RT-9 still open' });
    expect((await usage.next()).usageChanged).toMatchObject({ userId: 'user_alice', delta: 2 });
  }, 15_000);

  it.each([
    ['no connection params', undefined, 'missing_bearer'],
    ['another scheme', `Basic ${ADMIN_SECRET}`, 'missing_bearer'],
    ['a wrong admin secret', 'Bearer not-the-admin-secret', 'invalid_token'],
    ['an expired Clerk token', () => `Bearer ${clerk.sessionToken('user_alice', -30)}`, 'token_expired'],
    [
      'a Clerk token not valid yet',
      () => `Bearer ${clerk.sign({ sub: 'user_alice', nbf: Math.floor(Date.now() / 1000) + 600, exp: Math.floor(Date.now() / 1000) + 900 })}`,
      'token_not_active',
    ],
    ['a token signed by another key', () => `Bearer ${new TestClerk().sessionToken('user_alice')}`, 'invalid_token'],
    [
      'a tampered token',
      () => `Bearer ${clerk.sessionToken('user_alice').replace(/\.[^.]+\./, `.${Buffer.from(JSON.stringify({ sub: 'user_bob', exp: 9999999999 })).toString('base64url')}.`)}`,
      'invalid_token',
    ],
  ])('closes a connection with %s: 4401 and a reason', async (_name, authorization, reason) => {
    const value = typeof authorization === 'function' ? authorization() : authorization;
    const ws = connect(value);
    expect(await ws.closed).toEqual({ code: 4401, reason });
  });

  it('emits nothing for a replayed adjustment or a failed one', async () => {
    const usage = subscribe<Usage>(connect(`Bearer ${ADMIN_SECRET}`), USAGE, { userId: 'user_alice' });
    await waitFor(() => listeners(app) === 1);
    const input = { userId: 'user_alice', amount: 10, reason: 'RT-5 once', idempotencyKey: `rt-${randomUUID()}` };
    await adjust(app, input);
    expect((await adjust(app, input)).body.data!.adjustCredits!.replayed).toBe(true);
    expect((await adjust(app, { userId: 'user_alice', amount: -1000, reason: 'RT-5 refused' })).status).toBe(422);
    await adjust(app, { userId: 'user_alice', amount: 5, reason: 'RT-5 second' });
    const deltas = [(await usage.next()).usageChanged.delta, (await usage.next()).usageChanged.delta];
    await settle();
    expect(deltas).toEqual([10, 5]);
    expect(usage.events).toHaveLength(2);
  });

  it('releases everything when a client unsubscribes or disconnects', async () => {
    const ws = connect(`Bearer ${ADMIN_SECRET}`);
    const usage = subscribe<Usage>(ws, USAGE, { userId: 'user_alice' });
    subscribe<Usage>(ws, USAGE);
    await waitFor(() => listeners(app) === 2);
    usage.unsubscribe();
    await waitFor(() => listeners(app) === 1, 2000, 'the unsubscribed listener to go');
    await ws.dispose();
    await waitFor(() => listeners(app) === 0 && app.app.get(RealtimeServer).connectionCount === 0, 2000, 'the connection to go');
    expect(app.app.get(SubscriberRegistry).size).toEqual({ users: 0, listeners: 0, everyone: 0 });
    const metrics = app.app.get(Metrics);
    expect((await metrics.realtimeConnections.get()).values[0].value).toBe(0);
  });
});

describeWithRedis('usageChanged across instances sharing one Redis', () => {
  const emulator = new RevenueCatEmulator();
  const runId = randomUUID().slice(0, 8);
  let instances: TwoInstances | undefined;
  let writer: TestApp;
  let reader: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    redis = await redisClient();
    await emulator.listen();
    instances = await startTwoInstancesOnRedis({ emulator });
    ({ first: writer, second: reader } = instances);
  });
  afterAll(async () => {
    await instances?.close();
    await emulator.close();
    await redis?.quit();
  });

  async function redisSubscriptions(): Promise<number> {
    const channels = (await redis.pubsub('CHANNELS', `${usageChannelPrefix((await redisDatabase()).index)}${runId}*`)) as string[];
    return channels.length;
  }

  it('delivers an adjustment made on one instance to a subscriber on the other, once', async () => {
    const userId = `${runId}_user_remote`;
    emulator.addCustomer(userId, { CRD: 40 });
    const ws = connectWs(reader.url, `Bearer ${ADMIN_SECRET}`);
    const everyone = connectWs(reader.url, `Bearer ${ADMIN_SECRET}`);
    try {
      const usage = subscribe<Usage>(ws, USAGE, { userId });
      const all = subscribe<Usage>(everyone, USAGE);
      await waitFor(() => listeners(reader) === 2);
      await waitFor(async () => (await redisSubscriptions()) === 1, 2000, 'the Redis subscription');
      await adjust(writer, { userId, amount: 2, reason: 'RT-10 cross-instance' });
      expect((await usage.next()).usageChanged).toMatchObject({ userId, delta: 2, balance: 42 });
      expect((await all.next()).usageChanged).toMatchObject({ userId, delta: 2, balance: 42 });
      await settle(300);
      expect(usage.events).toHaveLength(1);
      expect(all.events).toHaveLength(1);
    } finally {
      await ws.dispose();
      await everyone.dispose();
    }
  });

  it('leaves no subscriber, listener or Redis subscription behind after 1,000 subscribe/disconnect cycles', async () => {
    const registry = reader.app.get(SubscriberRegistry);
    const server = reader.app.get(RealtimeServer);
    const cycle = async (i: number) => {
      const ws = connectWs(reader.url, `Bearer ${ADMIN_SECRET}`);
      const usage = subscribe<Usage>(ws, USAGE, { userId: `${runId}_cycle_${i % 100}` });
      await ws.connected;
      // Half unsubscribe first, half just drop the connection.
      if (i % 2 === 0) usage.unsubscribe();
      await ws.dispose();
    };
    for (let batch = 0; batch < 1000; batch += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => cycle(batch + i)));
    }
    await waitFor(() => server.connectionCount === 0 && registry.size.listeners === 0, 5000, 'every connection to close');
    await waitFor(async () => (await redisSubscriptions()) === 0, 5000, 'every Redis subscription to go');
    expect(registry.size).toEqual({ users: 0, listeners: 0, everyone: 0 });
    const metrics = reader.app.get(Metrics);
    expect((await metrics.realtimeConnections.get()).values[0].value).toBe(0);
    expect((await metrics.realtimeSubscriptions.get()).values.every((value) => value.value === 0)).toBe(true);
  }, 60_000);
});
