import { randomUUID } from 'node:crypto';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { Clock } from '../src/common/clock';
import { ManualClock, randomMinute } from '../src/common/testing/manual-clock';
import { DatabaseConnection, openDatabase } from '../src/database/database';
import { adjustmentIdFor, upstreamKeyFor } from '../src/idempotency/idempotency-keys';
import { AdjustmentRepository, NewAdjustment } from '../src/journal/adjustment.repository';
import { errorCode, GraphQLClient, GraphQLResponse } from './helpers/graphql-client';
import { describeWithPostgres, TEST_DATABASE_URL, useTestSchema } from './helpers/postgres';
import { describeWithRedis } from './helpers/redis';
import { ADMIN_SECRET, startApp, startTwoInstancesOnRedis, TestApp, TwoInstances, useEmulatorApp } from './helpers/test-app';
import { connectWs, subscribe } from './helpers/ws-client';

const RESULT = 'id userId currency amount reason balance replayed idempotencyKey actor { operatorId name role onBehalfOf } reverses { id amount status }';
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { ${RESULT} } }`;
const REVERSE = `mutation Reverse($input: ReverseAdjustmentInput!) { reverseAdjustment(input: $input) { ${RESULT} } }`;
const RECORD = `query Record($id: ID!) {
  adjustment(id: $id) { id amount reason status errorCode balance idempotencyKey reverses { id } reversedBy { id } }
}`;
const USAGE = 'subscription Usage($userId: ID) { usageChanged(userId: $userId) { userId delta balance } }';

interface Result {
  id: string;
  userId: string;
  currency: string;
  amount: number;
  reason: string;
  balance: number;
  replayed: boolean;
  idempotencyKey: string;
  actor: { operatorId: string | null; name: string; role: string; onBehalfOf: string | null };
  reverses: { id: string; amount: number; status: string } | null;
}
interface JournalEntry {
  id: string;
  amount: number;
  reason: string;
  status: string;
  errorCode: string | null;
  balance: number | null;
  idempotencyKey: string;
  reverses: { id: string } | null;
  reversedBy: { id: string } | null;
}
type Usage = { usageChanged: { userId: string; delta: number; balance: number } };

function clientOf(app: TestApp | GraphQLClient): GraphQLClient {
  return app instanceof GraphQLClient ? app : app.client;
}

async function adjust(app: TestApp | GraphQLClient, input: Record<string, unknown>): Promise<Result> {
  const response = await clientOf(app).query<{ adjustCredits: Result | null }>(ADJUST, { input });
  if (!response.body.data?.adjustCredits) throw new Error(`adjustCredits failed: ${JSON.stringify(response.body.errors)}`);
  return response.body.data.adjustCredits;
}

function reverse(
  app: TestApp | GraphQLClient,
  input: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<GraphQLResponse<{ reverseAdjustment: Result | null }>> {
  return clientOf(app).query<{ reverseAdjustment: Result | null }>(REVERSE, { input }, { headers });
}

async function record(app: TestApp | GraphQLClient, id: string): Promise<JournalEntry | null> {
  return (await clientOf(app).query<{ adjustment: JournalEntry | null }>(RECORD, { id })).body.data?.adjustment ?? null;
}

const idOf = (key: string) => adjustmentIdFor(upstreamKeyFor(key));
const user = (name: string) => `user_rev_${name}_${randomUUID().slice(0, 8)}`;
const key = (name: string) => `rev-${name}-${randomUUID()}`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The RevenueCat transactions the emulator applied for `userId`. */
function appliedFor(emulator: RevenueCatEmulator, userId: string) {
  return emulator.transactions.filter((transaction) => transaction.customerId === userId);
}

/** The RevenueCat Idempotency-Keys of every transaction request sent for `userId`, applied or not. */
function upstreamKeysSentFor(emulator: RevenueCatEmulator, userId: string): Array<string | undefined> {
  return emulator.requests.filter((request) => request.endpoint === 'create_transaction' && request.customerId === userId).map((request) => request.idempotencyKey);
}

describeWithPostgres('reverseAdjustment', () => {
  const ctx = useEmulatorApp({ env: { REVENUECAT_MAX_RETRIES: '0' } });
  let app: TestApp;
  let emulator: RevenueCatEmulator;

  beforeAll(() => {
    app = ctx.app;
    emulator = ctx.emulator;
  });

  it('applies the whole opposite amount once, as a record linked both ways, announced once, replayed with its key', async () => {
    const userId = user('basic');
    emulator.addCustomer(userId, { CRD: 100 });
    const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    try {
      const events = subscribe<Usage>(ws, USAGE, { userId });
      await ws.connected;
      const original = await adjust(app, { userId, amount: 50, reason: 'R-1 goodwill, sent twice' });
      expect((await events.next()).usageChanged).toEqual({ userId, delta: 50, balance: 150 });

      const reversalKey = key('basic');
      const input = { adjustmentId: original.id, reason: '  R-1 undo the duplicate grant (T-4711)  ', idempotencyKey: reversalKey };
      const reversed = await reverse(app, input, { 'x-on-behalf-of': 'jane@support.example' });
      expect(reversed.status).toBe(200);
      expect(reversed.body.data?.reverseAdjustment).toEqual({
        id: idOf(reversalKey),
        userId,
        currency: 'CRD',
        amount: -50,
        reason: 'R-1 undo the duplicate grant (T-4711)',
        balance: 100,
        replayed: false,
        idempotencyKey: reversalKey,
        actor: { operatorId: null, name: 'admin', role: 'ADMIN', onBehalfOf: 'jane@support.example' },
        reverses: { id: original.id, amount: 50, status: 'APPLIED' },
      });
      expect((await events.next()).usageChanged).toEqual({ userId, delta: -50, balance: 100 });

      // Linked both ways in the journal.
      expect(await record(app, original.id)).toMatchObject({ status: 'APPLIED', amount: 50, reverses: null, reversedBy: { id: idOf(reversalKey) } });
      expect(await record(app, idOf(reversalKey))).toEqual({
        id: idOf(reversalKey),
        amount: -50,
        reason: 'R-1 undo the duplicate grant (T-4711)',
        status: 'APPLIED',
        errorCode: null,
        balance: 100,
        idempotencyKey: reversalKey,
        reverses: { id: original.id },
        reversedBy: null,
      });

      // One RevenueCat transaction, under the reversal's own upstream key, with its reason as the reference.
      const sent = appliedFor(emulator, userId);
      expect(sent.map((transaction) => [transaction.adjustments, transaction.reference, transaction.idempotencyKey])).toEqual([
        [{ CRD: 50 }, 'R-1 goodwill, sent twice', upstreamKeyFor(original.idempotencyKey)],
        [{ CRD: -50 }, 'R-1 undo the duplicate grant (T-4711)', upstreamKeyFor(reversalKey)],
      ]);

      // The same key again, in the input or as the Idempotency-Key header: the replay, nothing sent, nothing announced.
      const replays = [await reverse(app, input), await reverse(app, { ...input, idempotencyKey: undefined }, { 'idempotency-key': reversalKey })];
      for (const replay of replays) {
        expect(replay.body.data?.reverseAdjustment).toMatchObject({ id: idOf(reversalKey), amount: -50, balance: 100, replayed: true });
      }
      // Another key: already reversed, naming the reversal.
      const again = await reverse(app, { ...input, idempotencyKey: key('basic-again') });
      expect(again.status).toBe(409);
      expect(again.body.errors?.[0]).toMatchObject({
        message: 'already_reversed: this adjustment has been reversed already',
        extensions: { code: 'already_reversed', status: 409, reversalId: idOf(reversalKey) },
      });
      // No key at all is a new one of the gateway's: also already reversed.
      expect((await reverse(app, { adjustmentId: original.id, reason: 'R-1 third try' })).body.errors?.[0].extensions).toMatchObject({
        code: 'already_reversed',
        reversalId: idOf(reversalKey),
      });

      await pause(300);
      expect(events.events).toHaveLength(2);
      expect(appliedFor(emulator, userId)).toHaveLength(2);
      expect(upstreamKeysSentFor(emulator, userId)).toHaveLength(2);
      expect(emulator.balanceOf(userId, 'CRD')).toBe(100);
    } finally {
      await ws.dispose();
    }
  });

  it('reverses a deduction with a grant, under a key of the gateway’s when none is sent', async () => {
    const userId = user('deduction');
    emulator.addCustomer(userId, { CRD: 100 });
    const original = await adjust(app, { userId, amount: -30, reason: 'R-2 deducted by mistake' });
    const reversed = await reverse(app, { adjustmentId: original.id, reason: 'R-2 give it back' });
    const result = reversed.body.data?.reverseAdjustment;
    expect(result).toMatchObject({ amount: 30, balance: 100, replayed: false, reverses: { id: original.id, amount: -30 } });
    expect(result?.idempotencyKey).toMatch(/^gw_[0-9a-f-]{36}$/);
    expect(result?.id).toBe(idOf(result!.idempotencyKey));
    expect((await reverse(app, { adjustmentId: original.id, reason: 'R-2 give it back', idempotencyKey: result!.idempotencyKey })).body.data?.reverseAdjustment).toMatchObject(
      {
        id: result!.id,
        replayed: true,
      },
    );
    expect(appliedFor(emulator, userId).map((transaction) => transaction.adjustments)).toEqual([{ CRD: -30 }, { CRD: 30 }]);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(100);
  });

  it('refuses to reverse a reversal (not_reversible), sending nothing', async () => {
    const userId = user('twice');
    emulator.addCustomer(userId, { CRD: 10 });
    const original = await adjust(app, { userId, amount: 5, reason: 'R-3 grant' });
    const reversal = (await reverse(app, { adjustmentId: original.id, reason: 'R-3 undo' })).body.data!.reverseAdjustment!;
    const sent = upstreamKeysSentFor(emulator, userId).length;

    const refused = await reverse(app, { adjustmentId: reversal.id, reason: 'R-3 undo the undo', idempotencyKey: key('twice') });
    expect(refused.status).toBe(422);
    expect(refused.body.errors?.[0]).toMatchObject({
      message: 'not_reversible: only an APPLIED adjustment that is not itself a reversal can be reversed',
      extensions: { code: 'not_reversible', status: 422, field: 'adjustmentId' },
    });
    expect(upstreamKeysSentFor(emulator, userId)).toHaveLength(sent);
    expect(await record(app, reversal.id)).toMatchObject({ status: 'APPLIED', reversedBy: null });
    expect(emulator.balanceOf(userId, 'CRD')).toBe(10);
  });

  it('refuses a REJECTED or UNKNOWN original (not_reversible) and an unknown id (not_found), recording and sending nothing', async () => {
    const userId = user('refused');
    emulator.addCustomer(userId, { CRD: 3 });
    const rejectedKey = key('rejected');
    const rejected = await clientOf(app).query(ADJUST, { input: { userId, amount: -10, reason: 'R-4 too much', idempotencyKey: rejectedKey } });
    expect(errorCode(rejected)).toBe('insufficient_balance');
    expect(await record(app, idOf(rejectedKey))).toMatchObject({ status: 'REJECTED' });

    emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, status: 503, count: 1 });
    const unknownKey = key('unknown');
    const unknown = await clientOf(app).query(ADJUST, { input: { userId, amount: 1, reason: 'R-4 lost', idempotencyKey: unknownKey } });
    expect(unknown.body.errors?.[0].extensions).toMatchObject({ code: 'rc_call_failed', outcome: 'unknown' });
    expect(await record(app, idOf(unknownKey))).toMatchObject({ status: 'UNKNOWN' });
    const sent = upstreamKeysSentFor(emulator, userId).length;

    for (const id of [idOf(rejectedKey), idOf(unknownKey)]) {
      const refused = await reverse(app, { adjustmentId: id, reason: 'R-4 undo', idempotencyKey: key('refused') });
      expect(refused.status).toBe(422);
      expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'not_reversible', status: 422 });
    }
    const missing = await reverse(app, { adjustmentId: 'adj_00000000000000000000000000000000', reason: 'R-4 undo nothing' });
    expect(missing.status).toBe(404);
    expect(missing.body.errors?.[0]).toMatchObject({
      message: 'not_found: no object with that adjustmentId',
      extensions: { code: 'not_found', status: 404, field: 'adjustmentId' },
    });
    expect(upstreamKeysSentFor(emulator, userId)).toHaveLength(sent);
    const history = await clientOf(app).query<{ adjustments: { nodes: Array<{ id: string }> } }>(
      'query H($userId: ID) { adjustments(filter: { userId: $userId }) { nodes { id } } }',
      { userId },
    );
    expect(history.body.data?.adjustments.nodes.map((node) => node.id).sort()).toEqual([idOf(rejectedKey), idOf(unknownKey)].sort());
  });

  it('fails a reversal of a spent grant as insufficient_balance, applying nothing; the original stays reversible under a new key', async () => {
    const userId = user('spent');
    emulator.addCustomer(userId, { CRD: 0 });
    const original = await adjust(app, { userId, amount: 50, reason: 'R-5 grant' });
    await adjust(app, { userId, amount: -45, reason: 'R-5 the customer spends it' });

    const firstKey = key('spent-1');
    const refused = await reverse(app, { adjustmentId: original.id, reason: 'R-5 undo', idempotencyKey: firstKey });
    expect(refused.status).toBe(422);
    expect(refused.body.errors?.[0].extensions).toMatchObject({
      code: 'insufficient_balance',
      balance: 5,
      adjustmentId: idOf(firstKey),
      idempotencyKey: firstKey,
    });
    expect(emulator.balanceOf(userId, 'CRD')).toBe(5);
    expect(await record(app, idOf(firstKey))).toMatchObject({ status: 'REJECTED', errorCode: 'insufficient_balance', reverses: { id: original.id } });
    expect(await record(app, original.id)).toMatchObject({ status: 'APPLIED', reversedBy: null });
    // Its key replays the stored refusal, without RevenueCat.
    expect(errorCode(await reverse(app, { adjustmentId: original.id, reason: 'R-5 undo', idempotencyKey: firstKey }))).toBe('insufficient_balance');

    await adjust(app, { userId, amount: 45, reason: 'R-5 the customer tops up' });
    const secondKey = key('spent-2');
    const reversed = await reverse(app, { adjustmentId: original.id, reason: 'R-5 undo', idempotencyKey: secondKey });
    expect(reversed.body.data?.reverseAdjustment).toMatchObject({ id: idOf(secondKey), amount: -50, balance: 0, replayed: false });
    expect(await record(app, original.id)).toMatchObject({ reversedBy: { id: idOf(secondKey) } });
    expect(emulator.balanceOf(userId, 'CRD')).toBe(0);
    // Each attempt went to RevenueCat under its own upstream key, so the refused one could not poison the
    // next; the replay of the refused one sent nothing.
    const sent = upstreamKeysSentFor(emulator, userId);
    expect(sent).toEqual([expect.any(String), expect.any(String), upstreamKeyFor(firstKey), expect.any(String), upstreamKeyFor(secondKey)]);
    expect(appliedFor(emulator, userId).map((transaction) => transaction.adjustments.CRD)).toEqual([50, -45, 45, -50]);
  });

  it('keeps the original held by a reversal whose outcome is UNKNOWN, until the retry with its key settles it: one transaction, one event', async () => {
    const userId = user('unknown');
    emulator.addCustomer(userId, { CRD: 100 });
    const original = await adjust(app, { userId, amount: 20, reason: 'R-6 grant' });
    const ws = connectWs(app.url, `Bearer ${ADMIN_SECRET}`);
    try {
      const events = subscribe<Usage>(ws, USAGE, { userId });
      await ws.connected;
      // RevenueCat applies the reversal but answers after the gateway's timeout.
      emulator.injectFault({ endpoint: 'create_transaction', customerId: userId, latencyMs: 2500, applyFirst: true, count: 1 });
      const reversalKey = key('unknown');
      const input = { adjustmentId: original.id, reason: 'R-6 undo', idempotencyKey: reversalKey };
      const lost = await reverse(app, input);
      expect(lost.status).toBe(502);
      expect(lost.body.errors?.[0].extensions).toMatchObject({
        code: 'rc_call_failed',
        rcType: 'timeout',
        outcome: 'unknown',
        adjustmentId: idOf(reversalKey),
        idempotencyKey: reversalKey,
      });
      expect(await record(app, idOf(reversalKey))).toMatchObject({ status: 'UNKNOWN', reverses: { id: original.id } });
      expect(await record(app, original.id)).toMatchObject({ reversedBy: null });

      // It may have applied: no other reversal may start meanwhile.
      const other = await reverse(app, { ...input, idempotencyKey: key('unknown-other') });
      expect(other.status).toBe(409);
      expect(other.body.errors?.[0].extensions).toMatchObject({ code: 'already_reversed', reversalId: idOf(reversalKey) });

      const settled = await reverse(app, input);
      expect(settled.body.data?.reverseAdjustment).toMatchObject({ id: idOf(reversalKey), amount: -20, balance: 100, replayed: false });
      expect((await events.next()).usageChanged).toEqual({ userId, delta: -20, balance: 100 });
      expect(await record(app, original.id)).toMatchObject({ reversedBy: { id: idOf(reversalKey) } });
      expect(await record(app, idOf(reversalKey))).toMatchObject({ status: 'APPLIED', balance: 100 });
      expect((await reverse(app, input)).body.data?.reverseAdjustment).toMatchObject({ replayed: true });

      await pause(300);
      expect(events.events).toHaveLength(1);
      // Sent twice under the same upstream key; RevenueCat applied it once.
      expect(upstreamKeysSentFor(emulator, userId).slice(-2)).toEqual([upstreamKeyFor(reversalKey), upstreamKeyFor(reversalKey)]);
      expect(appliedFor(emulator, userId).map((transaction) => transaction.adjustments.CRD)).toEqual([20, -20]);
      expect(emulator.balanceOf(userId, 'CRD')).toBe(100);
    } finally {
      await ws.dispose();
    }
  });

  it.each([
    ['a reason of 2 characters', { reason: ' ab ' }, {}, 'reason'],
    ['a reason of zero-width spaces', { reason: 'a\u200b\u200b\u200bb' }, {}, 'reason'],
    ['an adjustmentId of 201 characters', { adjustmentId: 'a'.repeat(201) }, {}, 'adjustmentId'],
    ['an idempotencyKey with a line break', { idempotencyKey: 'a\nb' }, {}, 'idempotencyKey'],
    ['an Idempotency-Key header that differs from the input', { idempotencyKey: 'one' }, { 'idempotency-key': 'two' }, 'idempotencyKey'],
    ['a bad X-On-Behalf-Of', {}, { 'x-on-behalf-of': 'jane\tdoe' }, 'X-On-Behalf-Of'],
  ])('refuses %s as invalid_argument, recording and sending nothing', async (_name, change, headers, field) => {
    const userId = user('invalid');
    emulator.addCustomer(userId, { CRD: 10 });
    const original = await adjust(app, { userId, amount: 5, reason: 'R-7 grant' });
    const refused = await reverse(app, { adjustmentId: original.id, reason: 'R-7 undo', ...change }, headers);
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'invalid_argument', field });
    expect(await record(app, original.id)).toMatchObject({ reversedBy: null });
    expect(upstreamKeysSentFor(emulator, userId)).toHaveLength(1);
  });

  it('needs an AGENT or above: a VIEWER is refused (403 forbidden) with nothing recorded or sent; an AGENT reverses, as the actor', async () => {
    const userId = user('roles');
    emulator.addCustomer(userId, { CRD: 10 });
    const original = await adjust(app, { userId, amount: 5, reason: 'R-12 grant' });
    const operator = async (role: 'VIEWER' | 'AGENT') => {
      const created = await clientOf(app).query<{ createOperator: { token: string; operator: { id: string; name: string } } }>(
        'mutation C($input: CreateOperatorInput!) { createOperator(input: $input) { token operator { id name } } }',
        { input: { name: `R-12 ${role} ${randomUUID().slice(0, 6)}`, role } },
      );
      if (!created.body.data?.createOperator) throw new Error(JSON.stringify(created.body.errors));
      return created.body.data.createOperator;
    };
    const viewer = await operator('VIEWER');
    const agent = await operator('AGENT');

    const refused = await reverse(clientOf(app).withToken(viewer.token), { adjustmentId: original.id, reason: 'R-12 undo', idempotencyKey: key('viewer') });
    expect(refused.status).toBe(403);
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'forbidden', requiredRole: 'AGENT' });
    expect(await record(app, original.id)).toMatchObject({ reversedBy: null });
    expect(upstreamKeysSentFor(emulator, userId)).toHaveLength(1);

    const reversed = await reverse(clientOf(app).withToken(agent.token), { adjustmentId: original.id, reason: 'R-12 undo' });
    expect(reversed.body.data?.reverseAdjustment).toMatchObject({
      amount: -5,
      balance: 10,
      actor: { operatorId: agent.operator.id, name: agent.operator.name, role: 'AGENT', onBehalfOf: null },
    });
  });

  it('answers idempotency_key_reused for a key that holds an adjustment, or the reversal of another adjustment, of the same amount and reason', async () => {
    const userId = user('reused');
    emulator.addCustomer(userId, { CRD: 100 });
    const a = await adjust(app, { userId, amount: 10, reason: 'R-8 grant a' });
    const b = await adjust(app, { userId, amount: 10, reason: 'R-8 grant b' });
    // A deduction identical in user, currency, amount and reason to what the reversal of `b` would be.
    const sharedKey = key('reused');
    await adjust(app, { userId, amount: -10, reason: 'R-8 undo', idempotencyKey: sharedKey });
    const refused = await reverse(app, { adjustmentId: b.id, reason: 'R-8 undo', idempotencyKey: sharedKey });
    expect(refused.status).toBe(422);
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'idempotency_key_reused', field: 'idempotencyKey' });

    const reversalKey = key('reused-reversal');
    expect((await reverse(app, { adjustmentId: a.id, reason: 'R-8 undo', idempotencyKey: reversalKey })).status).toBe(200);
    expect(errorCode(await reverse(app, { adjustmentId: b.id, reason: 'R-8 undo', idempotencyKey: reversalKey }))).toBe('idempotency_key_reused');
    expect(await record(app, b.id)).toMatchObject({ reversedBy: null });
    expect(appliedFor(emulator, userId).map((transaction) => transaction.adjustments.CRD)).toEqual([10, 10, -10, -10]);
    expect(emulator.balanceOf(userId, 'CRD')).toBe(100);
  });
});

describeWithRedis('reverseAdjustment on two instances', () => {
  const emulator = new RevenueCatEmulator();
  let instances: TwoInstances;

  beforeAll(async () => {
    await emulator.listen();
    instances = await startTwoInstancesOnRedis({ emulator, env: { REVENUECAT_MAX_RETRIES: '0' } });
  });
  afterAll(async () => {
    await instances?.close();
    await emulator.close();
  });

  it('applies one of many concurrent reversals with different keys; every other one gets already_reversed naming the winner', async () => {
    const { first, second } = instances;
    for (let round = 0; round < 5; round++) {
      const userId = user(`race${round}`);
      emulator.addCustomer(userId, { CRD: 100 });
      const ws = connectWs(second.url, `Bearer ${ADMIN_SECRET}`);
      try {
        const events = subscribe<Usage>(ws, USAGE, { userId });
        await ws.connected;
        const original = await adjust(first, { userId, amount: 50, reason: `R-9 grant ${round}` });
        expect((await events.next()).usageChanged.delta).toBe(50);

        const keys = Array.from({ length: 8 }, (_, i) => key(`race${round}-${i}`));
        const answers = await Promise.all(
          keys.map((k, i) => reverse(i % 2 === 0 ? first : second, { adjustmentId: original.id, reason: `R-9 undo ${round}`, idempotencyKey: k })),
        );
        const winners = answers.filter((answer) => answer.status === 200);
        expect(winners).toHaveLength(1);
        const winner = winners[0].body.data!.reverseAdjustment!;
        expect(winner).toMatchObject({ amount: -50, balance: 100, replayed: false, reverses: { id: original.id } });
        expect(keys.map(idOf)).toContain(winner.id);
        for (const loser of answers.filter((answer) => answer !== winners[0])) {
          expect(loser.status).toBe(409);
          expect(loser.body.errors?.[0].extensions).toMatchObject({ code: 'already_reversed', reversalId: winner.id });
        }

        expect((await events.next()).usageChanged).toEqual({ userId, delta: -50, balance: 100 });
        await pause(300);
        expect(events.events).toHaveLength(2);
        // One RevenueCat transaction for the reversal: the losers never reached it.
        expect(upstreamKeysSentFor(emulator, userId)).toHaveLength(2);
        expect(appliedFor(emulator, userId).map((transaction) => transaction.adjustments.CRD)).toEqual([50, -50]);
        expect(emulator.balanceOf(userId, 'CRD')).toBe(100);
        expect(await record(second, original.id)).toMatchObject({ reversedBy: { id: winner.id } });
        const losers = keys.filter((k) => idOf(k) !== winner.id);
        for (const k of losers) expect(await record(first, idOf(k))).toBeNull();
      } finally {
        await ws.dispose();
      }
    }
  }, 60_000);
});

describeWithPostgres('reverseAdjustment rate limit', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;

  beforeAll(async () => {
    await emulator.listen();
    const clock = new ManualClock(randomMinute() + 15_000);
    app = await startApp({
      emulator,
      env: { RATE_LIMIT_MUTATIONS_PER_MINUTE: undefined },
      override: (builder) => builder.overrideProvider(Clock).useValue(clock),
    });
  });
  afterAll(async () => {
    await app?.close();
    await emulator.close();
  });

  it('holds reverseAdjustment to 30 a minute per caller, refusals included, and does not run the 31st', async () => {
    const input = { adjustmentId: 'adj_none', reason: 'R-10 limit' };
    for (let i = 0; i < 30; i++) {
      const answer = await reverse(app, input);
      expect([answer.status, errorCode(answer), answer.headers.get('ratelimit-limit')]).toEqual([404, 'not_found', '30']);
    }
    const refused = await reverse(app, input);
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'rate_limited', retryAfterSeconds: 45 });
  });
});

describeWithPostgres('the journal claiming a reversal', () => {
  const schema = useTestSchema('reversal_claim');
  let connection: DatabaseConnection;
  let journal: AdjustmentRepository;
  const LEASE_MS = 60_000;

  beforeAll(async () => {
    connection = await openDatabase({ kind: 'postgres', url: TEST_DATABASE_URL }, { schema: schema.name });
    journal = new AdjustmentRepository(connection.db);
  });
  afterAll(() => connection.close());

  function entry(overrides: Partial<NewAdjustment> = {}): NewAdjustment {
    const id = `adj_${randomUUID()}`;
    return {
      id,
      idempotencyKey: `key-${id}`,
      fingerprint: `fp-${id}`,
      userId: 'user_claim',
      currency: 'CRD',
      amount: 50,
      reason: 'R-11 grant',
      upstreamKey: `cag_${id}`,
      actorName: 'admin',
      actorRole: 'ADMIN',
      ...overrides,
    };
  }

  async function claimed(record: NewAdjustment): Promise<string> {
    const claim = await journal.claim(record, LEASE_MS);
    if (claim.kind !== 'claimed') throw new Error(`expected a claim, got ${claim.kind}`);
    return claim.token;
  }

  it('claims a reversal whose rival was refused between its insert and its look-up (the original is free again), instead of failing', async () => {
    const original = entry();
    await journal.settle(original.id, await claimed(original), { status: 'APPLIED', balance: 50, balances: [] });
    const rival = entry({ amount: -50, reversesId: original.id });
    const rivalToken = await claimed(rival);

    // The rival is refused right after this claim's insert met it, before the claim looks for it.
    const findLiveReversal = journal.findLiveReversal.bind(journal);
    jest.spyOn(journal, 'findLiveReversal').mockImplementationOnce(async (id) => {
      await journal.settle(rival.id, rivalToken, { status: 'REJECTED', error: { code: 'insufficient_balance', message: 'no' } });
      return findLiveReversal(id);
    });
    const reversal = entry({ amount: -50, reversesId: original.id });
    const claim = await journal.claim(reversal, LEASE_MS);

    expect(claim).toMatchObject({ kind: 'claimed', record: { id: reversal.id, status: 'PENDING', reversesId: original.id } });
    expect(await journal.findLiveReversal(original.id)).toMatchObject({ id: reversal.id });
  });
});
