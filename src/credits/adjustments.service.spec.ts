import { Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { GatewayError } from '../common/errors';
import { IdGenerator } from '../common/id-generator';
import { failureOf } from '../common/testing/failure-of';
import { loadConfig } from '../config/app-config';
import { ExactlyOnce } from '../idempotency/exactly-once';
import { upstreamKeyFor } from '../idempotency/idempotency-keys';
import { IdempotencyStore } from '../idempotency/idempotency-store.port';
import { CurrencyCatalog } from '../revenuecat/currency-catalog';
import { Ledger } from '../revenuecat/ledger.port';
import { RevenueCatError } from '../revenuecat/revenuecat-error';
import { AdjustmentRequest } from './adjustment';
import { AdjustmentsService } from './adjustments.service';
import { Lifecycle } from '../lifecycle/lifecycle';
import { Metrics } from '../metrics/metrics';
import { UsageChangedPublisher } from '../realtime/usage-changed.publisher';
import { UsageEventBus } from '../realtime/usage-event-bus.port';
import { AuditLog } from './audit-log';

const NOW = Date.parse('2026-11-21T10:00:00.000Z');
const admin = { kind: 'admin', label: 'admin' } as const;
const request: AdjustmentRequest = { userId: 'user_1', currency: 'CRD', amount: 5, reason: 'T-1 goodwill', idempotencyKey: 'k-1' };

function setup() {
  const ledger: jest.Mocked<Ledger> = { listCurrencies: jest.fn(), listBalances: jest.fn(), createTransaction: jest.fn() };
  const catalog = { find: jest.fn().mockResolvedValue({ code: 'CRD', name: 'Credits' }) } as unknown as jest.Mocked<CurrencyCatalog>;
  const store: jest.Mocked<IdempotencyStore> = {
    claim: jest.fn().mockResolvedValue({ kind: 'claimed', token: 'tok' }),
    complete: jest.fn().mockResolvedValue(true),
    release: jest.fn().mockResolvedValue(undefined),
  };
  const clock = { now: () => NOW, sleep: jest.fn() } as unknown as Clock;
  const ids = { uuid: () => '00000000-0000-4000-8000-000000000000' } as IdGenerator;
  const audit = new AuditLog();
  jest.spyOn(audit, 'record').mockImplementation(() => undefined);
  const events: jest.Mocked<UsageEventBus> = { publish: jest.fn().mockResolvedValue(undefined), subscribe: jest.fn() };
  const metrics = new Metrics();
  const config = loadConfig({});
  const lifecycle = new Lifecycle();
  const exactlyOnce = new ExactlyOnce(store, metrics, config);
  const usageChanged = new UsageChangedPublisher(events, ids, metrics, lifecycle);
  const service = new AdjustmentsService(ledger, catalog, exactlyOnce, audit, usageChanged, lifecycle, clock, ids);
  return { service, ledger, catalog, store, audit, events, metrics };
}

const failure = (promise: Promise<unknown>) => failureOf(GatewayError, promise);

describe('AdjustmentsService', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  it('claims, applies with the derived upstream key, stores the result and audits it', async () => {
    const { service, ledger, store, audit } = setup();
    ledger.createTransaction.mockResolvedValue([{ currency: 'CRD', name: 'Credits', balance: 105 }]);
    const adjustment = await service.adjust(request, admin);
    expect(adjustment).toMatchObject({ balance: 105, replayed: false, adjustedAt: new Date(NOW) });
    expect(store.claim).toHaveBeenCalledWith('k-1', expect.stringMatching(/^[0-9a-f]{64}$/), 60_000);
    expect(ledger.createTransaction).toHaveBeenCalledWith('user_1', { adjustments: { CRD: 5 }, reference: 'T-1 goodwill' }, upstreamKeyFor('k-1'));
    expect(store.complete).toHaveBeenCalledTimes(1);
    expect(JSON.parse(store.complete.mock.calls[0][3])).toMatchObject({ ok: true, adjustment: { balance: 105, adjustedAt: '2026-11-21T10:00:00.000Z' } });
    expect(store.release).not.toHaveBeenCalled();
    expect(audit.record).toHaveBeenCalledWith(expect.objectContaining({ actor: 'admin', outcome: 'applied', balance: 105 }));
  });

  it('announces an applied adjustment once, as a silent usage.changed envelope', async () => {
    const { service, ledger, events } = setup();
    ledger.createTransaction.mockResolvedValue([{ currency: 'CRD', name: 'Credits', balance: 105 }]);
    await service.adjust(request, admin);
    expect(events.publish.mock.calls).toEqual([
      [
        {
          id: '00000000-0000-4000-8000-000000000000',
          type: 'usage.changed',
          silent: true,
          userId: 'user_1',
          currency: 'CRD',
          delta: 5,
          balance: 105,
          occurredAt: '2026-11-21T10:00:00.000Z',
        },
      ],
    ]);
  });

  it('keeps the adjustment when publishing fails, and counts the failure', async () => {
    const { service, ledger, events, metrics } = setup();
    ledger.createTransaction.mockResolvedValue([{ currency: 'CRD', name: 'Credits', balance: 105 }]);
    events.publish.mockRejectedValue(new Error('Redis down'));
    await expect(service.adjust(request, admin)).resolves.toMatchObject({ balance: 105, replayed: false });
    await new Promise((resolve) => setImmediate(resolve));
    expect((await metrics.realtimePublishFailures.get()).values[0].value).toBe(1);
  });

  it('announces nothing for a replay', async () => {
    const { service, store, events } = setup();
    store.claim.mockResolvedValue({
      kind: 'completed',
      outcome: JSON.stringify({ ok: true, adjustment: { id: 'adj_1', userId: 'user_1', currency: 'CRD', amount: 5, reason: 'r', balance: 5, balances: [], idempotencyKey: 'k-1', adjustedAt: '2026-11-21T10:00:00.000Z' } }),
    });
    expect((await service.adjust(request, admin)).replayed).toBe(true);
    expect(events.publish).not.toHaveBeenCalled();
  });

  it('still answers an applied adjustment when its record cannot be written', async () => {
    const { service, ledger, store } = setup();
    ledger.createTransaction.mockResolvedValue([{ currency: 'CRD', name: 'Credits', balance: 105 }]);
    store.complete.mockRejectedValue(new Error('Redis connection lost'));
    await expect(service.adjust(request, admin)).resolves.toMatchObject({ balance: 105 });
  });

  it('releases the key on an unexpected error, which stays an unexpected error', async () => {
    const { service, ledger, store, audit } = setup();
    ledger.createTransaction.mockRejectedValue(new TypeError('boom'));
    await expect(service.adjust(request, admin)).rejects.toThrow(TypeError);
    expect(store.release).toHaveBeenCalledWith('k-1', 'tok');
    expect(store.complete).not.toHaveBeenCalled();
    expect(audit.record).toHaveBeenCalledWith(expect.objectContaining({ outcome: 'internal_error' }));
  });

  it('answers insufficient_balance without a balance when the balance cannot be re-read', async () => {
    const { service, ledger } = setup();
    ledger.createTransaction.mockRejectedValue(new RevenueCatError('unprocessable_entity_error', 422, 'no'));
    ledger.listBalances.mockRejectedValue(new RevenueCatError('server_error', 503, 'down'));
    const error = await failure(service.adjust({ ...request, amount: -5 }, admin));
    expect(error.extensions).toEqual({ code: 'insufficient_balance', status: 422 });
  });

  it('fails with rc_call_failed and frees the key when the currency list cannot be read', async () => {
    const { service, catalog, store, ledger } = setup();
    catalog.find.mockRejectedValue(new RevenueCatError('rate_limit_error', 429, 'slow down'));
    expect((await failure(service.adjust(request, admin))).message).toBe('rc_call_failed: rate_limit_error');
    expect(store.claim).toHaveBeenCalledTimes(1);
    expect(store.release).toHaveBeenCalledWith('k-1', 'tok');
    expect(store.complete).not.toHaveBeenCalled();
    expect(ledger.createTransaction).not.toHaveBeenCalled();
  });

  it('frees the key on an unknown currency instead of remembering it', async () => {
    const { service, catalog, store, ledger } = setup();
    catalog.find.mockResolvedValue(undefined);
    expect((await failure(service.adjust({ ...request, currency: 'GEM' }, admin))).extensions).toMatchObject({ code: 'unknown_currency' });
    expect(store.release).toHaveBeenCalledWith('k-1', 'tok');
    expect(store.complete).not.toHaveBeenCalled();
    expect(ledger.createTransaction).not.toHaveBeenCalled();
  });

  it('replays a finished key without checking the currency', async () => {
    const { service, catalog, store, ledger } = setup();
    store.claim.mockResolvedValue({
      kind: 'completed',
      outcome: JSON.stringify({ ok: true, adjustment: { id: 'adj_1', userId: 'user_1', currency: 'CRD', amount: 5, reason: 'r', balance: 5, balances: [], idempotencyKey: 'k-1', adjustedAt: '2026-11-21T10:00:00.000Z' } }),
    });
    catalog.find.mockRejectedValue(new RevenueCatError('server_error', 503, 'down'));
    expect(await service.adjust(request, admin)).toMatchObject({ id: 'adj_1', replayed: true });
    expect(catalog.find).not.toHaveBeenCalled();
    expect(ledger.createTransaction).not.toHaveBeenCalled();
  });

  it('replays a stored error exactly', async () => {
    const { service, store, ledger } = setup();
    store.claim.mockResolvedValue({
      kind: 'completed',
      outcome: JSON.stringify({ ok: false, code: 'insufficient_balance', message: 'insufficient_balance: x', details: { balance: 3 } }),
    });
    const error = await failure(service.adjust(request, admin));
    expect([error.message, error.extensions]).toEqual(['insufficient_balance: x', { code: 'insufficient_balance', status: 422, balance: 3 }]);
    expect(ledger.createTransaction).not.toHaveBeenCalled();
  });
});
