import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import axios from 'axios';
import http = require('node:http');
import { createServer, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { GatewayError } from '../common/errors';
import { failureOf } from '../common/testing/failure-of';
import { streamHugeList as streamHuge } from '../common/testing/huge-list';
import { ManualClock } from '../common/testing/manual-clock';
import { type AppConfig, loadConfig } from '../config/app-config';
import { RevenueCatEmulator } from '../../emulator/revenuecat-emulator';
import { CommonModule } from '../common/common.module';
import { ConfigModule } from '../config/config.module';
import { MetricsModule } from '../metrics/metrics.module';
import { Ledger } from './ledger.port';
import { RevenueCatError } from './revenuecat-error';
import { RevenueCatModule } from './revenuecat.module';
import { Metrics } from '../metrics/metrics';
import { revenueCatHttpConfig } from './revenuecat-http.config';
import { RevenueCatLedger } from './revenuecat-ledger';
import { UpstreamStatus } from './upstream-status';

/** The HttpService RevenueCatModule builds for this configuration. */
function httpServiceFor(config: AppConfig): HttpService {
  return new HttpService(axios.create(revenueCatHttpConfig(config)));
}

function ledgerFor(baseUrl: string, apiKey: string, projectId: string, env: Record<string, string> = {}) {
  const clock = new ManualClock(Date.now());
  const config = loadConfig({
    REVENUECAT_API_URL: baseUrl,
    REVENUECAT_API_KEY: apiKey,
    REVENUECAT_PROJECT_ID: projectId,
    REVENUECAT_TIMEOUT_MS: '300',
    ...env,
  });
  const metrics = new Metrics();
  const status = new UpstreamStatus(clock);
  return { ledger: new RevenueCatLedger(httpServiceFor(config), clock, metrics, status, config), clock, metrics, status };
}

describe('RevenueCatLedger against the emulator', () => {
  const emulator = new RevenueCatEmulator();
  let ledger: RevenueCatLedger;
  let clock: ManualClock;

  beforeAll(async () => {
    // Retries log a warning each; they are expected here.
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await emulator.listen();
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await emulator.close();
  });
  beforeEach(() => {
    emulator.reset();
    ({ ledger, clock } = ledgerFor(emulator.baseUrl, emulator.apiKey, emulator.projectId));
  });
  afterEach(() => ledger.onModuleDestroy());

  it('reads every page of a project with more currencies than one page holds', async () => {
    for (let i = 1; i <= 120; i++) emulator.addCurrency({ code: `C${String(i).padStart(3, '0')}`, name: `Currency ${i}` });
    const currencies = await ledger.listCurrencies();
    expect(currencies).toHaveLength(121);
    expect(currencies[0]).toMatchObject({ code: 'CRD', name: 'Credits' });
    expect(currencies[0].productGrants.length).toBeGreaterThan(0);
    expect(currencies[120].code).toBe('C120');
    expect(emulator.count('list_currencies')).toBe(2);
  });

  it('URL-encodes customer ids, so slashes and unicode stay part of the id', async () => {
    const id = 'user/../admin?x=1#frag é 漢';
    emulator.addCustomer(id, { CRD: 42 });
    expect(await ledger.listBalances(id, { includeEmpty: false })).toEqual([{ currency: 'CRD', name: 'Credits', balance: 42 }]);
    expect(emulator.requests.at(-1)?.customerId).toBe(id);
  });

  it.each(['...', '%2e%2e', '.%2E', './x', '..\\x', 'a/../..', '?x=1', '#frag', ' .. '])(
    'keeps the customer id %j one path segment on every customer endpoint',
    async (id) => {
      emulator.addCustomer(id, { CRD: 7 });
      expect(await ledger.listBalances(id, { includeEmpty: false })).toEqual([{ currency: 'CRD', name: 'Credits', balance: 7 }]);
      await ledger.createTransaction(id, { adjustments: { CRD: 1 }, reference: 'T-6 path' }, `k-${id}`);
      expect(emulator.requests.map((request) => [request.endpoint, request.customerId])).toEqual([
        ['list_balances', id],
        ['create_transaction', id],
      ]);
    },
  );

  it.each(['.', '..', 'user_\ud800'])('refuses the customer id %j, which cannot be one path segment, without calling RevenueCat', async (id) => {
    for (const call of [
      () => ledger.listBalances(id, { includeEmpty: true }),
      () => ledger.createTransaction(id, { adjustments: { CRD: 1 }, reference: 'T-6 step' }, 'k-step'),
    ]) {
      const error = await call().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).extensions).toEqual({ code: 'invalid_argument', status: 400, field: 'userId' });
    }
    expect(emulator.requests).toHaveLength(0);
  });

  it('lists zero balances only when asked', async () => {
    expect(await ledger.listBalances('user_demo_empty', { includeEmpty: false })).toEqual([]);
    expect(await ledger.listBalances('user_demo_empty', { includeEmpty: true })).toEqual([{ currency: 'CRD', name: 'Credits', balance: 0 }]);
  });

  it('retries a 503 with the back-off RevenueCat asks for, then succeeds', async () => {
    emulator.injectFault({ endpoint: 'list_balances', status: 503, count: 2, backoffMs: 7 });
    expect(await ledger.listBalances('user_2abcXYZ', { includeEmpty: false })).toEqual([{ currency: 'CRD', name: 'Credits', balance: 250 }]);
    expect(emulator.count('list_balances')).toBe(3);
    expect(clock.sleeps).toEqual([7, 7]);
  });

  it("counts attempts, retries and RevenueCat's own rate-limit usage, and remembers reachability", async () => {
    const { ledger: observed, metrics, status } = ledgerFor(emulator.baseUrl, emulator.apiKey, emulator.projectId);
    emulator.injectFault({ endpoint: 'list_balances', status: 503, count: 1, backoffMs: 1 });
    await observed.listBalances('user_2abcXYZ', { includeEmpty: false });
    const outcomes = (await metrics.upstreamRequests.get()).values.map((value) => [value.labels.outcome, value.value]);
    expect(outcomes).toEqual([
      ['503', 1],
      ['200', 1],
    ]);
    expect((await metrics.upstreamRetries.get()).values).toEqual([expect.objectContaining({ labels: { endpoint: 'list_balances', type: 'server_error' }, value: 1 })]);
    expect((await metrics.revenueCatRateLimitUsage.get()).values[0]).toMatchObject({ labels: { endpoint: 'list_balances' }, value: 2 });
    expect((await metrics.revenueCatRateLimitLimit.get()).values[0]).toMatchObject({ value: 480 });
    expect(status.lastSeen).toMatchObject({ reachable: true, detail: 'HTTP 200 from list_balances' });
    observed.onModuleDestroy();
  });

  it('gives up after the configured retries on an upstream that keeps failing', async () => {
    emulator.injectFault({ endpoint: 'list_balances', status: 503, count: Infinity, backoffMs: 1 });
    const error = await failureOf(RevenueCatError, ledger.listBalances('user_2abcXYZ', { includeEmpty: false }));
    expect([error.type, error.httpStatus, error.outcomeUnknown]).toEqual(['server_error', 503, true]);
    expect(emulator.count('list_balances')).toBe(3);
  });

  it('honours Retry-After, and fails at once when it asks for longer than a caller should wait', async () => {
    emulator.injectFault({ endpoint: 'list_currencies', status: 429, retryAfterSeconds: 30, count: Infinity });
    const error = await failureOf(RevenueCatError, ledger.listCurrencies());
    expect(error.type).toBe('rate_limit_error');
    expect(emulator.count('list_currencies')).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('does not retry a missing customer', async () => {
    const error = await failureOf(RevenueCatError, ledger.listBalances('user_nobody', { includeEmpty: false }));
    expect([error.type, error.httpStatus, error.isCustomerMissing]).toEqual(['resource_missing', 404, true]);
    expect(emulator.count('list_balances')).toBe(1);
  });

  it.each([
    [423, 'resource_locked_error'],
    [429, 'rate_limit_error'],
    [500, 'server_error'],
    [503, 'server_error'],
  ])('retries a %i %s, which the README lists as retryable', async (status, type) => {
    emulator.injectFault({ endpoint: 'list_balances', status, type, count: Infinity, backoffMs: 1, retryAfterSeconds: 0 });
    const error = await failureOf(RevenueCatError, ledger.listBalances('user_2abcXYZ', { includeEmpty: false }));
    expect([error.type, error.httpStatus, error.retryable, error.outcomeUnknown]).toEqual([type, status, true, true]);
    expect(emulator.count('list_balances')).toBe(3);
  });

  it.each([502, 504])('does not retry a %i, whose outcome stays unknown', async (status) => {
    emulator.injectFault({ endpoint: 'create_transaction', status, count: Infinity, backoffMs: 1 });
    const error = await failureOf(RevenueCatError, ledger.createTransaction('user_2abcXYZ', { adjustments: { CRD: 1 }, reference: 'T-1 gateway' }, 'k-502'));
    expect([error.httpStatus, error.retryable, error.outcomeUnknown]).toEqual([status, false, true]);
    expect(emulator.count('create_transaction')).toBe(1);
  });

  it('does not retry a rejected key', async () => {
    ({ ledger } = ledgerFor(emulator.baseUrl, 'sk_wrong', emulator.projectId));
    const error = await failureOf(RevenueCatError, ledger.listCurrencies());
    expect([error.type, error.httpStatus]).toEqual(['authentication_error', 401]);
    expect(emulator.count('list_currencies')).toBe(1);
  });

  it('times out a hung upstream and retries it', async () => {
    emulator.injectFault({ endpoint: 'list_balances', latencyMs: 2000, count: Infinity });
    const started = Date.now();
    const error = await failureOf(RevenueCatError, ledger.listBalances('user_2abcXYZ', { includeEmpty: false }));
    expect(error.type).toBe('timeout');
    expect(emulator.count('list_balances')).toBe(3);
    expect(Date.now() - started).toBeLessThan(1900);
  });

  it('reports a dropped connection as network_error', async () => {
    emulator.injectFault({ endpoint: 'list_currencies', destroySocket: true, count: Infinity });
    expect((await failureOf(RevenueCatError, ledger.listCurrencies())).type).toBe('network_error');
    expect(emulator.count('list_currencies')).toBe(3);
  });

  it('reports a body that is not JSON as bad_response, without retrying a 200', async () => {
    emulator.injectFault({ endpoint: 'list_currencies', rawBody: '<html>oops</html>', status: 200 });
    expect((await failureOf(RevenueCatError, ledger.listCurrencies())).type).toBe('bad_response');
    expect(emulator.count('list_currencies')).toBe(1);
  });

  it('sends the same Idempotency-Key on every attempt of one transaction, which applies once', async () => {
    emulator.injectFault({ endpoint: 'create_transaction', status: 503, backoffMs: 1 });
    const balances = await ledger.createTransaction('user_2abcXYZ', { adjustments: { CRD: 50 }, reference: 'TICKET-1 goodwill' }, 'rc-key-1');
    expect(balances).toEqual([{ currency: 'CRD', name: 'Credits', balance: 300 }]);
    const attempts = emulator.requests.filter((request) => request.endpoint === 'create_transaction');
    expect(attempts.map((request) => request.idempotencyKey)).toEqual(['rc-key-1', 'rc-key-1']);
    expect(emulator.transactions).toHaveLength(1);
    expect(emulator.transactions[0]).toMatchObject({ customerId: 'user_2abcXYZ', adjustments: { CRD: 50 }, reference: 'TICKET-1 goodwill' });
  });

  it('reports a deduction below zero as RevenueCat 422 and changes nothing', async () => {
    const error = await failureOf(RevenueCatError, ledger.createTransaction('user_2abcXYZ', { adjustments: { CRD: -251 }, reference: 'T-2 reverse' }, 'k2'));
    expect([error.type, error.httpStatus]).toEqual(['unprocessable_entity_error', 422]);
    expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(250);
  });
});

describe('RevenueCatLedger request headers', () => {
  const emulator = new RevenueCatEmulator();
  const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  beforeAll(() => emulator.listen());
  afterAll(async () => {
    jest.restoreAllMocks();
    await emulator.close();
  });

  it('hands node:http an ordinary headers object that survives a tracing wrapper, Authorization included, on GET and POST', async () => {
    // What OpenTelemetry's node:http instrumentation does to every outgoing request: copy the options'
    // headers into a new object and add the trace context to it.
    const handed: unknown[] = [];
    const request = http.request;
    jest.spyOn(http, 'request').mockImplementation((...args: Parameters<typeof http.request>) => {
      const options = args.find((arg): arg is http.RequestOptions => typeof arg === 'object' && arg !== null && !(arg instanceof URL));
      if (options) {
        handed.push(options.headers);
        options.headers = Object.assign({}, options.headers, { traceparent: TRACEPARENT });
      }
      return request.apply(http, args);
    });
    const { ledger } = ledgerFor(emulator.baseUrl, emulator.apiKey, emulator.projectId);
    try {
      expect(await ledger.listBalances('user_2abcXYZ', { includeEmpty: false })).toEqual([{ currency: 'CRD', name: 'Credits', balance: 250 }]);
      await ledger.createTransaction('user_2abcXYZ', { adjustments: { CRD: 5 }, reference: 'T-10 headers' }, 'k-headers');
    } finally {
      jest.mocked(http.request).mockRestore();
      ledger.onModuleDestroy();
    }
    // The emulator answers 401 to a request whose Bearer key did not arrive.
    expect(emulator.requests.map((recorded) => [recorded.method, recorded.endpoint, recorded.status])).toEqual([
      ['GET', 'list_balances', 200],
      ['POST', 'create_transaction', 200],
    ]);
    expect(handed).toHaveLength(2);
    const lowerCased = handed.map((headers) => {
      expect(Array.isArray(headers)).toBe(false);
      return Object.fromEntries(Object.entries(headers as Record<string, unknown>).map(([name, value]) => [name.toLowerCase(), value]));
    });
    for (const headers of lowerCased) {
      expect(headers).toMatchObject({ authorization: `Bearer ${emulator.apiKey}`, accept: 'application/json' });
    }
    expect(lowerCased[1]).toMatchObject({ 'idempotency-key': 'k-headers', 'content-type': 'application/json' });
    expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(255);
  });
});

describe('RevenueCatModule axios instance', () => {
  const emulator = new RevenueCatEmulator();
  beforeAll(() => emulator.listen());
  afterAll(() => emulator.close());

  it("is the module's own, set up for RevenueCat, keeps its connection alive and closes it on shutdown; axios's global instance is untouched", async () => {
    const config = loadConfig({ REVENUECAT_API_URL: emulator.baseUrl, REVENUECAT_API_KEY: emulator.apiKey, REVENUECAT_PROJECT_ID: emulator.projectId });
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.register(config), CommonModule, MetricsModule, RevenueCatModule],
    }).compile();
    const instance = moduleRef.get(HttpService, { strict: false }).axiosRef;
    const ledger = moduleRef.get(Ledger);
    expect(instance).not.toBe(axios);
    expect(await ledger.listBalances('user_2abcXYZ', { includeEmpty: false })).toEqual([{ currency: 'CRD', name: 'Credits', balance: 250 }]);
    expect(await ledger.listBalances('user_2abcXYZ', { includeEmpty: false })).toHaveLength(1);
    const agent = instance.defaults.httpAgent as http.Agent;
    // Both calls went over one kept-alive connection, now idle in the agent.
    const idle = Object.values(agent.freeSockets).flat();
    expect(idle).toHaveLength(1);
    await moduleRef.close();
    expect(idle[0]?.destroyed).toBe(true);
    expect([axios.defaults.baseURL, axios.defaults.headers.common.Authorization, axios.defaults.httpAgent]).toEqual([undefined, undefined, undefined]);
  });
});

