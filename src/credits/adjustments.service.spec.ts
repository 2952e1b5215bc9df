import { Logger } from '@nestjs/common';
import type { Actor } from '../common/actor';
import { GatewayError } from '../common/errors';
import { failureOf } from '../common/testing/failure-of';
import { loadConfig } from '../config/app-config';
import { DatabaseUnavailableError } from '../database/database-errors';
import { ExactlyOnce } from '../idempotency/exactly-once';
import { adjustmentIdFor, requestFingerprint, upstreamKeyFor } from '../idempotency/idempotency-keys';
import { AdjustmentRecord, IdempotencyStore, NewAdjustment, Outcome } from '../idempotency/idempotency-store.port';
import { AdjustmentRepository } from '../journal/adjustment.repository';
import { Lifecycle } from '../lifecycle/lifecycle';
import { Metrics } from '../metrics/metrics';
import { UsageChangedPublisher } from '../realtime/usage-changed.publisher';
import { UsageEventBus } from '../realtime/usage-event-bus.port';
import { CurrencyCatalog } from '../revenuecat/currency-catalog';
import { Balance, Ledger } from '../revenuecat/ledger.port';
import { RevenueCatError } from '../revenuecat/revenuecat-error';
import { AdjustmentRequest, ReversalRequest } from './adjustment';
import { AdjustmentsService } from './adjustments.service';
import { LedgerTransactions } from './ledger-transactions';
import type { OperatorLimits } from './operator-limits';
import { AuditEntry, AuditLog } from './audit-log';

const LEASE_MS = 60_000;
const CREATED_AT = new Date('2026-11-21T10:00:00.000Z');
const SETTLED_AT = new Date('2026-11-21T10:00:01.000Z');
const UUIDS = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003'];

const actor: Actor = { operatorId: 'op_1', name: 'alice', role: 'AGENT', onBehalfOf: 'bob@example.com' };
const request: AdjustmentRequest = { userId: 'user_1', currency: 'CRD', amount: 5, reason: 'T-1 goodwill', idempotencyKey: 'k-1', actor };
const BALANCES: Balance[] = [
  { currency: 'CRD', name: 'Credits', balance: 105 },
  { currency: 'GEM', name: 'Gems', balance: 0 },
];
const APPLIED: Outcome = { status: 'APPLIED', balance: 105, balances: BALANCES };

/** The record the service must ask to be written PENDING for `asked` under `key`. */
function expectedNew(asked: AdjustmentRequest, key: string): NewAdjustment {
  const upstreamKey = upstreamKeyFor(key);
  return {
    id: adjustmentIdFor(upstreamKey),
    idempotencyKey: key,
    fingerprint: requestFingerprint(asked),
    userId: asked.userId,
    currency: asked.currency,
    amount: asked.amount,
    reason: asked.reason,
    upstreamKey,
    actorOperatorId: 'op_1',
    actorName: 'alice',
    actorRole: 'AGENT',
    actorOnBehalfOf: 'bob@example.com',
  };
}

/** A journal row as the repository answers it. */
function row(fresh: NewAdjustment, columns: Partial<AdjustmentRecord> = {}): AdjustmentRecord {
  return {
    ...fresh,
    actorOperatorId: fresh.actorOperatorId ?? null,
    actorOnBehalfOf: fresh.actorOnBehalfOf ?? null,
    status: 'PENDING',
    errorCode: null,
    errorMessage: null,
    errorDetails: null,
    balance: null,
    balances: null,
    attempts: 1,
    approvalRequestId: null,
    approvedByOperatorId: null,
    approvedByName: null,
    approvedByRole: null,
    approvedByOnBehalfOf: null,
    reversesId: fresh.reversesId ?? null,
    reversedById: null,
    bulkAdjustmentId: null,
    leaseToken: 'tok',
    leaseExpiresAt: new Date(CREATED_AT.getTime() + LEASE_MS),
    createdAt: CREATED_AT,
    settledAt: null,
    ...columns,
  };
}

/** What the repository's settle writes. */
function settledRow(claimed: AdjustmentRecord, outcome: Outcome): AdjustmentRecord {
  const applied = outcome.status === 'APPLIED';
  return {
    ...claimed,
    status: outcome.status,
    balance: applied ? outcome.balance : null,
    balances: applied ? outcome.balances : null,
    errorCode: applied ? null : outcome.error.code,
    errorMessage: applied ? null : outcome.error.message,
    errorDetails: applied ? null : (outcome.error.details ?? null),
    leaseToken: null,
    leaseExpiresAt: null,
    settledAt: outcome.status === 'UNKNOWN' ? null : SETTLED_AT,
  };
}

