import { request as httpRequest, Agent } from 'node:http';
import { EMULATOR_DEFAULT_API_KEY, EMULATOR_DEFAULT_PROJECT_ID, EmulatorCurrency, RevenueCatEmulator, RevenueCatEmulatorOptions } from './revenuecat-emulator';

const AUTH = { Authorization: `Bearer ${EMULATOR_DEFAULT_API_KEY}` };
const JSON_AUTH = { ...AUTH, 'Content-Type': 'application/json' };
const P = `/projects/${EMULATOR_DEFAULT_PROJECT_ID}`;
const CRD_DESCRIPTION = 'Credits spent on generations';

function currencies(count: number): EmulatorCurrency[] {
  return Array.from({ length: count }, (_, i) => ({
    code: `C${String(i + 1).padStart(3, '0')}`,
    name: `Currency ${i + 1}`,
  }));
}

function crdBalance(balance: number) {
  return {
    object: 'virtual_currency_balance',
    currency_code: 'CRD',
    balance,
    name: 'Credits',
    description: CRD_DESCRIPTION,
  };
}

function errorBody(type: string, message: string, extra: Record<string, unknown> = {}) {
  return {
    object: 'error',
    type,
    message,
    retryable: false,
    doc_url: `https://errors.rev.cat/${type.replace(/_/g, '-')}`,
    ...extra,
  };
}

interface ListJson {
  object: string;
  items: Array<{ code: string; currency_code: string; balance: number }>;
  next_page: string | null;
  url: string;
}

interface ErrorJson {
  type: string;
  param?: string;
  backoff_ms?: number;
}

async function listJson(res: Response | Promise<Response>): Promise<ListJson> {
  return (await (await res).json()) as ListJson;
}

async function errorJson(res: Response | Promise<Response>): Promise<ErrorJson> {
  return (await (await res).json()) as ErrorJson;
}

