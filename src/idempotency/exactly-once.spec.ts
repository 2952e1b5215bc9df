import { Logger } from '@nestjs/common';
import { Errors, GatewayError } from '../common/errors';
import { failureOf } from '../common/testing/failure-of';
import { loadConfig } from '../config/app-config';
import { DatabaseUnavailableError } from '../database/database-errors';
import { Lifecycle } from '../lifecycle/lifecycle';
import { Metrics } from '../metrics/metrics';
import { Attempt, ExactlyOnce, OnceOnly } from './exactly-once';
import { AdjustmentRecord, IdempotencyStore, NewAdjustment, Outcome } from './idempotency-store.port';

const LEASE_MS = 60_000;
const CREATED_AT = new Date('2026-11-21T10:00:00.000Z');
const SETTLED_AT = new Date('2026-11-21T10:00:01.000Z');

/** What the service asks to be written PENDING. */
const NEW: NewAdjustment = {
  id: 'adj_1',
  idempotencyKey: 'k-1',
  fingerprint: 'fp-1',
  userId: 'user_1',
  currency: 'CRD',
  amount: 5,
  reason: 'T-1 goodwill',
  upstreamKey: 'cag_1',
  actorOperatorId: null,
  actorName: 'admin',
  actorRole: 'ADMIN',
  actorOnBehalfOf: null,
};

/** A journal row as the repository returns it: NEW with the repository's columns. */
function row(columns: Partial<AdjustmentRecord> = {}): AdjustmentRecord {
  return {
    ...NEW,
    actorOperatorId: null,
    actorOnBehalfOf: null,
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
    reversesId: null,
    reversedById: null,
    bulkAdjustmentId: null,
    leaseToken: 'tok',
    leaseExpiresAt: new Date(CREATED_AT.getTime() + LEASE_MS),
    createdAt: CREATED_AT,
    settledAt: null,
    ...columns,
  };
}

/** The row the repository's `settle` writes for `outcome` (adjustment.repository.ts). */
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

const BALANCES = [
  { currency: 'CRD', name: 'Credits', balance: 105 },
  { currency: 'GEM', name: null, balance: 0 },
];
const APPLIED: Attempt = { status: 'APPLIED', balance: 105, balances: BALANCES };
const APPLIED_OUTCOME: Outcome = { status: 'APPLIED', balance: 105, balances: BALANCES };

/**
 * A strict store: each call must have been queued by the test (mockResolvedValueOnce and the like).
 * An unexpected call throws, and is also remembered, so that one swallowed by the protocol (settle's
 * failure is answered around) still fails the test in afterEach.
 */
