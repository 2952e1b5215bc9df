import { Inject, Injectable } from '@nestjs/common';
import { Errors } from '../common/errors';
import { IdGenerator } from '../common/id-generator';
import { Attempt, ExactlyOnce } from '../idempotency/exactly-once';
import { AdjustmentRecord, NewAdjustment } from '../idempotency/idempotency-store.port';
import { adjustmentIdFor, requestFingerprint, upstreamKeyFor } from '../idempotency/idempotency-keys';
import { Lifecycle } from '../lifecycle/lifecycle';
import { UsageChangedPublisher } from '../realtime/usage-changed.publisher';
import { CurrencyCatalog } from '../revenuecat/currency-catalog';
import { Balance, Ledger } from '../revenuecat/ledger.port';
import { fromRevenueCatError, fromTransactionError, RevenueCatError } from '../revenuecat/revenuecat-error';
import { actorOf, approverOf } from '../journal/record-model';
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
    private readonly ids: IdGenerator,
  ) {}

  /** Shutdown waits for an adjustment from its first step to its answer. */
  adjust(asked: AdjustmentRequest): Promise<Adjustment> {
    // A keyless request gets a key of the gateway's, so it has a journal record and can be retried.
    const request = { ...asked, idempotencyKey: asked.idempotencyKey ?? `gw_${this.ids.uuid()}` };
    return this.lifecycle.track(async () => {
      try {
        const { record, replayed, announce } = await this.exactlyOnce.run({
          record: newRecord(request, request.idempotencyKey),
          // An unknown currency may be created a moment later, and an unreachable catalogue may answer
          // again: nothing was sent, so nothing is written.
          prepare: () => this.requireCurrency(request.currency),
          apply: (claimed) => this.send(claimed),
        });
        const adjustment = toAdjustment(record, replayed);
        if (announce) this.usageChanged.announce(adjustment);
        this.audit.succeeded(request, adjustment);
        return adjustment;
      } catch (error) {
        this.audit.failed(request, error);
        throw error;
      }
    });
  }

  /** The RevenueCat transaction of a claimed record, under the record's own upstream key. */
  private async send(record: AdjustmentRecord): Promise<Attempt> {
    let balances: Balance[];
    try {
      balances = await this.ledger.createTransaction(
        record.userId,
        { adjustments: { [record.currency]: record.amount }, reference: record.reason },
        record.upstreamKey,
      );
    } catch (failure) {
      if (!(failure instanceof RevenueCatError)) {
        // Not an upstream answer (a bug on our side, mid-exchange): RevenueCat may have applied it.
        return { status: 'UNKNOWN', error: Errors.internal() };
      }
      const error = await fromTransactionError(failure, record.amount, () => this.currentBalance(record));
      return failure.outcomeUnknown ? { status: 'UNKNOWN', error } : { status: 'REJECTED', error };
    }
    return {
      status: 'APPLIED',
      balance: balances.find((balance) => balance.currency === record.currency)?.balance ?? 0,
      balances: boundedBalances(balances, record.currency),
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

  private async currentBalance(record: AdjustmentRecord): Promise<number | undefined> {
    try {
      const balances = await this.ledger.listBalances(record.userId, { includeEmpty: true });
      return balances.find((balance) => balance.currency === record.currency)?.balance ?? 0;
    } catch {
      return undefined;
    }
  }
}

/**
 * The journal record an adjustment starts as. Its RevenueCat key, and so its id, follow from its
 * idempotency key: identical on every attempt, so a retry after an unknown outcome cannot apply twice.
 */
function newRecord(request: AdjustmentRequest, key: string): NewAdjustment {
  const upstreamKey = upstreamKeyFor(key);
  return {
    id: adjustmentIdFor(upstreamKey),
    idempotencyKey: key,
    fingerprint: requestFingerprint(request),
    userId: request.userId,
    currency: request.currency,
    amount: request.amount,
    reason: request.reason,
    upstreamKey,
    actorOperatorId: request.actor.operatorId,
    actorName: request.actor.name,
    actorRole: request.actor.role,
    actorOnBehalfOf: request.actor.onBehalfOf,
  };
}

function toAdjustment(record: AdjustmentRecord, replayed: boolean): Adjustment {
  return {
    id: record.id,
    userId: record.userId,
    currency: record.currency,
    amount: record.amount,
    reason: record.reason,
    balance: record.balance ?? 0,
    balances: record.balances ?? [],
    idempotencyKey: record.idempotencyKey,
    replayed,
    adjustedAt: record.settledAt ?? record.createdAt,
    actor: actorOf(record),
    approvedBy: approverOf(record),
    reversesId: record.reversesId,
  };
}

/**
 * A project holds at most 100 currencies, so a customer has at most 100 balances. The list is answered
 * and stored in the journal: an upstream answer listing more is cut to 100 (the adjusted currency
 * kept), so neither the answer nor the record grows with what RevenueCat sends.
 */
const MAX_PROJECT_CURRENCIES = 100;

function boundedBalances(balances: Balance[], adjusted: string): Balance[] {
  if (balances.length <= MAX_PROJECT_CURRENCIES) return balances;
  const hasAdjusted = balances.some((balance) => balance.currency === adjusted);
  let others = hasAdjusted ? MAX_PROJECT_CURRENCIES - 1 : MAX_PROJECT_CURRENCIES;
  return balances.filter((balance) => balance.currency === adjusted || others-- > 0);
}
