import { Logger } from '@nestjs/common';
import { Errors, GatewayError } from '../common/errors';
import { loadConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { ExactlyOnce, OnceOnly, Outcome, ResultRecord } from './exactly-once';
import { IdempotencyStore } from './idempotency-store.port';

const LEASE_MS = 60_000;
const TTL_MS = 86_400_000;

/** Every call must be one the test expected: an unexpected one fails it. */
function strictStore(): jest.Mocked<IdempotencyStore> {
  const unexpected = (name: string) =>
    jest.fn((..._args: unknown[]): never => {
      throw new Error(`unexpected IdempotencyStore.${name}`);
    });
  return { claim: unexpected('claim'), complete: unexpected('complete'), release: unexpected('release') } as unknown as jest.Mocked<IdempotencyStore>;
}

interface Grant {
  amount: number;
  replayed: boolean;
}
const GRANT_RECORD: ResultRecord<Grant> = {
  toRecord: ({ amount }) => ({ grant: { amount } }),
  fromRecord: (record) => ({ ...(record.grant as { amount: number }), replayed: true }),
};

function setup() {
  const store = strictStore();
  const metrics = new Metrics();
  const config = loadConfig({});
  const protocol = new ExactlyOnce(store, metrics, config);
  const steps = { prepare: jest.fn().mockResolvedValue(undefined), apply: jest.fn<Promise<Outcome<Grant>>, []>() };
  const once: OnceOnly<Grant> = { key: 'k-1', fingerprint: 'fp-1', prepare: steps.prepare, apply: steps.apply, result: GRANT_RECORD };
  return { store, metrics, protocol, steps, once };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('ExactlyOnce', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  it('claims, prepares, applies and stores the applied result', async () => {
    const { store, protocol, steps, once } = setup();
    store.claim.mockResolvedValueOnce({ kind: 'claimed', token: 'tok' });
    store.complete.mockResolvedValueOnce(true);
    steps.apply.mockResolvedValueOnce({ status: 'applied', value: { amount: 5, replayed: false } });
    expect(await protocol.run(once)).toEqual({ amount: 5, replayed: false });
    expect(store.claim.mock.calls).toEqual([['k-1', 'fp-1', LEASE_MS]]);
    expect(store.complete.mock.calls).toEqual([['k-1', 'tok', 'fp-1', '{"ok":true,"grant":{"amount":5}}', TTL_MS]]);
    expect(store.release).not.toHaveBeenCalled();
    expect([steps.prepare.mock.calls.length, steps.apply.mock.calls.length]).toEqual([1, 1]);
  });

  it('stores a rejection and throws it', async () => {
    const { store, protocol, steps, once } = setup();
    store.claim.mockResolvedValueOnce({ kind: 'claimed', token: 'tok' });
    store.complete.mockResolvedValueOnce(true);
    const refused = Errors.insufficientBalance(3);
    steps.apply.mockResolvedValueOnce({ status: 'rejected', error: refused });
    expect(await rejection(protocol.run(once))).toBe(refused);
    expect(store.complete.mock.calls).toEqual([
      [
        'k-1',
        'tok',
        'fp-1',
        JSON.stringify({ ok: false, code: 'insufficient_balance', message: refused.message, details: { balance: 3 } }),
        TTL_MS,
      ],
    ]);
    expect(store.release).not.toHaveBeenCalled();
  });

  it('frees the key after an unknown outcome, so a retry with it settles the question', async () => {
    const { store, protocol, steps, once } = setup();
    store.claim.mockResolvedValueOnce({ kind: 'claimed', token: 'tok' });
    store.release.mockResolvedValueOnce(undefined);
    const timeout = Errors.rcCallFailed('timeout');
    steps.apply.mockResolvedValueOnce({ status: 'unknown', error: timeout });
    expect(await rejection(protocol.run(once))).toBe(timeout);
    expect(store.release.mock.calls).toEqual([['k-1', 'tok']]);
    expect(store.complete).not.toHaveBeenCalled();
  });

  it('frees the key when preparing fails, without applying', async () => {
    const { store, protocol, steps, once } = setup();
    store.claim.mockResolvedValueOnce({ kind: 'claimed', token: 'tok' });
    store.release.mockResolvedValueOnce(undefined);
    steps.prepare.mockRejectedValueOnce(Errors.unknownCurrency('GEM'));
    expect((await rejection(protocol.run(once)) as GatewayError).code).toBe('unknown_currency');
    expect(store.release.mock.calls).toEqual([['k-1', 'tok']]);
    expect(store.complete).not.toHaveBeenCalled();
    expect(steps.apply).not.toHaveBeenCalled();
  });

  it('replays an applied record without preparing or applying', async () => {
    const { store, metrics, protocol, steps, once } = setup();
    store.claim.mockResolvedValueOnce({ kind: 'completed', outcome: '{"ok":true,"grant":{"amount":5}}' });
    expect(await protocol.run(once)).toEqual({ amount: 5, replayed: true });
    expect(store.claim.mock.calls).toEqual([['k-1', 'fp-1', LEASE_MS]]);
    expect([steps.prepare.mock.calls.length, steps.apply.mock.calls.length]).toEqual([0, 0]);
    expect((await metrics.idempotencyReplays.get()).values[0].value).toBe(1);
  });

  it('replays a stored rejection exactly', async () => {
    const { store, protocol, once } = setup();
    store.claim.mockResolvedValueOnce({
      kind: 'completed',
      outcome: JSON.stringify({ ok: false, code: 'insufficient_balance', message: 'insufficient_balance: x', details: { balance: 3 } }),
    });
    const error = (await rejection(protocol.run(once))) as GatewayError;
    expect([error.message, error.extensions]).toEqual(['insufficient_balance: x', { code: 'insufficient_balance', status: 422, balance: 3 }]);
  });

  it.each([
    ['mismatch', 'idempotency_key_reused', 'reused'],
    ['in_progress', 'idempotency_key_in_progress', 'in_progress'],
  ] as const)('refuses a %s claim with %s and counts it', async (kind, code, label) => {
    const { store, metrics, protocol, steps, once } = setup();
    store.claim.mockResolvedValueOnce({ kind });
    expect((await rejection(protocol.run(once)) as GatewayError).code).toBe(code);
    expect((await metrics.idempotencyConflicts.get()).values).toEqual([expect.objectContaining({ labels: { kind: label }, value: 1 })]);
    expect(steps.prepare).not.toHaveBeenCalled();
  });

  it('answers the applied result when its record cannot be written', async () => {
    const { store, protocol, steps, once } = setup();
    store.claim.mockResolvedValueOnce({ kind: 'claimed', token: 'tok' });
    store.complete.mockRejectedValueOnce(new Error('Redis connection lost'));
    steps.apply.mockResolvedValueOnce({ status: 'applied', value: { amount: 5, replayed: false } });
    expect(await protocol.run(once)).toEqual({ amount: 5, replayed: false });
    expect(store.complete).toHaveBeenCalledTimes(1);
    expect(store.release).not.toHaveBeenCalled();
  });

  it('throws the original error when the key cannot be freed', async () => {
    const { store, protocol, steps, once } = setup();
    store.claim.mockResolvedValueOnce({ kind: 'claimed', token: 'tok' });
    store.release.mockRejectedValueOnce(new Error('Redis connection lost'));
    const boom = new TypeError('boom');
    steps.apply.mockResolvedValueOnce({ status: 'unknown', error: boom });
    expect(await rejection(protocol.run(once))).toBe(boom);
    expect(store.release.mock.calls).toEqual([['k-1', 'tok']]);
  });
});