function strictStore(unexpected: string[]): jest.Mocked<IdempotencyStore> {
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

describe('ExactlyOnce', () => {
  let unexpected: string[];
  let warn: jest.SpyInstance;

  beforeEach(() => {
    unexpected = [];
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    expect(unexpected).toEqual([]);
  });

  function setup() {
    const store = strictStore(unexpected);
    const metrics = new Metrics();
    const lifecycle = new Lifecycle();
    const protocol = new ExactlyOnce(store, metrics, loadConfig({}), lifecycle);
    const prepare = jest.fn<Promise<void>, []>().mockResolvedValue(undefined);
    const apply = jest.fn<Promise<Attempt>, [AdjustmentRecord]>();
    const once: OnceOnly = { record: NEW, prepare, apply };
    return { store, metrics, protocol, prepare, apply, once, lifecycle };
  }

  async function conflicts(metrics: Metrics) {
    return (await metrics.idempotencyConflicts.get()).values.map(({ labels, value }) => ({ labels, value }));
  }
  async function replays(metrics: Metrics) {
    return (await metrics.idempotencyReplays.get()).values.map(({ value }) => value);
  }

  describe('a new key', () => {
    it('is looked up, prepared, claimed PENDING, applied with the claimed record and settled APPLIED', async () => {
      const { store, metrics, protocol, prepare, apply, once } = setup();
      const claimed = row();
      const settled = settledRow(claimed, APPLIED_OUTCOME);
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: claimed, token: 'tok' });
      store.settle.mockResolvedValueOnce(settled);
      apply.mockResolvedValueOnce(APPLIED);

      const result = await protocol.run(once);

      expect(result).toEqual({ record: settled, replayed: false, announce: true });
      expect(result.record).toBe(settled);
      expect(store.findByIdempotencyKey.mock.calls).toEqual([['k-1']]);
      expect(prepare.mock.calls).toEqual([[]]);
      expect(store.claim.mock.calls).toEqual([[NEW, LEASE_MS]]);
      expect(apply.mock.calls).toEqual([[claimed]]);
      expect(apply.mock.calls[0][0]).toBe(claimed);
      expect(store.settle.mock.calls).toEqual([['adj_1', 'tok', APPLIED_OUTCOME]]);
      // In this order: nothing is sent before the claim, nothing settled before the answer.
      const order = [
        store.findByIdempotencyKey.mock.invocationCallOrder[0],
        prepare.mock.invocationCallOrder[0],
        store.claim.mock.invocationCallOrder[0],
        apply.mock.invocationCallOrder[0],
        store.settle.mock.invocationCallOrder[0],
      ];
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(await replays(metrics)).toEqual([0]);
      expect(await conflicts(metrics)).toEqual([]);
      expect(warn).not.toHaveBeenCalled();
    });

    it('writes nothing when prepare fails: the same error, no claim, nothing sent', async () => {
      const { store, protocol, prepare, apply, once } = setup();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      const unknown = Errors.unknownCurrency('GEM');
      prepare.mockRejectedValueOnce(unknown);

      expect(await failureOf(GatewayError, protocol.run(once))).toBe(unknown);
      expect(store.findByIdempotencyKey.mock.calls).toEqual([['k-1']]);
      expect(prepare).toHaveBeenCalledTimes(1);
      expect(store.claim).not.toHaveBeenCalled();
      expect(apply).not.toHaveBeenCalled();
      expect(store.settle).not.toHaveBeenCalled();
    });

    it('answers dependency_unavailable and sends nothing when the journal cannot be read', async () => {
      const { store, protocol, prepare, apply, once } = setup();
      store.findByIdempotencyKey.mockRejectedValueOnce(new DatabaseUnavailableError());

      const error = await failureOf(GatewayError, protocol.run(once));
      expect(error.extensions).toEqual({ code: 'dependency_unavailable', status: 503, dependency: 'database' });
      expect([prepare.mock.calls.length, apply.mock.calls.length, store.claim.mock.calls.length]).toEqual([0, 0, 0]);
    });

    it('answers dependency_unavailable and sends nothing when the claim cannot be written', async () => {
      const { store, protocol, prepare, apply, once } = setup();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockRejectedValueOnce(new DatabaseUnavailableError());

      const error = await failureOf(GatewayError, protocol.run(once));
      expect(error.extensions).toEqual({ code: 'dependency_unavailable', status: 503, dependency: 'database' });
      expect(store.claim.mock.calls).toEqual([[NEW, LEASE_MS]]);
      expect(prepare).toHaveBeenCalledTimes(1);
      expect(apply).not.toHaveBeenCalled();
      expect(store.settle).not.toHaveBeenCalled();
    });
  });

  describe('a definitive refusal', () => {
    it('is settled REJECTED with the error naming the record and key, and thrown', async () => {
      const { store, protocol, apply, once } = setup();
      const claimed = row();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: claimed, token: 'tok' });
      apply.mockResolvedValueOnce({ status: 'REJECTED', error: Errors.insufficientBalance(3) });
      const stored: Outcome = {
        status: 'REJECTED',
        error: {
          code: 'insufficient_balance',
          message: 'insufficient_balance: the deduction would take the balance below zero',
          details: { balance: 3, adjustmentId: 'adj_1', idempotencyKey: 'k-1' },
        },
      };
      store.settle.mockResolvedValueOnce(settledRow(claimed, stored));

      const error = await failureOf(GatewayError, protocol.run(once));
      expect([error.code, error.message, error.extensions]).toEqual([
        'insufficient_balance',
        'insufficient_balance: the deduction would take the balance below zero',
        { code: 'insufficient_balance', status: 422, balance: 3, adjustmentId: 'adj_1', idempotencyKey: 'k-1' },
      ]);
      expect(store.settle.mock.calls).toEqual([['adj_1', 'tok', stored]]);
    });

    it('is replayed from its record as the identical error, without preparing or sending', async () => {
      const { store, metrics, protocol, prepare, apply, once } = setup();
      const claimed = row();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: claimed, token: 'tok' });
      apply.mockResolvedValueOnce({ status: 'REJECTED', error: Errors.customerNotFound() });
      store.settle.mockImplementationOnce(async (_id, _token, outcome) => settledRow(claimed, outcome));
      const first = await failureOf(GatewayError, protocol.run(once));

      // The second request finds what the first one stored.
      const rejected = settledRow(claimed, store.settle.mock.calls[0][2]);
      store.findByIdempotencyKey.mockResolvedValueOnce(rejected);
      store.claim.mockResolvedValueOnce({ kind: 'settled', record: rejected });
      const replay = await failureOf(GatewayError, protocol.run(once));

      expect([replay.code, replay.status, replay.message, replay.extensions]).toEqual([first.code, first.status, first.message, first.extensions]);
      expect(replay.extensions).toEqual({ code: 'rc_customer_not_found', status: 404, adjustmentId: 'adj_1', idempotencyKey: 'k-1' });
      expect([prepare.mock.calls.length, apply.mock.calls.length, store.settle.mock.calls.length]).toEqual([1, 1, 1]);
      expect(store.claim.mock.calls).toEqual([
        [NEW, LEASE_MS],
        [NEW, LEASE_MS],
      ]);
      expect(await replays(metrics)).toEqual([1]);
    });

    it('replays a CANCELLED record as its stored error', async () => {
      const { store, protocol, prepare, apply, once } = setup();
      const cancelled = row({
        status: 'CANCELLED',
        leaseToken: null,
        leaseExpiresAt: null,
        settledAt: SETTLED_AT,
        errorCode: 'invalid_state',
        errorMessage: 'invalid_state: the bulk adjustment was cancelled',
        errorDetails: { adjustmentId: 'adj_1', idempotencyKey: 'k-1' },
      });
      store.findByIdempotencyKey.mockResolvedValueOnce(cancelled);
      store.claim.mockResolvedValueOnce({ kind: 'settled', record: cancelled });

      const error = await failureOf(GatewayError, protocol.run(once));
      expect([error.message, error.extensions]).toEqual([
        'invalid_state: the bulk adjustment was cancelled',
        { code: 'invalid_state', status: 409, adjustmentId: 'adj_1', idempotencyKey: 'k-1' },
      ]);
      expect([prepare.mock.calls.length, apply.mock.calls.length]).toEqual([0, 0]);
    });
  });

  describe('an ambiguous outcome', () => {
    it('is settled UNKNOWN and thrown with outcome unknown; the next request re-claims and sends it again', async () => {
      const { store, protocol, prepare, apply, once } = setup();
      const claimed = row();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: claimed, token: 'tok' });
      apply.mockResolvedValueOnce({ status: 'UNKNOWN', error: Errors.rcCallFailed('timeout') });
      const unknownOutcome: Outcome = {
        status: 'UNKNOWN',
        error: {
          code: 'rc_call_failed',
          message: 'rc_call_failed: timeout',
          details: { rcType: 'timeout', adjustmentId: 'adj_1', idempotencyKey: 'k-1', outcome: 'unknown' },
        },
      };
      const unknownRow = settledRow(claimed, unknownOutcome);
      store.settle.mockResolvedValueOnce(unknownRow);

      const error = await failureOf(GatewayError, protocol.run(once));
      expect([error.message, error.extensions]).toEqual([
        'rc_call_failed: timeout',
        { code: 'rc_call_failed', status: 502, rcType: 'timeout', adjustmentId: 'adj_1', idempotencyKey: 'k-1', outcome: 'unknown' },
      ]);
      expect(store.settle.mock.calls).toEqual([['adj_1', 'tok', unknownOutcome]]);

      // The retry: the record exists, so no prepare; the repository re-claims the UNKNOWN record.
      const reclaimed = row({ attempts: 2, leaseToken: 'tok-2', errorCode: 'rc_call_failed', errorMessage: 'rc_call_failed: timeout' });
      const applied = settledRow(reclaimed, APPLIED_OUTCOME);
      store.findByIdempotencyKey.mockResolvedValueOnce(unknownRow);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: reclaimed, token: 'tok-2' });
      apply.mockResolvedValueOnce(APPLIED);
      store.settle.mockResolvedValueOnce(applied);

      expect(await protocol.run(once)).toEqual({ record: applied, replayed: false, announce: true });
      expect(prepare).toHaveBeenCalledTimes(1);
      expect(apply.mock.calls).toEqual([[claimed], [reclaimed]]);
      expect(store.claim.mock.calls).toEqual([
        [NEW, LEASE_MS],
        [NEW, LEASE_MS],
      ]);
      expect(store.settle.mock.calls).toEqual([
        ['adj_1', 'tok', unknownOutcome],
        ['adj_1', 'tok-2', APPLIED_OUTCOME],
      ]);
    });
  });

  describe('a settled key', () => {
    it('replays an APPLIED record with replayed: true, without preparing, sending or settling', async () => {
      const { store, metrics, protocol, prepare, apply, once } = setup();
      const applied = settledRow(row(), APPLIED_OUTCOME);
      store.findByIdempotencyKey.mockResolvedValueOnce(applied);
      store.claim.mockResolvedValueOnce({ kind: 'settled', record: applied });

      const result = await protocol.run(once);
      expect(result).toEqual({ record: applied, replayed: true, announce: false });
      expect(result.record).toBe(applied);
      expect(store.findByIdempotencyKey.mock.calls).toEqual([['k-1']]);
      expect(store.claim.mock.calls).toEqual([[NEW, LEASE_MS]]);
      expect([prepare.mock.calls.length, apply.mock.calls.length, store.settle.mock.calls.length]).toEqual([0, 0, 0]);
      expect(await replays(metrics)).toEqual([1]);
    });
  });

  describe('a key that is not the caller’s to run', () => {
    it.each([
      ['the same key with another request', row({ fingerprint: 'fp-other' })],
      ['a key first written between the look-up and the claim', null],
    ])('refuses a mismatch (%s) with 422 idempotency_key_reused and counts it', async (_case, found) => {
      const { store, metrics, protocol, prepare, apply, once } = setup();
      const other = row({ fingerprint: 'fp-other', status: 'APPLIED', settledAt: SETTLED_AT, leaseToken: null, leaseExpiresAt: null });
      store.findByIdempotencyKey.mockResolvedValueOnce(found);
      store.claim.mockResolvedValueOnce({ kind: 'mismatch', record: other });

      const error = await failureOf(GatewayError, protocol.run(once));
      expect([error.message, error.extensions]).toEqual([
        'idempotency_key_reused: this idempotency key was already used for a different request',
        { code: 'idempotency_key_reused', status: 422, field: 'idempotencyKey' },
      ]);
      expect(await conflicts(metrics)).toEqual([{ labels: { kind: 'reused' }, value: 1 }]);
      expect(prepare).toHaveBeenCalledTimes(found === null ? 1 : 0);
      expect(apply).not.toHaveBeenCalled();
      expect(store.settle).not.toHaveBeenCalled();
    });

    it('refuses a key held by a running request with 409 idempotency_key_in_progress and counts it', async () => {
      const { store, metrics, protocol, prepare, apply, once } = setup();
      const running = row({ leaseToken: 'theirs' });
      store.findByIdempotencyKey.mockResolvedValueOnce(running);
      store.claim.mockResolvedValueOnce({ kind: 'in_progress', record: running });

      const error = await failureOf(GatewayError, protocol.run(once));
      expect(error.extensions).toEqual({ code: 'idempotency_key_in_progress', status: 409 });
      expect(await conflicts(metrics)).toEqual([{ labels: { kind: 'in_progress' }, value: 1 }]);
      expect(store.claim.mock.calls).toEqual([[NEW, LEASE_MS]]);
      expect([prepare.mock.calls.length, apply.mock.calls.length, store.settle.mock.calls.length]).toEqual([0, 0, 0]);
    });

    it('refuses a second live reversal with 409 already_reversed naming the live one', async () => {
      const { store, metrics, protocol, apply, once } = setup();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'already_reversed', reversalId: 'adj_rev' });

      const error = await failureOf(GatewayError, protocol.run(once));
      expect(error.extensions).toEqual({ code: 'already_reversed', status: 409, reversalId: 'adj_rev' });
      expect(await conflicts(metrics)).toEqual([]);
      expect(apply).not.toHaveBeenCalled();
      expect(store.settle).not.toHaveBeenCalled();
    });
  });

  describe('a settlement that fails after RevenueCat answered', () => {
    /** Resolves once the background settlements are done (the Lifecycle counts them as in flight). */
    async function settledInBackground(lifecycle: Lifecycle): Promise<void> {
      expect(await lifecycle.adjustments.whenIdle(5000)).toBe(true);
    }

    it('answers the applied result, then stores it in the background once the database answers, and hands it over to announce', async () => {
      const { store, protocol, apply, once, lifecycle } = setup();
      const claimed = row();
      const settledLater = jest.fn<void, [AdjustmentRecord]>();
      const settled = settledRow(claimed, APPLIED_OUTCOME);
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: claimed, token: 'tok' });
      apply.mockResolvedValueOnce(APPLIED);
      store.settle.mockRejectedValueOnce(new DatabaseUnavailableError()).mockRejectedValueOnce(new DatabaseUnavailableError()).mockResolvedValueOnce(settled);

      const result = await protocol.run({ ...once, settledLater });
      expect(result).toEqual({
        record: { ...claimed, status: 'APPLIED', balance: 105, balances: BALANCES, settledAt: expect.any(Date) },
        replayed: false,
        announce: false,
      });
      expect(lifecycle.adjustments.size).toBe(1);
      expect(settledLater).not.toHaveBeenCalled();

      await settledInBackground(lifecycle);
      expect(store.settle.mock.calls).toEqual([
        ['adj_1', 'tok', APPLIED_OUTCOME],
        ['adj_1', 'tok', APPLIED_OUTCOME],
        ['adj_1', 'tok', APPLIED_OUTCOME],
      ]);
      expect(settledLater.mock.calls).toEqual([[settled]]);
      expect(warn.mock.calls).toEqual([['adjustment adj_1 not settled as APPLIED (the database does not answer); retrying in the background']]);
    });

    it('still throws the refusal, not the database error, when a REJECTED outcome cannot be stored, and stores it later', async () => {
      const { store, protocol, apply, once, lifecycle } = setup();
      const claimed = row();
      const settledLater = jest.fn<void, [AdjustmentRecord]>();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: claimed, token: 'tok' });
      apply.mockResolvedValueOnce({ status: 'REJECTED', error: Errors.balanceLimitExceeded() });
      store.settle.mockRejectedValueOnce(new DatabaseUnavailableError()).mockImplementationOnce(async (_id, _token, outcome) => settledRow(claimed, outcome));

      const error = await failureOf(GatewayError, protocol.run({ ...once, settledLater }));
      expect(error.extensions).toEqual({ code: 'balance_limit_exceeded', status: 422, adjustmentId: 'adj_1', idempotencyKey: 'k-1' });
      expect(warn.mock.calls).toEqual([[expect.stringContaining('adjustment adj_1 not settled as REJECTED')]]);

      await settledInBackground(lifecycle);
      expect(store.settle).toHaveBeenCalledTimes(2);
      expect(store.settle.mock.calls[1][2]).toMatchObject({ status: 'REJECTED', error: { code: 'balance_limit_exceeded' } });
      expect(settledLater.mock.calls).toEqual([[expect.objectContaining({ status: 'REJECTED', errorCode: 'balance_limit_exceeded' })]]);
    });

    it('leaves the record to the retry that took it over (settle answers null, more attempts than this claim): nothing to announce', async () => {
      const { store, protocol, apply, once, lifecycle } = setup();
      const settledLater = jest.fn<void, [AdjustmentRecord]>();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: row(), token: 'tok' });
      apply.mockResolvedValueOnce(APPLIED);
      store.settle.mockRejectedValueOnce(new DatabaseUnavailableError()).mockResolvedValueOnce(null);
      store.findByIdempotencyKey.mockResolvedValueOnce({ ...settledRow(row(), APPLIED_OUTCOME), attempts: 2 });

      expect(await protocol.run({ ...once, settledLater })).toMatchObject({ replayed: false, announce: false });
      await settledInBackground(lifecycle);
      expect(store.settle).toHaveBeenCalledTimes(2);
      expect(settledLater).not.toHaveBeenCalled();
    });

    it('hands over a settlement the database stored though its answer was lost (the same claim, not a retry), once', async () => {
      const { store, protocol, apply, once, lifecycle } = setup();
      const claimed = row();
      const settledLater = jest.fn<void, [AdjustmentRecord]>();
      const stored = settledRow(claimed, APPLIED_OUTCOME);
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: claimed, token: 'tok' });
      apply.mockResolvedValueOnce(APPLIED);
      // The commit reached the database, the connection broke before its answer: the token no longer matches.
      store.settle.mockRejectedValueOnce(new DatabaseUnavailableError()).mockResolvedValueOnce(null);
      store.findByIdempotencyKey.mockResolvedValueOnce(stored);

      expect(await protocol.run({ ...once, settledLater })).toMatchObject({ replayed: false, announce: false });
      await settledInBackground(lifecycle);
      expect(store.settle).toHaveBeenCalledTimes(2);
      expect(settledLater.mock.calls).toEqual([[stored]]);
    });

    it('logs a failed settlement by its kind, never the statement or its parameters', async () => {
      const { store, protocol, apply, once, lifecycle } = setup();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: row(), token: 'tok' });
      apply.mockResolvedValueOnce(APPLIED);
      store.settle.mockRejectedValueOnce(new TypeError('Failed query: update "adjustments" params: tok,user_1')).mockResolvedValueOnce(null);
      store.findByIdempotencyKey.mockResolvedValueOnce({ ...row(), attempts: 2 });

      await protocol.run(once);
      await settledInBackground(lifecycle);
      expect(warn.mock.calls).toEqual([['adjustment adj_1 not settled as APPLIED (TypeError); retrying in the background']]);
    });

    it('gives up when the module stops, saying how the record is settled then', async () => {
      const { store, protocol, apply, once, lifecycle } = setup();
      const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const settledLater = jest.fn<void, [AdjustmentRecord]>();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: row(), token: 'tok' });
      apply.mockResolvedValueOnce(APPLIED);
      store.settle.mockRejectedValueOnce(new DatabaseUnavailableError());

      await protocol.run({ ...once, settledLater });
      protocol.onModuleDestroy();
      expect(await lifecycle.adjustments.whenIdle(100)).toBe(true);
      expect(store.settle).toHaveBeenCalledTimes(1);
      expect(settledLater).not.toHaveBeenCalled();
      expect(error.mock.calls).toEqual([
        ['adjustment adj_1 answered APPLIED by RevenueCat but not settled: it reads UNKNOWN once its lease ends; retry it with its idempotency key'],
      ]);
    });

    it('answers an applied result as replayed when the lease was lost to another request (settle answers null)', async () => {
      const { store, metrics, protocol, apply, once } = setup();
      const claimed = row();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: claimed, token: 'tok' });
      apply.mockResolvedValueOnce(APPLIED);
      store.settle.mockResolvedValueOnce(null);

      expect(await protocol.run(once)).toEqual({
        record: { ...claimed, status: 'APPLIED', balance: 105, balances: BALANCES, settledAt: expect.any(Date) },
        replayed: true,
        announce: false,
      });
      expect(store.settle.mock.calls).toEqual([['adj_1', 'tok', APPLIED_OUTCOME]]);
      expect(warn).not.toHaveBeenCalled();
      expect(await replays(metrics)).toEqual([0]);
    });

    it('still throws the ambiguity when the lease was lost', async () => {
      const { store, protocol, apply, once } = setup();
      store.findByIdempotencyKey.mockResolvedValueOnce(null);
      store.claim.mockResolvedValueOnce({ kind: 'claimed', record: row(), token: 'tok' });
      apply.mockResolvedValueOnce({ status: 'UNKNOWN', error: Errors.rcCallFailed('server_error') });
      store.settle.mockResolvedValueOnce(null);

      const error = await failureOf(GatewayError, protocol.run(once));
      expect(error.extensions).toEqual({
        code: 'rc_call_failed',
        status: 502,
        rcType: 'server_error',
        adjustmentId: 'adj_1',
        idempotencyKey: 'k-1',
        outcome: 'unknown',
      });
    });
  });
});
