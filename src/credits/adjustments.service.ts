import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AdminPrincipal } from '../auth/admin-authenticator';
import { Clock } from '../common/clock';
import { ErrorCode, ErrorDetails, Errors, GatewayError } from '../common/errors';
import { IdGenerator } from '../common/id-generator';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { adjustmentIdFor, requestFingerprint, upstreamKeyFor } from '../idempotency/idempotency-keys';
import { IdempotencyStore } from '../idempotency/idempotency-store.port';
import { CurrencyCatalog } from '../revenuecat/currency-catalog';
import { Balance, Ledger } from '../revenuecat/ledger.port';
import { RevenueCatError, toGatewayError } from '../revenuecat/revenuecat-error';
import { Lifecycle } from '../lifecycle/lifecycle';
import { Metrics } from '../metrics/metrics';
import { usageChanged } from '../realtime/usage-changed.event';
import { UsageEventBus } from '../realtime/usage-event-bus.port';
import { AuditLog } from './audit-log';

export interface AdjustmentRequest {
  userId: string;
  currency: string;
  amount: number;
  /** Already trimmed. */
  reason: string;
  idempotencyKey: string | null;
}

export interface Adjustment {
  id: string;
  userId: string;
  currency: string;
  amount: number;
  reason: string;
  balance: number;
  balances: Balance[];
  idempotencyKey: string | null;
  replayed: boolean;
  adjustedAt: Date;
}

/** What an idempotency record remembers: the result, or the definitive error, of the first request. */
type StoredOutcome =
  | { ok: true; adjustment: Omit<Adjustment, 'replayed' | 'adjustedAt'> & { adjustedAt: string } }
  | { ok: false; code: ErrorCode; message: string; details: ErrorDetails };

/** Grants and deductions, applied exactly once per idempotency key whatever the retries, crashes or instances. */
@Injectable()
export class AdjustmentsService {
  private readonly logger = new Logger(AdjustmentsService.name);