describe('RevenueCatEmulator over HTTP', () => {
  let emulator: RevenueCatEmulator;
  let base: string;
  let origin: string;

  async function start(options?: RevenueCatEmulatorOptions): Promise<void> {
    await emulator?.close();
    emulator = new RevenueCatEmulator(options);
    base = await emulator.listen();
    origin = new URL(base).origin;
  }

  const get = (path: string, headers: Record<string, string> = AUTH) => fetch(`${base}${path}`, { headers });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { ...JSON_AUTH, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const customerPath = (id: string) => `${P}/customers/${encodeURIComponent(id)}/virtual_currencies`;
  const transactionPath = (id: string, query = '') => `${customerPath(id)}/transactions${query}`;

  beforeEach(async () => {
    await start();
  });

  afterEach(async () => {
    await emulator.close();
  });

  describe('listen and baseUrl', () => {
    it('resolves a 127.0.0.1 base URL ending in /v2 and exposes it', () => {
      expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2$/);
      expect(emulator.baseUrl).toBe(base);
    });

    it('throws from baseUrl when not listening', async () => {
      await emulator.close();
      expect(() => emulator.baseUrl).toThrow(/not listening/);
    });
  });

  describe('authentication and routing', () => {
    it('answers 401 authentication_error without a bearer, with rate-limit headers', async () => {
      const res = await get(`${P}/virtual_currencies`, {});
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('revenuecat-rate-limit-current-limit')).toBe('60');
      expect(res.headers.get('revenuecat-rate-limit-current-usage')).toBe('0');
      expect(await res.json()).toEqual(errorBody('authentication_error', 'Missing API key: send Authorization: Bearer <secret key>'));
    });

    it('answers 401 for a wrong key', async () => {
      const res = await get(`${P}/virtual_currencies`, { Authorization: 'Bearer sk_wrong' });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(errorBody('authentication_error', 'Invalid API key'));
      expect(emulator.count('list_currencies')).toBe(1);
    });

    it('answers 404 Project not found for another project', async () => {
      const res = await get('/projects/proj_other/virtual_currencies');
      expect(res.status).toBe(404);
      expect(res.headers.get('revenuecat-rate-limit-current-usage')).toBe('1');
      expect(await res.json()).toEqual(errorBody('resource_missing', 'Project not found'));
    });

    it('answers 404 resource_missing for an unknown route and records it as unknown', async () => {
      const res = await get(`${P}/entitlements`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual(errorBody('resource_missing', 'Resource not found'));
      expect(emulator.requests.map((r) => r.endpoint)).toEqual(['unknown']);
    });
  });

  describe('currencies', () => {
    it('lists the seeded CRD currency in the official shape', async () => {
      const res = await get(`${P}/virtual_currencies`);
      expect(res.status).toBe(200);
      expect(res.headers.get('revenuecat-rate-limit-current-usage')).toBe('1');
      expect(res.headers.get('revenuecat-rate-limit-current-limit')).toBe('60');
      const body = await res.json();
      expect(body).toEqual({
        object: 'list',
        items: [
          {
            object: 'virtual_currency',
            project_id: EMULATOR_DEFAULT_PROJECT_ID,
            code: 'CRD',
            name: 'Credits',
            created_at: expect.any(Number),
            description: CRD_DESCRIPTION,
            product_grants: [
              {
                object: 'virtual_currency.product_grant',
                product_ids: ['app.credits.starter.monthly'],
                amount: 100,
                trial_amount: 10,
                expire_at_cycle_end: true,
              },
              {
                object: 'virtual_currency.product_grant',
                product_ids: ['app.credits.pro.monthly', 'app.credits.pro.annual'],
                amount: 1000,
                trial_amount: 50,
                expire_at_cycle_end: true,
              },
              {
                object: 'virtual_currency.product_grant',
                product_ids: ['app.credits.max.monthly'],
                amount: 5000,
                trial_amount: 0,
                expire_at_cycle_end: true,
              },
            ],
          },
        ],
        next_page: null,
        url: `/v2${P}/virtual_currencies`,
      });
    });

    it('pages 25 currencies with the default limit of 20, next_page resolved against the origin', async () => {
      emulator.setCurrencies(currencies(25));
      const first = await listJson(get(`${P}/virtual_currencies`));
      expect(first.items).toHaveLength(20);
      expect(first.items[0].code).toBe('C001');
      expect(first.items[19].code).toBe('C020');
      expect(first.next_page).toBe(`/v2${P}/virtual_currencies?starting_after=C020&limit=20`);

      const second = await listJson(fetch(new URL(first.next_page as string, origin), { headers: AUTH }));
      expect(second.items.map((c: { code: string }) => c.code)).toEqual(['C021', 'C022', 'C023', 'C024', 'C025']);
      expect(second.next_page).toBeNull();
    });

    it('pages 101 currencies: every code once, in insertion order', async () => {
      emulator.setCurrencies(currencies(101));
      const seen: string[] = [];
      let next: string | null = `/v2${P}/virtual_currencies`;
      let pages = 0;
      while (next) {
        const res = await fetch(new URL(next, origin), { headers: AUTH });
        expect(res.status).toBe(200);
        const page = await listJson(res);
        seen.push(...page.items.map((c: { code: string }) => c.code));
        next = page.next_page;
        pages++;
      }
      expect(pages).toBe(6);
      expect(seen).toEqual(currencies(101).map((c) => c.code));
    });

    it('clamps limit=500 to 100 and limit=0 to 1, and falls back to 20 for a non-number', async () => {
      emulator.setCurrencies(currencies(101));
      const big = await listJson(get(`${P}/virtual_currencies?limit=500`));
      expect(big.items).toHaveLength(100);
      expect(big.next_page).toBe(`/v2${P}/virtual_currencies?starting_after=C100&limit=100`);
      const rest = await listJson(fetch(new URL(big.next_page as string, origin), { headers: AUTH }));
      expect(rest.items.map((c: { code: string }) => c.code)).toEqual(['C101']);
      expect(rest.next_page).toBeNull();

      const one = await listJson(get(`${P}/virtual_currencies?limit=0`));
      expect(one.items.map((c: { code: string }) => c.code)).toEqual(['C001']);
      expect(one.next_page).toBe(`/v2${P}/virtual_currencies?starting_after=C001&limit=1`);

      const fallback = await listJson(get(`${P}/virtual_currencies?limit=abc`));
      expect(fallback.items).toHaveLength(20);
    });

    it('rejects a starting_after that names no currency', async () => {
      const res = await get(`${P}/virtual_currencies?starting_after=ZZZ`);
      expect(res.status).toBe(400);
      expect((await errorJson(res)).param).toBe('starting_after');
    });
  });

  describe('balances', () => {
    it('lists a seeded customer balance', async () => {
      const res = await get(customerPath('user_2abcXYZ'));
      expect(res.status).toBe(200);
      expect(res.headers.get('revenuecat-rate-limit-current-limit')).toBe('480');
      expect(await res.json()).toEqual({
        object: 'list',
        items: [crdBalance(250)],
        next_page: null,
        url: `/v2${P}/customers/user_2abcXYZ/virtual_currencies`,
      });
    });

    it('omits zero balances unless include_empty_balances=true', async () => {
      emulator.addCurrency({ code: 'GEM', name: 'Gems' });
      const without = await listJson(get(customerPath('user_demo_empty')));
      expect(without.items).toEqual([]);

      const withEmpty = await listJson(get(`${customerPath('user_demo_empty')}?include_empty_balances=true`));
      expect(withEmpty.items).toEqual([crdBalance(0), { object: 'virtual_currency_balance', currency_code: 'GEM', balance: 0, name: 'Gems' }]);
    });

    it('pages balances in project currency order, keeping include_empty_balances in next_page', async () => {
      emulator.setCurrencies(currencies(25));
      emulator.addCustomer('pager', { C003: 3, C024: 24 });
      const first = await listJson(get(`${customerPath('pager')}?include_empty_balances=true&limit=10`));
      expect(first.items).toHaveLength(10);
      expect(first.items[2]).toEqual({
        object: 'virtual_currency_balance',
        currency_code: 'C003',
        balance: 3,
        name: 'Currency 3',
      });
      expect(first.next_page).toBe(`/v2${P}/customers/pager/virtual_currencies?include_empty_balances=true&starting_after=C010&limit=10`);
      const codes = first.items.map((b: { currency_code: string }) => b.currency_code);
      let next: string | null = first.next_page;
      while (next) {
        const page = await listJson(fetch(new URL(next, origin), { headers: AUTH }));
        codes.push(...page.items.map((b: { currency_code: string }) => b.currency_code));
        next = page.next_page;
      }
      expect(codes).toEqual(currencies(25).map((c) => c.code));

      const nonEmpty = await listJson(get(`${customerPath('pager')}?limit=1`));
      expect(nonEmpty.items.map((b: { balance: number }) => b.balance)).toEqual([3]);
      const last = await listJson(fetch(new URL(nonEmpty.next_page as string, origin), { headers: AUTH }));
      expect(last.items.map((b: { balance: number }) => b.balance)).toEqual([24]);
      expect(last.next_page).toBeNull();
    });

    it('decodes encoded customer ids: a slash, a space, unicode', async () => {
      for (const id of ['a/b c', 'user/../x', 'ユーザー🎉', 'plus+sign%']) {
        emulator.addCustomer(id, { CRD: 7 });
        const res = await get(customerPath(id));
        expect(res.status).toBe(200);
        const body = await listJson(res);
        expect(body.items).toEqual([crdBalance(7)]);
        expect(body.url).toBe(`/v2${P}/customers/${encodeURIComponent(id)}/virtual_currencies`);
      }
      const tx = await post(transactionPath('a/b c'), { adjustments: { CRD: 3 } });
      expect(tx.status).toBe(200);
      expect(emulator.balanceOf('a/b c', 'CRD')).toBe(10);
      expect(emulator.requests.at(-1)?.customerId).toBe('a/b c');
      expect(emulator.count('list_balances', 'ユーザー🎉')).toBe(1);
    });

    it('rejects a badly encoded or over-long customer id with 400 parameter_error customer_id', async () => {
      const bad = await get(`${P}/customers/user%E0%A4%A/virtual_currencies`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual(errorBody('parameter_error', 'customer_id is not valid URL encoding', { param: 'customer_id' }));

      const long = await get(customerPath('x'.repeat(1501)));
      expect(long.status).toBe(400);
      expect(await long.json()).toEqual(errorBody('parameter_error', 'customer_id must be at most 1500 characters', { param: 'customer_id' }));

      emulator.addCustomer('x'.repeat(1500));
      expect((await get(customerPath('x'.repeat(1500)))).status).toBe(200);
    });

    it('answers 404 Customer not found for an unknown customer', async () => {
      const res = await get(customerPath('user_never_seen'));
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual(errorBody('resource_missing', 'Customer not found', { param: 'customer_id' }));
      expect(emulator.hasCustomer('user_never_seen')).toBe(false);
    });
  });

  describe('transactions', () => {
    it('applies a grant and a deduction and answers the balances', async () => {
      const grant = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 50 }, reference: 'ticket-1' });
      expect(grant.status).toBe(200);
      expect(grant.headers.get('revenuecat-rate-limit-current-limit')).toBe('480');
      expect(grant.headers.get('revenuecat-idempotent-replayed')).toBeNull();
      expect(await grant.json()).toEqual({
        object: 'list',
        items: [crdBalance(300)],
        next_page: null,
        url: `/v2${P}/customers/user_2abcXYZ/virtual_currencies`,
      });

      const deduct = await post(transactionPath('user_2abcXYZ', '?include_empty_balances=true'), {
        adjustments: { CRD: -300 },
      });
      expect((await listJson(deduct)).items).toEqual([crdBalance(0)]);

      const empty = await post(transactionPath('user_demo_empty'), { adjustments: { CRD: 0 }, reference: null });
      expect((await listJson(empty)).items).toEqual([]);

      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(0);
      expect(emulator.transactions).toEqual([
        { id: expect.any(String), customerId: 'user_2abcXYZ', adjustments: { CRD: 50 }, reference: 'ticket-1', at: expect.any(Number) },
        { id: expect.any(String), customerId: 'user_2abcXYZ', adjustments: { CRD: -300 }, reference: null, at: expect.any(Number) },
        { id: expect.any(String), customerId: 'user_demo_empty', adjustments: { CRD: 0 }, reference: null, at: expect.any(Number) },
      ]);
      expect(new Set(emulator.transactions.map((t) => t.id)).size).toBe(3);
    });

    it('is atomic across currencies: one failing adjustment changes nothing', async () => {
      emulator.addCurrency({ code: 'GEM', name: 'Gems' });
      emulator.addCustomer('multi', { CRD: 10, GEM: 5 });
      const res = await post(transactionPath('multi'), { adjustments: { CRD: 5, GEM: -6 } });
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual(errorBody('unprocessable_entity_error', 'Insufficient balance for virtual currency GEM: the balance is 5'));
      expect(emulator.balanceOf('multi', 'CRD')).toBe(10);
      expect(emulator.balanceOf('multi', 'GEM')).toBe(5);
      expect(emulator.transactions).toEqual([]);

      const ok = await post(transactionPath('multi'), { adjustments: { CRD: 5, GEM: -5 } });
      expect((await listJson(ok)).items).toEqual([crdBalance(15)]);
    });

    it('caps a balance at 2,000,000,000', async () => {
      const toCap = await post(transactionPath('user_demo_rich'), { adjustments: { CRD: 2_000_000_000 - 100_000 } });
      expect(toCap.status).toBe(200);
      expect((await listJson(toCap)).items).toEqual([crdBalance(2_000_000_000)]);

      const over = await post(transactionPath('user_demo_rich'), { adjustments: { CRD: 1 } });
      expect(over.status).toBe(422);
      expect(await over.json()).toEqual(errorBody('unprocessable_entity_error', 'The balance of virtual currency CRD cannot exceed 2000000000'));
      expect(emulator.balanceOf('user_demo_rich', 'CRD')).toBe(2_000_000_000);
    });

    it('answers 404 for an unknown customer and never creates one', async () => {
      const res = await post(transactionPath('ghost'), { adjustments: { CRD: 5 } });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual(errorBody('resource_missing', 'Customer not found', { param: 'customer_id' }));
      expect(emulator.hasCustomer('ghost')).toBe(false);
    });

    it('validates the request: content type, JSON, properties, adjustments, currency', async () => {
      const cases: Array<{ body: string; headers?: Record<string, string>; type: string; param?: string }> = [
        { body: '{"adjustments":{"CRD":1}}', headers: { 'Content-Type': 'text/plain' }, type: 'invalid_request' },
        { body: '{"adjustments":', type: 'invalid_request' },
        { body: '[1]', type: 'invalid_request' },
        { body: '{"adjustments":{"CRD":1},"amount":1}', type: 'parameter_error', param: 'amount' },
        { body: '{"reference":"x"}', type: 'parameter_error', param: 'adjustments' },
        { body: '{"adjustments":{}}', type: 'parameter_error', param: 'adjustments' },
        { body: '{"adjustments":{"CRD":1.5}}', type: 'parameter_error', param: 'adjustments' },
        { body: '{"adjustments":{"CRD":"5"}}', type: 'parameter_error', param: 'adjustments' },
        { body: '{"adjustments":{"CRD":9007199254740993}}', type: 'parameter_error', param: 'adjustments' },
        { body: '{"adjustments":{"CRD":1},"reference":5}', type: 'parameter_error', param: 'reference' },
        { body: '{"adjustments":{"XYZ":1}}', type: 'parameter_error', param: 'adjustments' },
      ];
      for (const c of cases) {
        const res = await post(transactionPath('user_2abcXYZ'), c.body, c.headers);
        expect({ body: c.body, status: res.status }).toEqual({ body: c.body, status: 400 });
        const error = await errorJson(res);
        expect(error.type).toBe(c.type);
        expect(error.param).toBe(c.param);
      }
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(250);
      expect(emulator.transactions).toEqual([]);
    });

    it('answers 400 invalid_request to a body over 64 KiB and keeps serving', async () => {
      const huge = JSON.stringify({ adjustments: { CRD: 1 }, reference: 'x'.repeat(70 * 1024) });
      const res = await post(transactionPath('user_2abcXYZ'), huge);
      expect(res.status).toBe(400);
      expect((await errorJson(res)).type).toBe('invalid_request');
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(250);
      expect((await get(customerPath('user_2abcXYZ'))).status).toBe(200);
    });
  });

  describe('idempotency', () => {
    it('replays the stored response for the same key and body, without a second transaction', async () => {
      const key = { 'Idempotency-Key': 'idem-1' };
      const first = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 25 }, reference: 'r' }, key);
      const firstBody = await first.text();
      expect(first.status).toBe(200);

      emulator.addCustomer('user_2abcXYZ', { CRD: 1 });
      // Key order differs: the fingerprint uses a canonical body.
      const again = await post(transactionPath('user_2abcXYZ'), '{"reference":"r","adjustments":{"CRD":25}}', key);
      expect(again.status).toBe(200);
      expect(again.headers.get('revenuecat-idempotent-replayed')).toBe('true');
      expect(await again.text()).toBe(firstBody);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(1);
      expect(emulator.transactions).toHaveLength(1);
      expect(emulator.transactions[0].idempotencyKey).toBe('idem-1');
      expect(emulator.requests.map((r) => [r.status, r.replayed])).toEqual([
        [200, false],
        [200, true],
      ]);
      expect(emulator.count('create_transaction')).toBe(2);
    });

    it('answers 409 idempotency_error when the key is reused for a different request', async () => {
      const key = { 'Idempotency-Key': 'idem-2' };
      await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 25 } }, key);
      const differentBody = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 26 } }, key);
      expect(differentBody.status).toBe(409);
      expect(await differentBody.json()).toEqual(errorBody('idempotency_error', 'Idempotency key already used for a different request'));
      const differentCustomer = await post(transactionPath('user_demo_rich'), { adjustments: { CRD: 25 } }, key);
      expect(differentCustomer.status).toBe(409);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(275);
      expect(emulator.balanceOf('user_demo_rich', 'CRD')).toBe(100_000);
    });

    it('stores and replays a definitive 422', async () => {
      const key = { 'Idempotency-Key': 'idem-3' };
      const first = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: -1000 } }, key);
      expect(first.status).toBe(422);
      emulator.addCustomer('user_2abcXYZ', { CRD: 5000 });
      const again = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: -1000 } }, key);
      expect(again.status).toBe(422);
      expect(again.headers.get('revenuecat-idempotent-replayed')).toBe('true');
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(5000);
    });
  });

  describe('faults', () => {
    it('answers an injected 503 twice, then lets the same key through once', async () => {
      emulator.injectFault({ endpoint: 'create_transaction', status: 503, count: 2 });
      const key = { 'Idempotency-Key': 'retry-me' };
      for (let i = 0; i < 2; i++) {
        const res = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 10 } }, key);
        expect(res.status).toBe(503);
        expect(res.headers.get('revenuecat-rate-limit-current-usage')).toBe(String(i + 1));
        expect(await res.json()).toEqual({
          ...errorBody('server_error', 'Injected server_error (emulator fault)'),
          retryable: true,
          backoff_ms: 100,
        });
      }
      const ok = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 10 } }, key);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('revenuecat-idempotent-replayed')).toBeNull();
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(260);
      expect(emulator.transactions).toHaveLength(1);
      expect(emulator.count('create_transaction')).toBe(3);
    });

    it('matches faults by customer and endpoint, with custom type and Retry-After', async () => {
      emulator.injectFault({ customerId: 'user_demo_rich', status: 429, retryAfterSeconds: 7, count: Infinity });
      expect((await get(customerPath('user_2abcXYZ'))).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const res = await get(customerPath('user_demo_rich'));
        expect(res.status).toBe(429);
        expect(res.headers.get('retry-after')).toBe('7');
        expect((await errorJson(res)).type).toBe('rate_limit_error');
      }
      emulator.clearFaults();
      emulator.injectFault({ endpoint: 'list_balances', status: 423, type: 'resource_locked_error', backoffMs: 5 });
      expect((await get(`${P}/virtual_currencies`)).status).toBe(200);
      const locked = await get(customerPath('user_2abcXYZ'));
      expect(locked.status).toBe(423);
      expect((await errorJson(locked)).backoff_ms).toBe(5);
      expect((await get(customerPath('user_2abcXYZ'))).status).toBe(200);
    });

    it('applyFirst with latency: the change lands although the caller gave up, and a retry replays it', async () => {
      emulator.injectFault({ endpoint: 'create_transaction', latencyMs: 400, applyFirst: true });
      const key = { 'Idempotency-Key': 'late-reply' };
      await expect(
        fetch(`${base}${transactionPath('user_2abcXYZ')}`, {
          method: 'POST',
          headers: { ...JSON_AUTH, ...key },
          body: JSON.stringify({ adjustments: { CRD: 5 } }),
          signal: AbortSignal.timeout(50),
        }),
      ).rejects.toThrow();
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(255);

      const retry = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 5 } }, key);
      expect(retry.status).toBe(200);
      expect(retry.headers.get('revenuecat-idempotent-replayed')).toBe('true');
      expect((await listJson(retry)).items).toEqual([crdBalance(255)]);
      expect(emulator.transactions).toHaveLength(1);
    });

    it('applyFirst with an error status: state changes, the caller sees the error', async () => {
      emulator.injectFault({ endpoint: 'create_transaction', applyFirst: true, status: 502 });
      const res = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 5 } });
      expect(res.status).toBe(502);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(255);
    });

    it('latency without applyFirst holds the key: a concurrent same-key request gets 423', async () => {
      emulator.injectFault({ endpoint: 'create_transaction', latencyMs: 200 });
      const key = { 'Idempotency-Key': 'slow' };
      const slow = post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 5 } }, key);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(250);
      const concurrent = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 5 } }, key);
      expect(concurrent.status).toBe(423);
      expect(await concurrent.json()).toEqual({
        ...errorBody('resource_locked_error', 'A request with this idempotency key is still being processed'),
        retryable: true,
        backoff_ms: 100,
      });
      expect((await slow).status).toBe(200);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(255);
    });

    it('destroySocket drops the connection and changes nothing', async () => {
      emulator.injectFault({ endpoint: 'create_transaction', destroySocket: true });
      await expect(post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 5 } })).rejects.toThrow(/fetch failed/);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(250);
      expect(emulator.requests[0].status).toBe(0);
      expect((await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 5 } })).status).toBe(200);
    });

    it('rawBody answers a body verbatim', async () => {
      emulator.injectFault({ endpoint: 'list_balances', rawBody: '<html>gateway</html>' });
      emulator.injectFault({ endpoint: 'list_balances', rawBody: '{"partial":', status: 500 });
      const first = await get(customerPath('user_2abcXYZ'));
      expect(first.status).toBe(200);
      expect(await first.text()).toBe('<html>gateway</html>');
      const second = await get(customerPath('user_2abcXYZ'));
      expect(second.status).toBe(500);
      expect(await second.text()).toBe('{"partial":');
      expect((await get(customerPath('user_2abcXYZ'))).status).toBe(200);
    });

    it('marks an injected error retryable exactly for 423, 429, 500 and 503, as the README lists them', async () => {
      const statuses = [400, 404, 409, 422, 423, 429, 500, 502, 503, 504];
      for (const status of statuses) emulator.injectFault({ endpoint: 'list_currencies', status });
      const retryable: Record<number, boolean> = {};
      for (const status of statuses) {
        const res = await get(`${P}/virtual_currencies`);
        expect(res.status).toBe(status);
        retryable[status] = ((await res.json()) as { retryable: boolean }).retryable;
      }
      expect(retryable).toEqual({
        400: false,
        404: false,
        409: false,
        422: false,
        423: true,
        429: true,
        500: true,
        502: false,
        503: true,
        504: false,
      });
    });

    it('rejects an invalid fault', () => {
      expect(() => emulator.injectFault({ endpoint: 'nope' as never })).toThrow(/Unknown endpoint/);
      expect(() => emulator.injectFault({ count: 0 })).toThrow(/count/);
    });
  });

  describe('rate limits', () => {
    it('answers 429 with Retry-After in a fixed one-minute window, using the injected clock', async () => {
      let now = 1_700_000_080_500; // 40.5 s into a minute
      await start({ now: () => now, rateLimits: { project_configuration: 2 } });
      for (const usage of ['1', '2']) {
        const res = await get(`${P}/virtual_currencies`);
        expect(res.status).toBe(200);
        expect(res.headers.get('revenuecat-rate-limit-current-usage')).toBe(usage);
        expect(res.headers.get('revenuecat-rate-limit-current-limit')).toBe('2');
      }
      const limited = await get(`${P}/virtual_currencies`);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('20');
      expect(limited.headers.get('revenuecat-rate-limit-current-usage')).toBe('3');
      expect(await limited.json()).toEqual({
        ...errorBody('rate_limit_error', 'Rate limit of 2 requests per minute exceeded'),
        retryable: true,
        backoff_ms: 20_000,
      });

      // Other domains have their own windows.
      expect((await get(customerPath('user_2abcXYZ'))).status).toBe(200);

      now += 19_000;
      const almost = await get(`${P}/virtual_currencies`);
      expect(almost.headers.get('retry-after')).toBe('1');

      now += 1_000;
      const fresh = await get(`${P}/virtual_currencies`);
      expect(fresh.status).toBe(200);
      expect(fresh.headers.get('revenuecat-rate-limit-current-usage')).toBe('1');
    });

    it('can be turned off with Infinity', async () => {
      await start({ rateLimits: { project_configuration: Infinity } });
      for (let i = 0; i < 70; i++) expect((await get(`${P}/virtual_currencies`)).status).toBe(200);
      const res = await get(`${P}/virtual_currencies`);
      expect(res.headers.get('revenuecat-rate-limit-current-limit')).toBe('2147483647');
    });
  });

  describe('control API', () => {
    const control = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
      fetch(`${origin}/_emulator/${path}`, {
        method: init.method ?? 'GET',
        headers: init.headers ?? JSON_AUTH,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });

    it('requires the bearer key', async () => {
      const res = await control('stats', { headers: {} });
      expect(res.status).toBe(401);
    });

    it('creates customers and currencies, injects faults, reports stats, resets; none of it is counted', async () => {
      expect((await control('currencies', { method: 'POST', body: { code: 'GEM', name: 'Gems' } })).status).toBe(201);
      const created = await control('customers', { method: 'POST', body: { id: 'a/b', balances: { GEM: 3 } } });
      expect(created.status).toBe(201);
      expect(await created.json()).toEqual({ id: 'a/b', balances: { GEM: 3 } });
      const fetched = await control(`customers/${encodeURIComponent('a/b')}`);
      expect(await fetched.json()).toEqual({ id: 'a/b', balances: { GEM: 3 } });
      expect((await control('customers/ghost')).status).toBe(404);
      expect((await control('customers', { method: 'POST', body: { id: 'x', balances: { NOPE: 1 } } })).status).toBe(400);

      expect((await control('faults', { method: 'POST', body: { endpoint: 'list_currencies', status: 500, count: 'Infinity' } })).status).toBe(201);
      expect((await get(`${P}/virtual_currencies`)).status).toBe(500);
      expect((await get(`${P}/virtual_currencies`)).status).toBe(500);
      expect((await control('faults', { method: 'DELETE' })).status).toBe(200);
      expect((await get(`${P}/virtual_currencies`)).status).toBe(200);
      await post(transactionPath('a/b'), { adjustments: { GEM: 1 } });

      const stats = await (await control('stats')).json();
      expect(stats).toEqual({
        requests: { list_currencies: 3, list_balances: 0, create_transaction: 1, unknown: 0 },
        transactions: 1,
      });
      expect(emulator.requests.every((r) => !r.path.startsWith('/_emulator'))).toBe(true);

      expect((await control('reset', { method: 'POST' })).status).toBe(200);
      expect(emulator.hasCustomer('a/b')).toBe(false);
      expect(emulator.requests).toEqual([]);
      const afterReset = await get(`${P}/virtual_currencies`);
      expect(afterReset.headers.get('revenuecat-rate-limit-current-usage')).toBe('1');
    });
  });

  describe('state helpers', () => {
    it('reset restores the seed and clears faults, records, keys and counters', async () => {
      emulator.injectFault({ status: 500, count: Infinity });
      emulator.addCustomer('temp');
      await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 1 } }, { 'Idempotency-Key': 'k' });
      emulator.reset();
      expect(emulator.hasCustomer('temp')).toBe(false);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(250);
      expect(emulator.balanceOf('user_demo_rich', 'CRD')).toBe(100_000);
      expect(emulator.requests).toEqual([]);
      expect(emulator.count('create_transaction')).toBe(0);
      const res = await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 1 } }, { 'Idempotency-Key': 'k' });
      expect(res.status).toBe(200);
      expect(res.headers.get('revenuecat-idempotent-replayed')).toBeNull();
      expect(emulator.transactions).toHaveLength(1);
    });

    it('starts empty with seed: false', async () => {
      await start({ seed: false, apiKey: 'sk_custom', projectId: 'proj_x' });
      expect(emulator.hasCustomer('user_2abcXYZ')).toBe(false);
      const res = await fetch(`${base}/projects/proj_x/virtual_currencies`, { headers: { Authorization: 'Bearer sk_custom' } });
      expect((await listJson(res)).items).toEqual([]);
      expect(() => emulator.balanceOf('user_2abcXYZ', 'CRD')).toThrow(/Unknown emulator customer/);
    });

    it('record: false keeps counts but no request or transaction lists', async () => {
      await start({ record: false });
      await post(transactionPath('user_2abcXYZ'), { adjustments: { CRD: 1 } });
      expect(emulator.requests).toEqual([]);
      expect(emulator.transactions).toEqual([]);
      expect(emulator.count('create_transaction')).toBe(1);
      expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(251);
    });
  });

  describe('close', () => {
    it('finishes quickly with an open keep-alive connection', async () => {
      const agent = new Agent({ keepAlive: true });
      const { port } = new URL(base);
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: `/v2${P}/virtual_currencies`, headers: AUTH, agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
      expect(Object.keys(agent.freeSockets)).toHaveLength(1);
      const started = Date.now();
      await emulator.close();
      expect(Date.now() - started).toBeLessThan(500);
      agent.destroy();
    });

    it('cancels a pending latency fault', async () => {
      emulator.injectFault({ latencyMs: 60_000 });
      const pending = get(`${P}/virtual_currencies`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await emulator.close();
      expect(Date.now() - started).toBeLessThan(500);
      await expect(pending).rejects.toThrow();
    });
  });
});
