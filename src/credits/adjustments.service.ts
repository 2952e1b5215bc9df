import { Inject, Injectable } from '@nestjs/common';
import type { AdminPrincipal } from '../auth/admin-authenticator';
import { Clock } from '../common/clock';
import { Errors } from '../common/errors';
import { IdGenerator } from '../common/id-generator';
import { ExactlyOnce, Outcome, ResultRecord, settled } from '../idempotency/exactly-once';
import { adjustmentIdFor, requestFingerprint, upstreamKeyFor } from '../idempotency/idempotency-keys';
import { Lifecycle } from '../lifecycle/lifecycle';
import { UsageChangedPublisher } from '../realtime/usage-changed.publisher';
import { CurrencyCatalog } from '../revenuecat/currency-catalog';
import { Balance, Ledger } from '../revenuecat/ledger.port';
import { fromRevenueCatError, fromTransactionError, RevenueCatError } from '../revenuecat/revenuecat-error';
import { Adjustment, AdjustmentRequest } from './adjustment';
import { AuditLog } from './audit-log';

/** Grants and deductions, applied exactly once per idempotency key whatever the retries, crashes or instances. */
@Injectable()
export class AdjustmentsService {
  constructor(
    @Inject(Ledger) private readonly ledger: Ledger,
    private readonly catalog: CurrencyCatalog,
    private readonly exactlyOnce: ExactlyOnce,
    private readonly audit: AuditLog,
    private readonly usageChanged: UsageChangedPublisher,
    private readonly lifecycle: Lifecycle,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  /** Shutdown waits for an adjustment from its first step to its answer. */
  adjust(request: AdjustmentRequest, actor: AdminPrincipal): Promise<Adjustment> {
    return this.lifecycle.track(async () => {
      try {
        const adjustment = await this.applyOnce(request);
        if (!adjustment.replayed) this.usageChanged.announce(adjustment);
        this.audit.succeeded(actor, request, adjustment);
        return adjustment;
      } catch (error) {
        this.audit.failed(actor, request, error);
        throw error;
      }
    });
  }

  private async applyOnce(request: AdjustmentRequest): Promise<Adjustment> {
    const key = request.idempotencyKey;
    if (key === null) {
      await this.requireCurrency(request.currency);
      return settled(await this.apply(request, `cag_${this.ids.uuid()}`));
    }
    return this.exactlyOnce.run({
      key,
      fingerprint: requestFingerprint(request),
      // An unknown currency may be created a moment later, and an unreachable catalogue may answer
      // again: nothing was sent, so the key is freed rather than remembered.
      prepare: () => this.requireCurrency(request.currency),
      // The upstream key follows from the client's, so a retry after an unknown outcome cannot apply twice.
      apply: () => this.apply(request, upstreamKeyFor(key)),
      result: ADJUSTMENT_RECORD,
    });
  }

  private async apply(request: AdjustmentRequest, upstreamKey: string): Promise<Outcome<Adjustment>> {
    let balances: Balance[];
    try {
      balances = await this.ledger.createTransaction(
        request.userId,
        { adjustments: { [request.currency]: request.amount }, reference: request.reason },
        upstreamKey,
      );
    } catch (failure) {
      if (!(failure instanceof RevenueCatError)) return { status: 'unknown', error: failure };
      const error = await fromTransactionError(failure, request.amount, () => this.currentBalance(request));
      return failure.outcomeUnknown ? { status: 'unknown', error } : { status: 'rejected', error };
    }
    return {
      status: 'applied',
      value: {
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
      },
    };
  }

  private async requireCurrency(code: string): Promise<void> {
    let known: boolean;
    try {
      known = (await this.catalog.find(code)) !== undefined;
    } catch (error) {
      throw fromRevenueCatError(error, 'project');
    }
    if (!known) throw Errors.unknownCurrency(code);
  }

  private async currentBalance(request: AdjustmentRequest): Promise<number | undefined> {
    try {
      const balances = await this.ledger.listBalances(request.userId, { includeEmpty: true });
      return balances.find((balance) => balance.currency === request.currency)?.balance ?? 0;
    } catch {
      return undefined;
    }
  }
}

/** An adjustment's record keeps everything but `replayed`, which a replay sets. */
const ADJUSTMENT_RECORD: ResultRecord<Adjustment> = {
  toRecord: ({ replayed: _replayed, adjustedAt, ...rest }) => ({ adjustment: { ...rest, adjustedAt: adjustedAt.toISOString() } }),
  fromRecord: (record) => {
    const adjustment = record.adjustment as Omit<Adjustment, 'replayed' | 'adjustedAt'> & { adjustedAt: string };
    return { ...adjustment, adjustedAt: new Date(adjustment.adjustedAt), replayed: true };
  },
};

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
