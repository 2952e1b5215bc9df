import { streamHugeList } from '../src/common/testing/huge-list';
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { IdempotencyStore } from '../src/idempotency/idempotency-store.port';
import { errorCode } from './helpers/graphql-client';
import { startApp, TestApp } from './helpers/test-app';

const MiB = 1024 * 1024;
const PROJECT = 'proj_hostile';
const ADJUST = `mutation Adjust($input: AdjustCreditsInput!) {
  adjustCredits(input: $input) { id balance balances { currency name balance } replayed }
}`;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const json = (res: ServerResponse, body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const currencyList = (res: ServerResponse) => json(res, { object: 'list', items: [{ object: 'virtual_currency', code: 'CRD', name: 'Credits' }], next_page: null });

/**
 * A tiny server posing as RevenueCat, answering what no real RevenueCat would: bodies far over any sane
 * size. The emulator stays faithful to RevenueCat; this one is for the gateway's bounds.
 */
describe('hostile upstream answers', () => {
  let server: Server;
  let app: TestApp;
  let handle: Handler;
  const paths: string[] = [];

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    server = createServer((req, res) => {
      paths.push(`${req.method} ${req.url}`);
      handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    app = await startApp({
      env: {
        REVENUECAT_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`,
        REVENUECAT_PROJECT_ID: PROJECT,
        REVENUECAT_API_KEY: 'sk_hostile',
        // Long enough that a timeout cannot be what ends the 300 MB answer.
        REVENUECAT_TIMEOUT_MS: '20000',
      },
    });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await app.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => (paths.length = 0));

  it('answers rc_call_failed: bad_response to a 300 MB list long before it has been sent, once', async () => {
    const served = new Promise<{ written: number; finished: boolean }>((resolve) => {
      handle = (_req, res) => resolve(streamHugeList(res, '{"object":"virtual_currency","code":"CRD","name":"Credits"}'));
    });
    const response = await app.client.query('{ currencies { code } }');
    expect([response.status, errorCode(response)]).toEqual([502, 'rc_call_failed']);
    expect(response.body.errors?.[0]).toMatchObject({ message: 'rc_call_failed: bad_response', extensions: { rcType: 'bad_response' } });
    const { written, finished } = await served;
    expect(finished).toBe(false);
    expect(written).toBeLessThan(4 * MiB);
    expect(paths).toEqual([`GET /v2/projects/${PROJECT}/virtual_currencies?limit=100`]);
  });

  it('keeps a large transaction answer under the bound out of the idempotency record', async () => {
    // 300 balances with 3,000-character names, the adjusted currency last: about 0.9 MiB, under the bound.
    const balances = Array.from({ length: 300 }, (_, i) => ({
      object: 'virtual_currency_balance',
      currency_code: i === 299 ? 'CRD' : `C${i}`,
      name: 'n'.repeat(3000),
      balance: i === 299 ? 42 : i,
    }));
    handle = (req, res) => {
      if (req.method === 'GET') return currencyList(res);
      req.resume();
      json(res, { object: 'list', items: balances, next_page: null });
    };
    expect(JSON.stringify({ object: 'list', items: balances, next_page: null }).length).toBeGreaterThan(880_000);
    const store = app.app.get<IdempotencyStore>(IdempotencyStore);
    const settle = jest.spyOn(store, 'settle');
    try {
      const input = { userId: 'user_big', amount: 2, reason: 'T-50 large answer', idempotencyKey: `key-${randomUUID()}` };
      const first = await app.client.query<{ adjustCredits: { balance: number; balances: Array<{ currency: string; name: string }> } }>(ADJUST, { input });
      expect(first.status).toBe(200);
      const result = first.body.data!.adjustCredits;
      expect(result.balance).toBe(42);
      // A project holds at most 100 currencies: the answer and the record keep 100, the adjusted one included.
      expect(result.balances).toHaveLength(100);
      expect(result.balances.at(-1)).toEqual({ currency: 'CRD', name: 'n'.repeat(50), balance: 42 });
      expect(Math.max(...result.balances.map((balance) => balance.name.length))).toBe(50);
      // The outcome the journal record keeps: the bounded list, small whatever RevenueCat sent.
      expect(settle).toHaveBeenCalledTimes(1);
      const outcome = settle.mock.calls[0][2];
      expect(outcome.status === 'APPLIED' && [outcome.balance, outcome.balances]).toEqual([42, result.balances]);
      expect(JSON.stringify(outcome).length).toBeLessThan(16 * 1024);
      const replay = await app.client.query<{ adjustCredits: Record<string, unknown> }>(ADJUST, { input });
      expect(replay.body.data!.adjustCredits).toEqual({ ...result, replayed: true });
      expect(paths.filter((path) => path.startsWith('POST'))).toHaveLength(1);
    } finally {
      settle.mockRestore();
    }
  });
});