  constructor(
    @Inject(Ledger) private readonly ledger: Ledger,
    private readonly catalog: CurrencyCatalog,
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly audit: AuditLog,
    @Inject(UsageEventBus) private readonly events: UsageEventBus,
    private readonly metrics: Metrics,
    private readonly lifecycle: Lifecycle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Shutdown waits for adjustments in flight: each is tracked from its first step to its answer. */
  adjust(request: AdjustmentRequest, actor: AdminPrincipal): Promise<Adjustment> {
    return this.lifecycle.track(() => this.audited(request, actor));
  }

  private async audited(request: AdjustmentRequest, actor: AdminPrincipal): Promise<Adjustment> {
    try {
      const adjustment = await this.adjustOnce(request);
      if (!adjustment.replayed) this.announce(adjustment);
      this.audit.record({
        actor: actor.label,
        ...request,
        outcome: adjustment.replayed ? 'replayed' : 'applied',
        replayed: adjustment.replayed,
        adjustmentId: adjustment.id,
        balance: adjustment.balance,
      });
      return adjustment;
    } catch (error) {
      const outcome = error instanceof GatewayError ? error.code : 'internal_error';
      this.audit.record({ actor: actor.label, ...request, outcome, replayed: false });
      throw error;
    }
  }

  private async adjustOnce(request: AdjustmentRequest): Promise<Adjustment> {
    const key = request.idempotencyKey;
    if (key === null) {
      await this.requireCurrency(request.currency);
      try {
        return await this.apply(request, `cag_${this.ids.uuid()}`);
      } catch (failure) {
        throw await this.toAdjustmentError(failure, request);
      }
    }

    const fingerprint = requestFingerprint(request);
    const claim = await this.store.claim(key, fingerprint, this.config.idempotencyLeaseMs);
    switch (claim.kind) {
      case 'mismatch':
        this.metrics.idempotencyConflicts.inc({ kind: 'reused' });
        throw Errors.idempotencyKeyReused();
      case 'in_progress':
        this.metrics.idempotencyConflicts.inc({ kind: 'in_progress' });
        throw Errors.idempotencyKeyInProgress();
      case 'completed':
        // A replay needs neither RevenueCat nor the currency list: it is checked for fresh claims only.
        this.metrics.idempotencyReplays.inc();
        return replay(JSON.parse(claim.outcome) as StoredOutcome);
    }

    try {
      await this.requireCurrency(request.currency);
    } catch (error) {
      // Nothing was sent: an unknown currency may be created a moment later, and an unreachable
      // catalogue may answer again, so the key is freed rather than remembered.
      await this.release(key, claim.token);
      throw error;
    }

    let adjustment: Adjustment;
    try {
      adjustment = await this.apply(request, upstreamKeyFor(key));
    } catch (failure) {
      const error = await this.toAdjustmentError(failure, request);
      if (error instanceof GatewayError && !isTransient(failure)) {
        await this.remember(key, claim.token, fingerprint, {
          ok: false,
          code: error.code,
          message: error.message,
          details: error.details,
        });
      } else {
        // Transient: RevenueCat may or may not have applied it; the caller's retry carries the same
        // upstream key, so RevenueCat answers that question for us without applying twice.
        await this.release(key, claim.token);
      }
      throw error;
    }
    const { replayed: _replayed, adjustedAt, ...rest } = adjustment;
    await this.remember(key, claim.token, fingerprint, { ok: true, adjustment: { ...rest, adjustedAt: adjustedAt.toISOString() } });
    return adjustment;
  }

  private async apply(request: AdjustmentRequest, upstreamKey: string): Promise<Adjustment> {
    const balances = await this.ledger.createTransaction(
      request.userId,
      { adjustments: { [request.currency]: request.amount }, reference: request.reason },
      upstreamKey,
    );
    return {
      id: adjustmentIdFor(upstreamKey),
      userId: request.userId,
      currency: request.currency,
      amount: request.amount,
      reason: request.reason,
      balance: balances.find((balance) => balance.currency === request.currency)?.balance ?? 0,
      balances: boundedBalances(balances, request.currency),
      idempotencyKey: request.idempotencyKey,
      replayed: false,
      adjustedAt: new Date(this.clock.now()),
    };
  }

  /**
   * One silent usage.changed per applied adjustment, so the user's app refreshes at once. Sent after
   * the answer is settled and never awaited by it: a failure to publish is logged and counted, and the
   * adjustment stands. Tracked as in-flight work, begun while the adjustment still is, so shutdown does
   * not close subscribers before the event reaches them.
   */
  private announce(adjustment: Adjustment): void {
    this.lifecycle.track(() => this.events.publish(usageChanged(this.ids.uuid(), adjustment))).then(
      () => this.metrics.realtimeEventsPublished.inc(),
      (error: unknown) => {
        this.metrics.realtimePublishFailures.inc();
        this.logger.warn(`usage.changed for adjustment ${adjustment.id} not published: ${(error as Error).message}`);
      },
    );
  }

  private async requireCurrency(code: string): Promise<void> {
    let known: boolean;
    try {
      known = (await this.catalog.find(code)) !== undefined;
    } catch (error) {
      throw toGatewayError(error, 'project');
    }
    if (!known) throw Errors.unknownCurrency(code);
  }

  /** RevenueCat's two 422s look alike: the sign of the amount tells which limit was hit. */
  private async toAdjustmentError(error: unknown, request: AdjustmentRequest): Promise<unknown> {
    if (!(error instanceof RevenueCatError)) return error;
    if (error.httpStatus === 422 && error.type === 'unprocessable_entity_error') {
      return request.amount < 0 ? Errors.insufficientBalance(await this.currentBalance(request)) : Errors.balanceLimitExceeded();
    }
    if (error.httpStatus === 409 && error.type === 'idempotency_error') return Errors.idempotencyKeyReused();
    return toGatewayError(error, 'customer');
  }

  private async currentBalance(request: AdjustmentRequest): Promise<number | undefined> {
    try {
      const balances = await this.ledger.listBalances(request.userId, { includeEmpty: true });
      return balances.find((balance) => balance.currency === request.currency)?.balance ?? 0;
    } catch {
      return undefined;
    }
  }

  /**
   * A record that cannot be written does not undo an applied adjustment: the key stays claimed until its
   * lease ends, and a later retry reaches RevenueCat with the same upstream key, which replays it.
   */
  private async remember(key: string, token: string, fingerprint: string, outcome: StoredOutcome): Promise<void> {
    try {
      const stored = await this.store.complete(key, token, fingerprint, JSON.stringify(outcome), this.config.idempotencyTtlMs);
      if (!stored) this.logger.warn('an idempotency record was claimed by another request after its lease ran out');
    } catch (error) {
      this.warn('complete', key, error);
    }
  }

  private release(key: string, token: string): Promise<void> {
    return this.store.release(key, token).catch((error: unknown) => this.warn('release', key, error));
  }

  private warn(operation: string, key: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(`idempotency ${operation} failed for a key of length ${key.length}: ${reason}`);
  }
}

/**
 * A project holds at most 100 currencies, so a customer has at most 100 balances. The list is answered
 * and stored in the idempotency record: an upstream answer listing more is cut to 100 (the adjusted
 * currency kept), so neither the answer nor the record grows with what RevenueCat sends.
 */
const MAX_PROJECT_CURRENCIES = 100;

function boundedBalances(balances: Balance[], adjusted: string): Balance[] {
  if (balances.length <= MAX_PROJECT_CURRENCIES) return balances;
  const hasAdjusted = balances.some((balance) => balance.currency === adjusted);
  let others = hasAdjusted ? MAX_PROJECT_CURRENCIES - 1 : MAX_PROJECT_CURRENCIES;
  return balances.filter((balance) => balance.currency === adjusted || others-- > 0);
}

function replay(outcome: StoredOutcome): Adjustment {
  if (!outcome.ok) throw new GatewayError(outcome.code, outcome.message, outcome.details);
  return { ...outcome.adjustment, adjustedAt: new Date(outcome.adjustment.adjustedAt), replayed: true };
}

/**
 * Failures after which RevenueCat may or may not have applied the transaction release the key; every
 * other outcome is definitive (a retry would only repeat it), so it is stored and replayed.
 */
function isTransient(failure: unknown): boolean {
  return !(failure instanceof RevenueCatError) || failure.isTransient;
}
