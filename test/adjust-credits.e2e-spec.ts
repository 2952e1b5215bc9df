import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { upstreamKeyFor } from '../src/idempotency/idempotency-keys';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { errorCode, GraphQLResponse } from './helpers/graphql-client';
import { describeWithRedis } from './helpers/redis';
import { ADMIN_SECRET, startApp, startTwoInstancesOnRedis, TestApp, TwoInstances } from './helpers/test-app';

const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) {
  adjustCredits(input: $input) {
    id userId currency amount reason balance balances { currency name balance } idempotencyKey replayed adjustedAt
  }
}`;

type AdjustResult = { adjustCredits: Record<string, any> | null };

function adjust(app: TestApp, input: Record<string, unknown>, headers?: Record<string, string>) {
  return app.client.query<AdjustResult>(ADJUST, { input }, { headers });
}

const newKey = () => `key-${randomUUID()}`;
const upstreamAttempts = (emulator: RevenueCatEmulator) => emulator.requests.filter((request) => request.endpoint === 'create_transaction');

describe('adjustCredits', () => {
  const emulator = new RevenueCatEmulator();
  let app: TestApp;

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await emulator.listen();
    app = await startApp({ emulator });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await app.close();
    await emulator.close();
  });
  beforeEach(() => emulator.reset());

  describe('grants and deductions', () => {
    it('grants credits and answers the balance after it, sending the trimmed reason as the reference', async () => {
      const response = await adjust(app, { userId: 'user_2abcXYZ', amount: 50, reason: '  TICKET-123 goodwill  ' });
      expect(response.status).toBe(200);
      const result = response.body.data!.adjustCredits!;
      expect(result).toEqual({
        id: expect.stringMatching(/^adj_[0-9a-f]{32}$/),
        userId: 'user_2abcXYZ',
        currency: 'CRD',
        amount: 50,
        reason: 'TICKET-123 goodwill',
        balance: 300,
        balances: [{ currency: 'CRD', name: 'Credits', balance: 300 }],
        idempotencyKey: expect.stringMatching(/^gw_[0-9a-f-]{36}$/),
        replayed: false,
        adjustedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(300);
      expect(emulator.transactions).toHaveLength(1);
      expect(emulator.transactions[0]).toMatchObject({ adjustments: { CRD: 50 }, reference: 'TICKET-123 goodwill' });
    });

    it('deducts to exactly zero and still reports the zero balance', async () => {
      const response = await adjust(app, { userId: 'user_2abcXYZ', amount: -250, reason: 'T-9 refund reversal' });
      expect(response.body.data!.adjustCredits).toMatchObject({
        balance: 0,
        balances: [{ currency: 'CRD', name: 'Credits', balance: 0 }],
      });
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(0);
    });

    it('adjusts another configured currency and reports every balance', async () => {
      emulator.addCurrency({ code: 'GEM', name: 'Gems' });
      emulator.addCustomer('user_multi', { CRD: 10, GEM: 5 });
      // A fresh app: the shared one has cached a currency list without GEM.
      const fresh = await startApp({ emulator });
      const response = await adjust(fresh, { userId: 'user_multi', amount: 3, reason: 'T-7 gems', currency: 'GEM' });
      await fresh.close();
      expect(response.body.data!.adjustCredits).toMatchObject({
        currency: 'GEM',
        balance: 8,
        balances: [
          { currency: 'CRD', name: 'Credits', balance: 10 },
          { currency: 'GEM', name: 'Gems', balance: 8 },
        ],
      });
    });
  });

  describe('bad input changes nothing and never reaches RevenueCat', () => {
    it.each([
      ['a zero amount', { amount: 0 }, 400, 'amount_must_be_nonzero', 'amount'],
      ['a reason of 2 characters after trimming', { reason: '  ab  ' }, 400, 'invalid_argument', 'reason'],
      ['a reason of 501 characters', { reason: 'r'.repeat(501) }, 400, 'invalid_argument', 'reason'],
      ['a reason with a control character', { reason: 'T-1 \u0007 bell' }, 400, 'invalid_argument', 'reason'],
      ['an amount above 2,000,000,000', { amount: 2_000_000_001 }, 400, 'invalid_argument', 'amount'],
      ['an amount below -2,000,000,000', { amount: -2_000_000_001 }, 400, 'invalid_argument', 'amount'],
      ['an amount of 2^31', { amount: 2 ** 31 }, 400, 'invalid_argument', 'amount'],
      ['a fractional amount', { amount: 1.5 }, 400, 'invalid_argument', 'amount'],
      ['a malformed currency code', { currency: 'CR-D' }, 400, 'invalid_argument', 'currency'],
      ['an unconfigured currency', { currency: 'GEM' }, 400, 'unknown_currency', 'currency'],
      ['an empty idempotency key', { idempotencyKey: '' }, 400, 'invalid_argument', 'idempotencyKey'],
      ['an idempotency key of 201 characters', { idempotencyKey: 'k'.repeat(201) }, 400, 'invalid_argument', 'idempotencyKey'],
      ['a non-printable idempotency key', { idempotencyKey: 'key\nwith-newline' }, 400, 'invalid_argument', 'idempotencyKey'],
    ])('%s', async (_name, override, status, code, field) => {
      const response = await adjust(app, { userId: 'user_2abcXYZ', amount: 10, reason: 'T-1 valid reason', ...override });
      expect(response.status).toBe(status);
      expect(response.body.errors?.[0]?.extensions).toMatchObject({ code, status, field });
      expect(emulator.count('create_transaction')).toBe(0);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(250);
    });

    it('accepts a reason of exactly 3 and of exactly 500 characters', async () => {
      expect((await adjust(app, { userId: 'user_2abcXYZ', amount: 1, reason: ' abc ' })).status).toBe(200);
      expect((await adjust(app, { userId: 'user_2abcXYZ', amount: 1, reason: 'é'.repeat(500) })).status).toBe(200);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(252);
    });
    it('accepts line breaks (LF and CRLF) and tabs in a reason, and sends and stores the trimmed text', async () => {
      const reason = 'T-8 first line\r\nsecond line\n\tindented';
      const input = { userId: 'user_2abcXYZ', amount: 2, reason: ` \r\n ${reason} \t\n`, idempotencyKey: newKey() };
      const response = await adjust(app, input);
      expect(response.status).toBe(200);
      expect(response.body.data!.adjustCredits).toMatchObject({ reason, balance: 252 });
      expect((await adjust(app, input)).body.data!.adjustCredits).toMatchObject({ reason, replayed: true });
      expect(emulator.transactions.map((transaction) => transaction.reference)).toEqual([reason]);
    });

    it('counts only visible characters towards the three a reason needs', async () => {
      const reason = 'a\u200bb\u200dc';
      expect((await adjust(app, { userId: 'user_2abcXYZ', amount: 1, reason })).body.data!.adjustCredits).toMatchObject({ reason });
      const tooFew = await adjust(app, { userId: 'user_2abcXYZ', amount: 1, reason: 'a\u200b\u200b\u200bb' });
      expect(tooFew.body.errors?.[0]?.extensions).toMatchObject({ code: 'invalid_argument', status: 400, field: 'reason' });
      expect(emulator.transactions).toHaveLength(1);
    });
  });

  describe('upstream outcomes', () => {
    it('answers 422 insufficient_balance with the current balance, and leaves it unchanged', async () => {
      const response = await adjust(app, { userId: 'user_2abcXYZ', amount: -251, reason: 'T-2 chargeback' });
      expect(response.status).toBe(422);
      expect(response.body.errors?.[0]).toMatchObject({
        message: 'insufficient_balance: the deduction would take the balance below zero',
        extensions: { code: 'insufficient_balance', status: 422, balance: 250 },
      });
      expect(response.body.data).toEqual({ adjustCredits: null });
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(250);
      expect(emulator.transactions).toHaveLength(0);
    });

    it('answers 422 balance_limit_exceeded above 2,000,000,000', async () => {
      const response = await adjust(app, { userId: 'user_demo_rich', amount: 1_999_900_001, reason: 'T-3 too much' });
      expect([response.status, errorCode(response)]).toEqual([422, 'balance_limit_exceeded']);
      expect(emulator.balanceOf('user_demo_rich', 'CRD')).toBe(100_000);
    });

    it('answers 404 rc_customer_not_found for an unknown customer', async () => {
      const response = await adjust(app, { userId: 'user_never_seen', amount: 5, reason: 'T-4 welcome' });
      expect([response.status, errorCode(response)]).toEqual([404, 'rc_customer_not_found']);
    });

    it('answers 502 rc_call_failed: <type> for other upstream failures', async () => {
      emulator.injectFault({ endpoint: 'create_transaction', status: 403, count: Infinity });
      const response = await adjust(app, { userId: 'user_2abcXYZ', amount: 5, reason: 'T-5 forbidden' });
      expect(response.status).toBe(502);
      expect(response.body.errors?.[0]).toMatchObject({
        message: 'rc_call_failed: authorization_error',
        extensions: { code: 'rc_call_failed', status: 502, rcType: 'authorization_error' },
      });
      expect(emulator.count('create_transaction')).toBe(1);
    });

    it('keeps one failed alias from hiding the others: 200 with a per-field error', async () => {
      const response = await app.client.query<{ ok: unknown; broke: unknown }>(
        `mutation {
          ok: adjustCredits(input: { userId: "user_2abcXYZ", amount: 5, reason: "T-6 ok" }) { balance }
          broke: adjustCredits(input: { userId: "user_2abcXYZ", amount: -9999, reason: "T-6 too much" }) { balance }
        }`,
      );
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual({ ok: { balance: 255 }, broke: null });
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors?.[0]).toMatchObject({ path: ['broke'], extensions: { code: 'insufficient_balance', balance: 255 } });
    });
  });

  describe('exactly once', () => {
    it('replays a finished key: the first result, replayed, and one upstream transaction', async () => {
      const input = { userId: 'user_2abcXYZ', amount: 40, reason: 'T-10 double click', idempotencyKey: newKey() };
      const first = (await adjust(app, input)).body.data!.adjustCredits!;
      const second = (await adjust(app, input)).body.data!.adjustCredits!;
      expect(first.replayed).toBe(false);
      expect(second).toEqual({ ...first, replayed: true });
      expect(second.balance).toBe(290);
      expect(emulator.count('create_transaction')).toBe(1);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(290);
    });

    it('replays a finished key while RevenueCat fails every call, without calling it', async () => {
      // No currency cache, so a currency check would have to ask RevenueCat.
      const uncached = await startApp({ emulator, env: { CURRENCY_CACHE_TTL_SECONDS: '0' } });
      try {
        const input = { userId: 'user_2abcXYZ', amount: 12, reason: 'T-10 replay in an outage', idempotencyKey: newKey() };
        const first = (await adjust(uncached, input)).body.data!.adjustCredits!;
        emulator.injectFault({ status: 503, count: Infinity });
        const calls = emulator.requests.length;
        const replay = await adjust(uncached, input);
        expect(replay.status).toBe(200);
        expect(replay.body.data!.adjustCredits).toEqual({ ...first, replayed: true });
        expect(emulator.requests.length - calls).toBe(0);
      } finally {
        await uncached.close();
      }
    });

    it('releases the key when the currency cannot be checked, so a later call proceeds', async () => {
      const uncached = await startApp({ emulator, env: { CURRENCY_CACHE_TTL_SECONDS: '0', REVENUECAT_MAX_RETRIES: '0' } });
      try {
        const input = { userId: 'user_2abcXYZ', amount: 13, reason: 'T-10 catalogue down', idempotencyKey: newKey() };
        emulator.injectFault({ endpoint: 'list_currencies', status: 503, count: Infinity });
        const failed = await adjust(uncached, input);
        expect([failed.status, failed.body.errors?.[0]?.message]).toEqual([502, 'rc_call_failed: server_error']);
        emulator.clearFaults();
        expect((await adjust(uncached, input)).body.data!.adjustCredits).toMatchObject({ replayed: false, balance: 263 });
        // An unknown currency is not a stored outcome either: once the currency exists, the key works.
        const gems = { ...input, idempotencyKey: newKey(), currency: 'GEM' };
        const unknown = await adjust(uncached, gems);
        expect([unknown.status, errorCode(unknown)]).toEqual([400, 'unknown_currency']);
        emulator.addCurrency({ code: 'GEM', name: 'Gems' });
        emulator.addCustomer('user_2abcXYZ', { CRD: 263, GEM: 1 });
        expect((await adjust(uncached, gems)).body.data!.adjustCredits).toMatchObject({ replayed: false, balance: 14 });
        expect(emulator.transactions).toHaveLength(2);
      } finally {
        await uncached.close();
      }
    });

    it('takes the key from the Idempotency-Key header as well', async () => {
      const key = newKey();
      const input = { userId: 'user_2abcXYZ', amount: 1, reason: 'T-11 header key' };
      const first = await adjust(app, input, { 'Idempotency-Key': key });
      const second = await adjust(app, { ...input, idempotencyKey: key });
      expect(first.body.data!.adjustCredits!.idempotencyKey).toBe(key);
      expect(second.body.data!.adjustCredits!.replayed).toBe(true);
      expect(emulator.count('create_transaction')).toBe(1);
    });

    it('refuses an Idempotency-Key header that differs from the input key', async () => {
      const response = await adjust(app, { userId: 'user_2abcXYZ', amount: 1, reason: 'T-12 two keys', idempotencyKey: 'a-key' }, { 'Idempotency-Key': 'another-key' });
      expect([response.status, errorCode(response)]).toEqual([400, 'invalid_argument']);
      expect(emulator.count('create_transaction')).toBe(0);
    });

    it('answers 422 idempotency_key_reused for the same key with another amount', async () => {
      const key = newKey();
      await adjust(app, { userId: 'user_2abcXYZ', amount: 10, reason: 'T-13 first', idempotencyKey: key });
      const response = await adjust(app, { userId: 'user_2abcXYZ', amount: 11, reason: 'T-13 first', idempotencyKey: key });
      expect(response.status).toBe(422);
      expect(response.body.errors?.[0]?.extensions).toEqual({
        code: 'idempotency_key_reused',
        status: 422,
        field: 'idempotencyKey',
        requestId: response.headers.get('x-request-id'),
      });
      expect(emulator.count('create_transaction')).toBe(1);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(260);
    });

    it('lets only one of two concurrent requests with one key through', async () => {
      emulator.injectFault({ endpoint: 'create_transaction', latencyMs: 300 });
      const input = { userId: 'user_2abcXYZ', amount: 25, reason: 'T-14 race', idempotencyKey: newKey() };
      const [a, b] = await Promise.all([adjust(app, input), adjust(app, input)]);
      const statuses = [a.status, b.status].sort();
      expect(statuses).toEqual([200, 409]);
      const loser = a.status === 409 ? a : b;
      expect(errorCode(loser)).toBe('idempotency_key_in_progress');
      expect(emulator.count('create_transaction')).toBe(1);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(275);
      expect((await adjust(app, input)).body.data!.adjustCredits!.replayed).toBe(true);
    });

    it('retries an upstream 503 with the same upstream Idempotency-Key', async () => {
      const key = newKey();
      emulator.injectFault({ endpoint: 'create_transaction', status: 503, backoffMs: 5 });
      const response = await adjust(app, { userId: 'user_2abcXYZ', amount: 5, reason: 'T-15 flaky', idempotencyKey: key });
      expect(response.body.data!.adjustCredits!.balance).toBe(255);
      expect(upstreamAttempts(emulator).map((request) => request.idempotencyKey)).toEqual([upstreamKeyFor(key), upstreamKeyFor(key)]);
      expect(emulator.transactions).toHaveLength(1);
    });

    it('uses one fresh upstream key for all attempts of a request without a key', async () => {
      emulator.injectFault({ endpoint: 'create_transaction', status: 503, backoffMs: 5 });
      await adjust(app, { userId: 'user_2abcXYZ', amount: 5, reason: 'T-16 no key' });
      const keys = upstreamAttempts(emulator).map((request) => request.idempotencyKey);
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/^cag_[0-9a-f]{64}$/);
      expect(keys[1]).toBe(keys[0]);
    });

    it('releases the key after a transient failure, and the retry applies once', async () => {
      const input = { userId: 'user_2abcXYZ', amount: 30, reason: 'T-17 outage', idempotencyKey: newKey() };
      emulator.injectFault({ endpoint: 'create_transaction', status: 503, backoffMs: 1, count: Infinity });
      const failed = await adjust(app, input);
      expect([failed.status, failed.body.errors?.[0]?.message]).toEqual([502, 'rc_call_failed: server_error']);
      emulator.clearFaults();
      const retried = await adjust(app, input);
      expect(retried.body.data!.adjustCredits).toMatchObject({ replayed: false, balance: 280 });
      expect(emulator.transactions).toHaveLength(1);
    });

    it('stores and replays a definitive failure without calling RevenueCat again', async () => {
      const input = { userId: 'user_2abcXYZ', amount: -1000, reason: 'T-18 too much', idempotencyKey: newKey() };
      const first = await adjust(app, input);
      emulator.addCustomer('user_2abcXYZ', { CRD: 5000 });
      const second = await adjust(app, input);
      expect(second.status).toBe(422);
      const withoutRequestId = (error: any) => ({ ...error, extensions: { ...error.extensions, requestId: undefined } });
      expect(withoutRequestId(second.body.errors?.[0])).toEqual(withoutRequestId(first.body.errors?.[0]));
      expect(second.body.errors?.[0]?.extensions?.requestId).not.toBe(first.body.errors?.[0]?.extensions?.requestId);
      expect(emulator.count('create_transaction')).toBe(1);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(5000);
    });

    it('after an upstream timeout, a caller retry applies the adjustment once', async () => {
      const impatient = await startApp({ emulator, env: { REVENUECAT_TIMEOUT_MS: '150', REVENUECAT_MAX_RETRIES: '0' } });
      try {
        const input = { userId: 'user_2abcXYZ', amount: 70, reason: 'T-19 slow upstream', idempotencyKey: newKey() };
        // RevenueCat applies the transaction, but its answer arrives after our timeout.
        emulator.injectFault({ endpoint: 'create_transaction', latencyMs: 600, applyFirst: true });
        const timedOut = await adjust(impatient, input);
        expect([timedOut.status, timedOut.body.errors?.[0]?.message]).toEqual([502, 'rc_call_failed: timeout']);
        expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(320);
        const retried = await adjust(impatient, input);
        expect(retried.body.data!.adjustCredits).toMatchObject({ balance: 320, replayed: false });
        expect(emulator.transactions).toHaveLength(1);
        expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(320);
      } finally {
        await impatient.close();
      }
    });

    it('maps RevenueCat 409 idempotency_error (our record lost) to idempotency_key_reused', async () => {
      const key = newKey();
      await adjust(app, { userId: 'user_2abcXYZ', amount: 10, reason: 'T-20 first', idempotencyKey: key });
      const amnesiac = await startApp({ emulator });
      try {
        const response = await adjust(amnesiac, { userId: 'user_2abcXYZ', amount: 99, reason: 'T-20 first', idempotencyKey: key });
        expect([response.status, errorCode(response)]).toEqual([422, 'idempotency_key_reused']);
        expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(260);
      } finally {
        await amnesiac.close();
      }
    });
  });

  describe('audit log', () => {
    it('writes one structured line per attempt, with the credential label and never a secret', async () => {
      const log = jest.spyOn(Logger.prototype, 'log');
      try {
        const key = newKey();
        await adjust(app, { userId: 'user_2abcXYZ', amount: 15, reason: 'T-21 audited', idempotencyKey: key });
        await adjust(app, { userId: 'user_2abcXYZ', amount: 15, reason: 'T-21 audited', idempotencyKey: key });
        await adjust(app, { userId: 'user_2abcXYZ', amount: -9999, reason: 'T-21 refused' });
        const lines = log.mock.calls.map(([entry]) => entry).filter((entry: any) => entry?.event === 'credits.adjustment');
        expect(lines).toEqual([
          expect.objectContaining({
            actor: 'admin',
            userId: 'user_2abcXYZ',
            currency: 'CRD',
            amount: 15,
            reason: 'T-21 audited',
            idempotencyKey: key,
            outcome: 'applied',
            replayed: false,
            balance: 265,
          }),
          expect.objectContaining({ outcome: 'replayed', replayed: true, balance: 265 }),
          expect.objectContaining({ amount: -9999, outcome: 'insufficient_balance', replayed: false, idempotencyKey: expect.stringMatching(/^gw_[0-9a-f-]{36}$/) }),
        ]);
        const text = JSON.stringify(lines);
        expect(text).not.toContain(ADMIN_SECRET);
        expect(text).not.toContain(emulator.apiKey);
      } finally {
        log.mockRestore();
      }
    });
  });
});

describeWithRedis('adjustCredits across instances sharing one Redis', () => {
  const emulator = new RevenueCatEmulator();
  let instances: TwoInstances | undefined;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    await emulator.listen();
    instances = await startTwoInstancesOnRedis({ emulator });
    ({ first, second } = instances);
  });
  afterAll(async () => {
    await instances?.close();
    await emulator.close();
  });
  beforeEach(() => emulator.reset());

  it('applies one key given to two instances at once exactly once', async () => {
    emulator.injectFault({ endpoint: 'create_transaction', latencyMs: 300 });
    const input = { userId: 'user_2abcXYZ', amount: 60, reason: 'T-30 two instances', idempotencyKey: newKey() };
    const responses: Array<GraphQLResponse<AdjustResult>> = await Promise.all([adjust(first, input), adjust(second, input)]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    expect(emulator.count('create_transaction')).toBe(1);
    expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(310);
    const replays = await Promise.all([adjust(first, input), adjust(second, input)]);
    expect(replays.map((response) => response.body.data!.adjustCredits!.replayed)).toEqual([true, true]);
    expect(replays[0].body.data!.adjustCredits!.id).toBe(replays[1].body.data!.adjustCredits!.id);
    expect(emulator.count('create_transaction')).toBe(1);
  });

  it('sees a key used on one instance as reused on the other', async () => {
    const key = newKey();
    await adjust(first, { userId: 'user_2abcXYZ', amount: 1, reason: 'T-31 one', idempotencyKey: key });
    const response = await adjust(second, { userId: 'user_2abcXYZ', amount: 2, reason: 'T-31 one', idempotencyKey: key });
    expect([response.status, errorCode(response)]).toEqual([422, 'idempotency_key_reused']);
    expect(emulator.count('create_transaction')).toBe(1);
  });
});