describe('RevenueCatLedger pagination safety', () => {
  let server: Server;
  let baseUrl: string;
  let nextPage: string;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ object: 'list', items: [{ code: 'A', name: 'A' }], next_page: nextPage, url: '/v2/x' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('never follows a next_page to another origin, where the key would go along', async () => {
    nextPage = 'http://attacker.invalid/v2/projects/p/virtual_currencies?starting_after=A';
    const { ledger } = ledgerFor(baseUrl, 'sk', 'p');
    expect((await failureOf(RevenueCatError, ledger.listCurrencies())).type).toBe('bad_response');
    ledger.onModuleDestroy();
  });

  it('stops a next_page that loops', async () => {
    nextPage = '/v2/projects/p/virtual_currencies?starting_after=A';
    const { ledger } = ledgerFor(baseUrl, 'sk', 'p');
    expect((await failureOf(RevenueCatError, ledger.listCurrencies())).type).toBe('bad_response');
    ledger.onModuleDestroy();
  });
});

describe('RevenueCatLedger answer bounds', () => {
  const MiB = 1024 * 1024;
  let server: Server;
  let baseUrl: string;
  let answer: (res: ServerResponse) => void;
  let requests: number;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      answer(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`;
  });
  beforeEach(() => (requests = 0));
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** A 300 MB list written slowly, recording how much was written when the reader hung up. */
  function streamHugeList(): Promise<{ written: number; finished: boolean }> {
    return new Promise((resolve) => {
      answer = (res) => resolve(streamHuge(res, '{"code":"A","name":"A"}'));
    });
  }

  it('cuts a 300 MB answer off after 1 MiB as bad_response, without retrying it', async () => {
    const { ledger, metrics } = ledgerFor(baseUrl, 'sk', 'p', { REVENUECAT_TIMEOUT_MS: '20000' });
    const served = streamHugeList();
    const error = await failureOf(RevenueCatError, ledger.listCurrencies());
    expect([error.type, error.httpStatus, error.retryable]).toEqual(['bad_response', undefined, false]);
    expect(error.message).toContain('larger than 1048576 bytes');
    // The reader hung up soon after the bound: the server had sent a few MiB at most, not 300 MB.
    const { written, finished } = await served;
    expect(finished).toBe(false);
    expect(written).toBeLessThan(4 * MiB);
    expect(requests).toBe(1);
    expect((await metrics.upstreamRequests.get()).values.map((value) => value.labels.outcome)).toEqual(['bad_response']);
    ledger.onModuleDestroy();
  });

  it('counts the decompressed size: a small gzip of 16 MiB is cut off too', async () => {
    const bomb = gzipSync(Buffer.from(`{"object":"list","items":[],"pad":"${' '.repeat(16 * MiB)}"}`));
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(bomb);
    // A generous timeout: a busy machine must not turn the cut-off into a retried timeout.
    const { ledger } = ledgerFor(baseUrl, 'sk', 'p', { REVENUECAT_TIMEOUT_MS: '20000' });
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect((await failureOf(RevenueCatError, ledger.listCurrencies())).type).toBe('bad_response');
    expect(requests).toBe(1);
    ledger.onModuleDestroy();
  });

  it('times out an answer that trickles in past the deadline, though bytes keep arriving', async () => {
    const hungUp: Array<Promise<void>> = [];
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).write('{"object":"list","items":[');
      // A byte every 50 ms: never idle long enough for a socket timeout of 300 ms.
      const trickle = setInterval(() => res.write(' '), 50);
      hungUp.push(new Promise((resolve) => res.on('close', () => resolve(clearInterval(trickle)))));
    };
    const { ledger } = ledgerFor(baseUrl, 'sk', 'p');
    const started = Date.now();
    const error = await failureOf(RevenueCatError, ledger.listCurrencies());
    expect([error.type, error.httpStatus]).toEqual(['timeout', undefined]);
    expect(requests).toBe(3);
    // Three attempts of 300 ms each (the back-off between them is the manual clock's).
    expect(Date.now() - started).toBeLessThan(2500);
    // The reader hung up on each attempt: the server would otherwise trickle on.
    await Promise.all(hungUp);
    ledger.onModuleDestroy();
  });

  it('reads an answer just under the bound', async () => {
    const items = Array.from({ length: 120 }, (_, i) => ({ code: `C${i}`, name: 'n'.repeat(8000) }));
    const body = JSON.stringify({ object: 'list', items, next_page: null });
    expect(body.length).toBeGreaterThan(900 * 1024);
    expect(body.length).toBeLessThan(MiB);
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    const { ledger } = ledgerFor(baseUrl, 'sk', 'p');
    const currencies = await ledger.listCurrencies();
    expect(currencies).toHaveLength(120);
    // RevenueCat's own limit on a currency's name is 50 characters; a longer one is cut to it.
    expect([currencies[0].code, currencies[0].name.length, /^n+$/.test(currencies[0].name)]).toEqual(['C0', 50, true]);
    ledger.onModuleDestroy();
  });

  it('refuses a balance whose currency code is not a RevenueCat code', async () => {
    answer = (res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', items: [{ currency_code: 'x'.repeat(5000), balance: 1 }], next_page: null }));
    const { ledger } = ledgerFor(baseUrl, 'sk', 'p');
    expect((await failureOf(RevenueCatError, ledger.listBalances('user_1', { includeEmpty: false }))).type).toBe('bad_response');
    ledger.onModuleDestroy();
  });
});

describe('RevenueCatLedger pacing: every transaction attempt under the one budget', () => {
  const emulator = new RevenueCatEmulator();
  let pacing: { takeInteractive: jest.Mock; takeBulk: jest.Mock; pause: jest.Mock; observe: jest.Mock };
  let ledger: RevenueCatLedger;
  let clock: ManualClock;

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await emulator.listen();
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await emulator.close();
  });
  beforeEach(() => {
    emulator.reset();
    pacing = {
      takeInteractive: jest.fn().mockResolvedValue({ withinBudget: true, pausedForMs: 0 }),
      takeBulk: jest.fn().mockResolvedValue(0),
      pause: jest.fn().mockResolvedValue(undefined),
      observe: jest.fn().mockResolvedValue(undefined),
    };
    clock = new ManualClock(Date.now());
    const config = loadConfig({ REVENUECAT_API_URL: emulator.baseUrl, REVENUECAT_API_KEY: emulator.apiKey, REVENUECAT_PROJECT_ID: emulator.projectId });
    ledger = new RevenueCatLedger(httpServiceFor(config), clock, new Metrics(), new UpstreamStatus(clock), config, pacing);
  });
  afterEach(() => ledger.onModuleDestroy());

  it("counts each interactive attempt and reports RevenueCat's rate-limit headers; reads are not paced", async () => {
    emulator.injectFault({ endpoint: 'create_transaction', status: 503, count: 1, backoffMs: 5 });
    await ledger.createTransaction('user_2abcXYZ', { adjustments: { CRD: 5 }, reference: 'T-7 paced' }, 'k-paced-1');
    await ledger.listBalances('user_2abcXYZ', { includeEmpty: false });
    expect(pacing.takeInteractive).toHaveBeenCalledTimes(2);
    expect(pacing.observe.mock.calls).toEqual([[{ usage: 1, limit: 480 }], [{ usage: 2, limit: 480 }]]);
    expect([pacing.takeBulk, pacing.pause].map((mock) => mock.mock.calls.length)).toEqual([0, 0]);
    expect(clock.sleeps).toEqual([5]);
  });

  it("pauses bulk for a 429's Retry-After, and retries a bulk item when its next slot comes, not after a fixed back-off", async () => {
    emulator.injectFault({ endpoint: 'create_transaction', status: 429, retryAfterSeconds: 30, count: 1 });
    const balances = await ledger.createTransaction('user_2abcXYZ', { adjustments: { CRD: 5 }, reference: 'T-8 bulk' }, 'k-paced-2', { pacing: 'bulk' });
    expect(balances).toEqual([{ currency: 'CRD', name: 'Credits', balance: 255 }]);
    expect(pacing.pause.mock.calls).toEqual([[30_000]]);
    // The caller took the first attempt's slot; the retry took its own.
    expect(pacing.takeBulk).toHaveBeenCalledTimes(1);
    expect(pacing.takeInteractive).not.toHaveBeenCalled();
    expect(clock.sleeps).toEqual([]);
    expect(emulator.count('create_transaction')).toBe(2);
  });

  it('ends a bulk retry whose wait for a slot is aborted with the failure it was retrying', async () => {
    emulator.injectFault({ endpoint: 'create_transaction', status: 429, count: 1 });
    const aborted = new AbortController();
    aborted.abort();
    pacing.takeBulk.mockRejectedValueOnce(aborted.signal.reason);
    const error = await failureOf(
      RevenueCatError,
      ledger.createTransaction('user_2abcXYZ', { adjustments: { CRD: 5 }, reference: 'T-9 bulk' }, 'k-paced-3', { pacing: 'bulk', signal: aborted.signal }),
    );
    expect([error.type, error.httpStatus]).toEqual(['rate_limit_error', 429]);
    expect(pacing.takeBulk.mock.calls).toEqual([[aborted.signal]]);
    expect(emulator.count('create_transaction')).toBe(1);
    expect(emulator.balanceOf('user_2abcXYZ', 'CRD')).toBe(250);
  });
});

describe('RevenueCatLedger behind an HTTP proxy (HTTP_PROXY, NO_PROXY)', () => {
  const emulator = new RevenueCatEmulator();
  let proxy: Server;
  let proxyUrl: string;
  const proxied: string[] = [];
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };

  beforeAll(async () => {
    await emulator.listen();
    // A forward proxy: records the absolute URL it is asked for, then relays the exchange.
    proxy = createServer((req, res) => {
      proxied.push(req.url ?? '');
      const upstream = http.request(req.url ?? '', { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await new Promise((resolve) => proxy.close(resolve));
    await emulator.close();
  });
  beforeEach(() => {
    proxied.length = 0;
    delete process.env.NO_PROXY;
  });

  it('sends every call through the proxy the environment names, with its Authorization intact', async () => {
    process.env.HTTP_PROXY = proxyUrl;
    const { ledger } = ledgerFor(emulator.baseUrl, emulator.apiKey, emulator.projectId);
    try {
      expect(await ledger.listBalances('user_2abcXYZ', { includeEmpty: false })).toEqual([{ currency: 'CRD', name: 'Credits', balance: 250 }]);
      expect(proxied).toEqual([`${emulator.baseUrl}/projects/${emulator.projectId}/customers/user_2abcXYZ/virtual_currencies?limit=100`]);
    } finally {
      ledger.onModuleDestroy();
    }
  });

  it('goes direct when NO_PROXY names RevenueCat, or no proxy is set', async () => {
    for (const env of [
      { HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' },
      { HTTP_PROXY: undefined, NO_PROXY: undefined },
    ]) {
      for (const [name, value] of Object.entries(env)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      const { ledger } = ledgerFor(emulator.baseUrl, emulator.apiKey, emulator.projectId);
      try {
        expect(await ledger.listBalances('user_2abcXYZ', { includeEmpty: false })).toHaveLength(1);
      } finally {
        ledger.onModuleDestroy();
      }
    }
    expect(proxied).toEqual([]);
  });
});