const NEW = expectedNew(request, 'k-1');
const ADJ_ID = NEW.id;

describe('AdjustmentsService', () => {
  let unexpected: string[];

  beforeEach(() => {
    unexpected = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    expect(unexpected).toEqual([]);
  });

  /** Every store call must be queued by the test; any other one throws and fails the test in afterEach. */
  function strictStore(): jest.Mocked<IdempotencyStore> {
    const strict = (name: string) =>
      jest.fn((...args: unknown[]): never => {
        unexpected.push(`${name}(${JSON.stringify(args)})`);
        throw new Error(`unexpected IdempotencyStore.${name}`);
      });
    return {
      findByIdempotencyKey: strict('findByIdempotencyKey'),
      claim: strict('claim'),
      settle: strict('settle'),
    } as unknown as jest.Mocked<IdempotencyStore>;
  }

  function setup() {
    const ledger: jest.Mocked<Ledger> = { listCurrencies: jest.fn(), listBalances: jest.fn(), createTransaction: jest.fn() };
    const catalog = { find: jest.fn().mockResolvedValue({ code: 'CRD', name: 'Credits' }) } as unknown as jest.Mocked<CurrencyCatalog>;
    const store = strictStore();
    let next = 0;
    const ids = { uuid: () => UUIDS[next++] };
    const audit = new AuditLog();
    const record = jest.spyOn(audit, 'record').mockImplementation(() => undefined);
    const events: jest.Mocked<UsageEventBus> = { publish: jest.fn().mockResolvedValue(undefined), subscribe: jest.fn() };
    const metrics = new Metrics();
    const lifecycle = new Lifecycle();
    const exactlyOnce = new ExactlyOnce(store, metrics, loadConfig({}));
    const usageChanged = new UsageChangedPublisher(events, ids, metrics, lifecycle);
    const journal = { findById: jest.fn() } as unknown as jest.Mocked<AdjustmentRepository>;
    // Limits and approval requests are OperatorLimits' (test/approvals.e2e-spec.ts): these actors have
    // none, and their keys none, so a new key is the store's plain claim.
    const limits = { claim: (_actor: unknown, fresh: NewAdjustment, leaseMs: number) => store.claim(fresh, leaseMs) } as unknown as OperatorLimits;
    const service = new AdjustmentsService(new LedgerTransactions(ledger, catalog), exactlyOnce, audit, usageChanged, lifecycle, ids, journal, limits);
    return { service, ledger, catalog, store, audit: record, events, metrics, lifecycle, journal };
  }

  /** The store calls of a new key that is claimed, sent and settled with whatever `settle` writes. */
  function newKey(store: jest.Mocked<IdempotencyStore>, fresh: NewAdjustment = NEW) {
    const claimed = row(fresh);
    store.findByIdempotencyKey.mockResolvedValueOnce(null);
    store.claim.mockResolvedValueOnce({ kind: 'claimed', record: claimed, token: 'tok' });
    store.settle.mockImplementationOnce(async (_id, _token, outcome) => settledRow(claimed, outcome));
    return claimed;
  }

  /** A settled record found by the look-up and answered by the claim. */
  function settledKey(store: jest.Mocked<IdempotencyStore>, settled: AdjustmentRecord) {
    store.findByIdempotencyKey.mockResolvedValueOnce(settled);
    store.claim.mockResolvedValueOnce({ kind: 'settled', record: settled });
  }

  const auditOf = (key: string, rest: Partial<AuditEntry>, asked: AdjustmentRequest = request): AuditEntry => ({
    actor: 'alice',
    operatorId: 'op_1',
    role: 'AGENT',
    onBehalfOf: 'bob@example.com',
    userId: asked.userId,
    currency: asked.currency,
    amount: asked.amount,
    reason: asked.reason,
    idempotencyKey: key,
    outcome: 'applied',
    replayed: false,
    ...rest,
  });

  const failure = (promise: Promise<unknown>) => failureOf(GatewayError, promise);

  describe('a new key', () => {
    it('claims the derived record, sends it under its upstream key, settles it APPLIED, answers and audits it', async () => {
      const { service, ledger, catalog, store, audit } = setup();
      newKey(store);
      ledger.createTransaction.mockResolvedValueOnce(BALANCES);

      const adjustment = await service.adjust(request);

      expect(adjustment).toEqual({
        id: ADJ_ID,
        userId: 'user_1',
        currency: 'CRD',
        amount: 5,
        reason: 'T-1 goodwill',
        balance: 105,
        balances: BALANCES,
        idempotencyKey: 'k-1',
        replayed: false,
        adjustedAt: SETTLED_AT,
        actor,
        approvedBy: null,
        reversesId: null,
      });
      expect(ADJ_ID).toMatch(/^adj_[0-9a-f]{32}$/);
      expect(store.findByIdempotencyKey.mock.calls).toEqual([['k-1']]);
      expect(catalog.find.mock.calls).toEqual([['CRD']]);
      expect(store.claim.mock.calls).toEqual([[NEW, LEASE_MS]]);
      expect(ledger.createTransaction.mock.calls).toEqual([['user_1', { adjustments: { CRD: 5 }, reference: 'T-1 goodwill' }, upstreamKeyFor('k-1')]]);
      expect(store.settle.mock.calls).toEqual([[ADJ_ID, 'tok', APPLIED]]);
      expect(ledger.listBalances).not.toHaveBeenCalled();
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'applied', adjustmentId: ADJ_ID, balance: 105 })]]);
    });

    it('announces an applied adjustment once, as a silent usage.changed envelope', async () => {
      const { service, ledger, store, events } = setup();
      newKey(store);
      ledger.createTransaction.mockResolvedValueOnce(BALANCES);
      await service.adjust(request);
      expect(events.publish.mock.calls).toEqual([
        [
          {
            id: UUIDS[0],
            type: 'usage.changed',
            silent: true,
            userId: 'user_1',
            currency: 'CRD',
            delta: 5,
            balance: 105,
            occurredAt: '2026-11-21T10:00:01.000Z',
          },
        ],
      ]);
    });

    it('keeps the adjustment when publishing fails, and counts the failure', async () => {
      const { service, ledger, store, events, metrics } = setup();
      newKey(store);
      ledger.createTransaction.mockResolvedValueOnce(BALANCES);
      events.publish.mockRejectedValueOnce(new Error('Redis down'));
      await expect(service.adjust(request)).resolves.toMatchObject({ balance: 105, replayed: false });
      await new Promise((resolve) => setImmediate(resolve));
      expect((await metrics.realtimePublishFailures.get()).values.map(({ value }) => value)).toEqual([1]);
      expect(events.publish).toHaveBeenCalledTimes(1);
    });

    it('stores and answers at most 100 balances, the adjusted currency kept', async () => {
      const { service, ledger, store } = setup();
      newKey(store);
      const many: Balance[] = Array.from({ length: 150 }, (_, i) => ({ currency: i === 149 ? 'CRD' : `C${i}`, name: null, balance: i }));
      ledger.createTransaction.mockResolvedValueOnce(many);

      const adjustment = await service.adjust(request);
      const kept = [...many.slice(0, 99), many[149]];
      expect(store.settle.mock.calls).toEqual([[ADJ_ID, 'tok', { status: 'APPLIED', balance: 149, balances: kept }]]);
      expect([adjustment.balance, adjustment.balances]).toEqual([149, kept]);
    });
  });

  describe('a request without a key', () => {
    it('gets a gw_ key of the gateway’s, from which its upstream key and id follow, answered with the result', async () => {
      const { service, ledger, store, audit, events } = setup();
      const keyless = { ...request, idempotencyKey: null };
      const key = `gw_${UUIDS[0]}`;
      const fresh = expectedNew(keyless, key);
      newKey(store, fresh);
      ledger.createTransaction.mockResolvedValueOnce(BALANCES);

      const adjustment = await service.adjust(keyless);

      expect([adjustment.id, adjustment.idempotencyKey, adjustment.replayed]).toEqual([adjustmentIdFor(upstreamKeyFor(key)), key, false]);
      expect(store.findByIdempotencyKey.mock.calls).toEqual([[key]]);
      expect(store.claim.mock.calls).toEqual([[fresh, LEASE_MS]]);
      expect(ledger.createTransaction.mock.calls).toEqual([['user_1', { adjustments: { CRD: 5 }, reference: 'T-1 goodwill' }, upstreamKeyFor(key)]]);
      expect(store.settle.mock.calls).toEqual([[fresh.id, 'tok', APPLIED]]);
      expect(audit.mock.calls).toEqual([[auditOf(key, { adjustmentId: fresh.id, balance: 105 }, keyless)]]);
      // The event's id is the next uuid, not the key's.
      expect(events.publish.mock.calls.map(([event]) => event.id)).toEqual([UUIDS[1]]);
    });

    it('names the assigned key in an ambiguous failure, so the caller can retry with it', async () => {
      const { service, ledger, store } = setup();
      const keyless = { ...request, idempotencyKey: null };
      const key = `gw_${UUIDS[0]}`;
      const fresh = expectedNew(keyless, key);
      newKey(store, fresh);
      ledger.createTransaction.mockRejectedValueOnce(new RevenueCatError('timeout', undefined, 'no answer'));

      const error = await failure(service.adjust(keyless));
      expect(error.extensions).toEqual({
        code: 'rc_call_failed',
        status: 502,
        rcType: 'timeout',
        adjustmentId: fresh.id,
        idempotencyKey: key,
        outcome: 'unknown',
      });
    });
  });

  describe('a refusal by RevenueCat', () => {
    it('answers a refused deduction as insufficient_balance with the re-read balance, stored REJECTED and audited', async () => {
      const { service, ledger, store, audit, events } = setup();
      const deduction = { ...request, amount: -5 };
      const fresh = expectedNew(deduction, 'k-1');
      newKey(store, fresh);
      ledger.createTransaction.mockRejectedValueOnce(new RevenueCatError('unprocessable_entity_error', 422, 'no'));
      ledger.listBalances.mockResolvedValueOnce([
        { currency: 'GEM', name: 'Gems', balance: 9 },
        { currency: 'CRD', name: 'Credits', balance: 3 },
      ]);

      const error = await failure(service.adjust(deduction));
      const details = { balance: 3, adjustmentId: fresh.id, idempotencyKey: 'k-1' };
      expect(error.extensions).toEqual({ code: 'insufficient_balance', status: 422, ...details });
      expect(ledger.listBalances.mock.calls).toEqual([['user_1', { includeEmpty: true }]]);
      expect(store.settle.mock.calls).toEqual([[fresh.id, 'tok', { status: 'REJECTED', error: { code: 'insufficient_balance', message: error.message, details } }]]);
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'insufficient_balance', adjustmentId: fresh.id }, deduction)]]);
      expect(events.publish).not.toHaveBeenCalled();
    });

    it('answers insufficient_balance without a balance when the balance cannot be re-read', async () => {
      const { service, ledger, store } = setup();
      const deduction = { ...request, amount: -5 };
      const fresh = expectedNew(deduction, 'k-1');
      newKey(store, fresh);
      ledger.createTransaction.mockRejectedValueOnce(new RevenueCatError('unprocessable_entity_error', 422, 'no'));
      ledger.listBalances.mockRejectedValueOnce(new RevenueCatError('server_error', 503, 'down'));

      const error = await failure(service.adjust(deduction));
      expect(error.extensions).toEqual({ code: 'insufficient_balance', status: 422, adjustmentId: fresh.id, idempotencyKey: 'k-1' });
      expect(store.settle.mock.calls[0][2]).toEqual({
        status: 'REJECTED',
        error: { code: 'insufficient_balance', message: error.message, details: { adjustmentId: fresh.id, idempotencyKey: 'k-1' } },
      });
    });

    it('answers a refused grant as balance_limit_exceeded, without re-reading the balance', async () => {
      const { service, ledger, store } = setup();
      newKey(store);
      ledger.createTransaction.mockRejectedValueOnce(new RevenueCatError('unprocessable_entity_error', 422, 'no'));

      const error = await failure(service.adjust(request));
      expect(error.extensions).toEqual({ code: 'balance_limit_exceeded', status: 422, adjustmentId: ADJ_ID, idempotencyKey: 'k-1' });
      expect(ledger.listBalances).not.toHaveBeenCalled();
      expect(store.settle.mock.calls.map(([id, token, outcome]) => [id, token, outcome.status])).toEqual([[ADJ_ID, 'tok', 'REJECTED']]);
    });

    it('answers RevenueCat’s 409 idempotency_error as idempotency_key_reused, stored REJECTED', async () => {
      const { service, ledger, store } = setup();
      newKey(store);
      ledger.createTransaction.mockRejectedValueOnce(new RevenueCatError('idempotency_error', 409, 'key reused'));

      const error = await failure(service.adjust(request));
      const details = { field: 'idempotencyKey', adjustmentId: ADJ_ID, idempotencyKey: 'k-1' };
      expect(error.extensions).toEqual({ code: 'idempotency_key_reused', status: 422, ...details });
      expect(store.settle.mock.calls).toEqual([[ADJ_ID, 'tok', { status: 'REJECTED', error: { code: 'idempotency_key_reused', message: error.message, details } }]]);
    });
  });

  describe('an ambiguous outcome', () => {
    it('settles a timeout UNKNOWN and answers rc_call_failed with outcome unknown', async () => {
      const { service, ledger, store, audit, events } = setup();
      newKey(store);
      ledger.createTransaction.mockRejectedValueOnce(new RevenueCatError('timeout', undefined, 'no answer'));

      const error = await failure(service.adjust(request));
      const details = { rcType: 'timeout', adjustmentId: ADJ_ID, idempotencyKey: 'k-1', outcome: 'unknown' };
      expect([error.message, error.extensions]).toEqual(['rc_call_failed: timeout', { code: 'rc_call_failed', status: 502, ...details }]);
      expect(store.settle.mock.calls).toEqual([[ADJ_ID, 'tok', { status: 'UNKNOWN', error: { code: 'rc_call_failed', message: 'rc_call_failed: timeout', details } }]]);
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'rc_call_failed', adjustmentId: ADJ_ID })]]);
      expect(events.publish).not.toHaveBeenCalled();
    });

    it('settles an unexpected error UNKNOWN as internal_error (RevenueCat may have applied it)', async () => {
      const { service, ledger, store, audit } = setup();
      newKey(store);
      ledger.createTransaction.mockRejectedValueOnce(new TypeError('boom'));

      const error = await failure(service.adjust(request));
      const details = { adjustmentId: ADJ_ID, idempotencyKey: 'k-1', outcome: 'unknown' };
      expect(error.extensions).toEqual({ code: 'internal_error', status: 500, ...details });
      expect(error.message).not.toContain('boom');
      expect(store.settle.mock.calls).toEqual([[ADJ_ID, 'tok', { status: 'UNKNOWN', error: { code: 'internal_error', message: error.message, details } }]]);
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'internal_error', adjustmentId: ADJ_ID })]]);
    });

    it('sends a retry of an UNKNOWN record again under the same upstream key, without checking the currency', async () => {
      const { service, ledger, catalog, store, events } = setup();
      const unknownRow = row(NEW, { status: 'UNKNOWN', leaseToken: null, leaseExpiresAt: null, errorCode: 'rc_call_failed' });
      const reclaimed = row(NEW, { attempts: 2, leaseToken: 'tok-2' });
      store.findByIdempotencyKey.mockResolvedValueOnce(unknownRow);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: reclaimed, token: 'tok-2' });
      store.settle.mockResolvedValueOnce(settledRow(reclaimed, APPLIED));
      ledger.createTransaction.mockResolvedValueOnce(BALANCES);
      catalog.find.mockRejectedValue(new RevenueCatError('server_error', 503, 'down'));

      expect(await service.adjust(request)).toMatchObject({ id: ADJ_ID, balance: 105, replayed: false });
      expect(catalog.find).not.toHaveBeenCalled();
      expect(ledger.createTransaction.mock.calls).toEqual([['user_1', { adjustments: { CRD: 5 }, reference: 'T-1 goodwill' }, upstreamKeyFor('k-1')]]);
      expect(store.settle.mock.calls).toEqual([[ADJ_ID, 'tok-2', APPLIED]]);
      expect(events.publish).toHaveBeenCalledTimes(1);
    });
  });

  describe('a key already settled', () => {
    it('replays an APPLIED record with replayed: true, announcing nothing, needing neither the currency list nor RevenueCat', async () => {
      const { service, ledger, catalog, store, audit, events, metrics } = setup();
      settledKey(store, settledRow(row(NEW), APPLIED));
      catalog.find.mockRejectedValue(new RevenueCatError('server_error', 503, 'down'));

      const adjustment = await service.adjust(request);
      expect(adjustment).toMatchObject({ id: ADJ_ID, balance: 105, balances: BALANCES, idempotencyKey: 'k-1', replayed: true, adjustedAt: SETTLED_AT });
      expect(store.claim.mock.calls).toEqual([[NEW, LEASE_MS]]);
      expect(catalog.find).not.toHaveBeenCalled();
      expect(ledger.createTransaction).not.toHaveBeenCalled();
      expect(events.publish).not.toHaveBeenCalled();
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'replayed', replayed: true, adjustmentId: ADJ_ID, balance: 105 })]]);
      expect((await metrics.idempotencyReplays.get()).values.map(({ value }) => value)).toEqual([1]);
    });

    it('replays a stored rejection exactly, without RevenueCat', async () => {
      const { service, ledger, catalog, store, audit } = setup();
      const details = { balance: 3, adjustmentId: ADJ_ID, idempotencyKey: 'k-1' };
      settledKey(store, settledRow(row(NEW), { status: 'REJECTED', error: { code: 'insufficient_balance', message: 'insufficient_balance: x', details } }));

      const error = await failure(service.adjust(request));
      expect([error.message, error.extensions]).toEqual(['insufficient_balance: x', { code: 'insufficient_balance', status: 422, ...details }]);
      expect([catalog.find.mock.calls.length, ledger.createTransaction.mock.calls.length, ledger.listBalances.mock.calls.length]).toEqual([0, 0, 0]);
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'insufficient_balance', adjustmentId: ADJ_ID })]]);
    });
  });

  describe('a key the request cannot use', () => {
    it('answers 422 idempotency_key_reused for the same key with another request, and sends nothing', async () => {
      const { service, ledger, catalog, store, audit } = setup();
      const other = settledRow(row({ ...NEW, fingerprint: 'fp-other', amount: 7 }), APPLIED);
      store.findByIdempotencyKey.mockResolvedValueOnce(other);
      store.claim.mockResolvedValueOnce({ kind: 'mismatch', record: other });

      const error = await failure(service.adjust(request));
      expect(error.extensions).toEqual({ code: 'idempotency_key_reused', status: 422, field: 'idempotencyKey' });
      expect([catalog.find.mock.calls.length, ledger.createTransaction.mock.calls.length]).toEqual([0, 0]);
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'idempotency_key_reused' })]]);
    });

    it('answers 409 idempotency_key_in_progress while another request holds the key', async () => {
      const { service, ledger, store, audit } = setup();
      const running = row(NEW, { leaseToken: 'theirs' });
      store.findByIdempotencyKey.mockResolvedValueOnce(running);
      store.claim.mockResolvedValueOnce({ kind: 'in_progress', record: running });

      const error = await failure(service.adjust(request));
      expect(error.extensions).toEqual({ code: 'idempotency_key_in_progress', status: 409 });
      expect(ledger.createTransaction).not.toHaveBeenCalled();
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'idempotency_key_in_progress' })]]);
    });
  });

  describe('a check that fails before anything is written', () => {
    it('fails with rc_call_failed when the currency list cannot be read, writing and sending nothing', async () => {
      const { service, catalog, store, ledger, audit } = setup();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      catalog.find.mockRejectedValueOnce(new RevenueCatError('rate_limit_error', 429, 'slow down'));

      const error = await failure(service.adjust(request));
      expect([error.message, error.extensions]).toEqual(['rc_call_failed: rate_limit_error', { code: 'rc_call_failed', status: 502, rcType: 'rate_limit_error' }]);
      expect(store.findByIdempotencyKey.mock.calls).toEqual([['k-1']]);
      expect([store.claim.mock.calls.length, store.settle.mock.calls.length, ledger.createTransaction.mock.calls.length]).toEqual([0, 0, 0]);
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'rc_call_failed' })]]);
    });

    it('answers an unknown currency without remembering it: a later request with the key is checked again', async () => {
      const { service, catalog, store, ledger } = setup();
      const gems = { ...request, currency: 'GEM' };
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      catalog.find.mockResolvedValueOnce(undefined);

      const error = await failure(service.adjust(gems));
      expect(error.extensions).toEqual({ code: 'unknown_currency', status: 400, field: 'currency', currency: 'GEM' });
      expect([store.claim.mock.calls.length, store.settle.mock.calls.length, ledger.createTransaction.mock.calls.length]).toEqual([0, 0, 0]);

      // Created a moment later: the same key now applies.
      const fresh = expectedNew(gems, 'k-1');
      newKey(store, fresh);
      catalog.find.mockResolvedValueOnce({ code: 'GEM', name: 'Gems' } as never);
      ledger.createTransaction.mockResolvedValueOnce([{ currency: 'GEM', name: 'Gems', balance: 5 }]);
      expect(await service.adjust(gems)).toMatchObject({ balance: 5, replayed: false });
      expect(catalog.find.mock.calls).toEqual([['GEM'], ['GEM']]);
      expect(store.claim.mock.calls).toEqual([[fresh, LEASE_MS]]);
    });

    it('answers dependency_unavailable when the journal does not answer, sending nothing', async () => {
      const { service, catalog, store, ledger, audit } = setup();
      store.findByIdempotencyKey.mockRejectedValueOnce(new DatabaseUnavailableError());

      const error = await failure(service.adjust(request));
      expect(error.extensions).toEqual({ code: 'dependency_unavailable', status: 503, dependency: 'database' });
      expect([catalog.find.mock.calls.length, ledger.createTransaction.mock.calls.length]).toEqual([0, 0]);
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'dependency_unavailable' })]]);
    });
  });

  describe('a settlement that fails after RevenueCat applied', () => {
    it('still answers the applied adjustment when the database is down, and the retry that settles it announces it once', async () => {
      const { service, ledger, store, audit, events } = setup();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: row(NEW), token: 'tok' });
      store.settle.mockRejectedValueOnce(new DatabaseUnavailableError());
      ledger.createTransaction.mockResolvedValueOnce(BALANCES);

      const adjustment = await service.adjust(request);
      expect(adjustment).toMatchObject({ id: ADJ_ID, balance: 105, balances: BALANCES, replayed: false });
      expect(store.settle.mock.calls).toEqual([[ADJ_ID, 'tok', APPLIED]]);
      // The record is still PENDING: whoever stores APPLIED announces it, once.
      expect(events.publish).not.toHaveBeenCalled();
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'applied', adjustmentId: ADJ_ID, balance: 105 })]]);

      // The retry after the lease: re-claimed, sent again under the same upstream key, settled, announced.
      const reclaimed = row(NEW, { attempts: 2, leaseToken: 'tok-2' });
      store.findByIdempotencyKey.mockResolvedValueOnce(row(NEW));
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: reclaimed, token: 'tok-2' });
      store.settle.mockResolvedValueOnce({ ...reclaimed, status: 'APPLIED', balance: 105, balances: BALANCES, settledAt: new Date() });
      ledger.createTransaction.mockResolvedValueOnce(BALANCES);
      expect(await service.adjust(request)).toMatchObject({ id: ADJ_ID, balance: 105 });
      expect(events.publish).toHaveBeenCalledTimes(1);
    });

    it('answers replayed: true and announces nothing when the lease was lost (the other request announces it)', async () => {
      const { service, ledger, store, audit, events } = setup();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: row(NEW), token: 'tok' });
      store.settle.mockResolvedValueOnce(null);
      ledger.createTransaction.mockResolvedValueOnce(BALANCES);

      expect(await service.adjust(request)).toMatchObject({ id: ADJ_ID, balance: 105, replayed: true });
      expect(events.publish).not.toHaveBeenCalled();
      expect(audit.mock.calls).toEqual([[auditOf('k-1', { outcome: 'replayed', replayed: true, adjustmentId: ADJ_ID, balance: 105 })]]);
    });
  });

  describe('a reversal', () => {
    const ORIGINAL = row(NEW, { status: 'APPLIED', balance: 105, balances: BALANCES, leaseToken: null, leaseExpiresAt: null, settledAt: SETTLED_AT });
    const reversal: ReversalRequest = { adjustmentId: ADJ_ID, reason: 'T-2 undo the grant', idempotencyKey: 'r-1', actor };
    /** The reversal as the audit line and the fingerprint see it: the original's user and currency, the opposite amount. */
    const asAdjustment: AdjustmentRequest = { ...request, amount: -5, reason: 'T-2 undo the grant', idempotencyKey: 'r-1' };
    const REVERSAL: NewAdjustment = {
      ...expectedNew(asAdjustment, 'r-1'),
      fingerprint: requestFingerprint({ ...asAdjustment, reversesId: ADJ_ID }),
      reversesId: ADJ_ID,
    };

    it('claims a record of the opposite amount that reverses the original, under its own key and upstream key, answers, announces and audits it', async () => {
      const { service, ledger, catalog, store, audit, events, journal } = setup();
      journal.findById.mockResolvedValueOnce(ORIGINAL);
      newKey(store, REVERSAL);
      ledger.createTransaction.mockResolvedValueOnce([{ currency: 'CRD', name: 'Credits', balance: 100 }]);

      const reversed = await service.reverse(reversal);

      expect(reversed).toMatchObject({ id: REVERSAL.id, amount: -5, balance: 100, idempotencyKey: 'r-1', replayed: false, reversesId: ADJ_ID });
      expect(REVERSAL.id).toBe(adjustmentIdFor(upstreamKeyFor('r-1')));
      // A plain deduction of the same amount and reason has another fingerprint: a key cannot serve both.
      expect(REVERSAL.fingerprint).not.toBe(requestFingerprint(asAdjustment));
      expect(journal.findById.mock.calls).toEqual([[ADJ_ID]]);
      expect(store.claim.mock.calls).toEqual([[REVERSAL, LEASE_MS]]);
      // The currency was RevenueCat's when the original applied: not looked up again.
      expect(catalog.find).not.toHaveBeenCalled();
      expect(ledger.createTransaction.mock.calls).toEqual([['user_1', { adjustments: { CRD: -5 }, reference: 'T-2 undo the grant' }, upstreamKeyFor('r-1')]]);
      expect(events.publish.mock.calls.map(([event]) => [event.delta, event.balance])).toEqual([[-5, 100]]);
      expect(audit.mock.calls).toEqual([[auditOf('r-1', { outcome: 'applied', adjustmentId: REVERSAL.id, balance: 100, reversesId: ADJ_ID }, asAdjustment)]]);
    });

    it('answers already_reversed naming the live reversal when the claim finds one, sending nothing', async () => {
      const { service, ledger, store, audit, journal } = setup();
      journal.findById.mockResolvedValueOnce({ ...ORIGINAL, reversedById: 'adj_live' });
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'already_reversed', reversalId: 'adj_live' });

      const error = await failure(service.reverse(reversal));

      expect(error.extensions).toEqual({ code: 'already_reversed', status: 409, reversalId: 'adj_live' });
      expect(ledger.createTransaction).not.toHaveBeenCalled();
      expect(audit.mock.calls).toEqual([[auditOf('r-1', { outcome: 'already_reversed', reversesId: ADJ_ID }, asAdjustment)]]);
    });

    it.each([
      ['an unknown id', null, 'not_found'],
      ['a REJECTED original', { ...ORIGINAL, status: 'REJECTED' as const }, 'not_reversible'],
      ['an UNKNOWN original', { ...ORIGINAL, status: 'UNKNOWN' as const }, 'not_reversible'],
      ['a PENDING original', { ...ORIGINAL, status: 'PENDING' as const }, 'not_reversible'],
      ['a reversal', { ...ORIGINAL, amount: -5, reversesId: 'adj_other' }, 'not_reversible'],
    ])('refuses %s (%s) before anything is written or sent', async (_name, found, code) => {
      const { service, ledger, audit, journal } = setup();
      journal.findById.mockResolvedValueOnce(found);
      const error = await failure(service.reverse(reversal));
      expect(error.extensions).toMatchObject({ code, field: 'adjustmentId' });
      // The strict store fails the test on any call; RevenueCat and the audit log see nothing either.
      expect(ledger.createTransaction).not.toHaveBeenCalled();
      expect(audit).not.toHaveBeenCalled();
    });
  });

  it('counts the adjustment as in flight from its first step to its answer', async () => {
    const { service, ledger, store, lifecycle } = setup();
    newKey(store);
    let answer!: (balances: Balance[]) => void;
    ledger.createTransaction.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));

    const adjusting = service.adjust(request);
    expect(lifecycle.adjustments.size).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ledger.createTransaction).toHaveBeenCalledTimes(1);
    expect(lifecycle.adjustments.size).toBe(1);
    answer(BALANCES);
    await adjusting;
    await new Promise((resolve) => setImmediate(resolve));
    expect(lifecycle.adjustments.size).toBe(0);
  });
});
