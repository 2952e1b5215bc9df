import { Injectable } from '@nestjs/common';
import { isBulkItemKey } from '../idempotency/idempotency-keys';
import { Errors } from '../common/errors';
import { IdGenerator } from '../common/id-generator';
import { ExactlyOnce } from '../idempotency/exactly-once';
import { AdjustmentRecord, NewAdjustment } from '../idempotency/idempotency-store.port';
import { adjustmentIdFor, requestFingerprint, upstreamKeyFor } from '../idempotency/idempotency-keys';
import { Lifecycle } from '../lifecycle/lifecycle';
import { UsageChangedPublisher } from '../realtime/usage-changed.publisher';
import { AdjustmentRepository } from '../journal/adjustment.repository';
import { actorOf, approverOf, shownStatus } from '../journal/record-model';
import { Adjustment, AdjustmentRequest, ReversalRequest } from './adjustment';
import { AuditLog } from './audit-log';
import { LedgerTransactions } from './ledger-transactions';
import { approvedRecord, OperatorLimits } from './operator-limits';

/** A request on the exactly-once path: its key settled, and, for a reversal, the adjustment it reverses. */
interface KeyedRequest extends AdjustmentRequest {
  idempotencyKey: string;
  reversesId?: string;
}

/**
 * Grants, deductions and reversals, applied exactly once per idempotency key whatever the retries, crashes
 * or instances.
 */
@Injectable()
export class AdjustmentsService {
  constructor(
    private readonly transactions: LedgerTransactions,
    private readonly exactlyOnce: ExactlyOnce,
    private readonly audit: AuditLog,
    private readonly usageChanged: UsageChangedPublisher,
    private readonly lifecycle: Lifecycle,
    private readonly ids: IdGenerator,
    private readonly journal: AdjustmentRepository,
    private readonly limits: OperatorLimits,
  ) {}

  /** Shutdown waits for an adjustment from its first step to its answer. */
  adjust(asked: AdjustmentRequest): Promise<Adjustment> {
    const request = { ...asked, idempotencyKey: this.keyOf(asked) };
    // An unknown currency may be created a moment later, and an unreachable catalogue may answer
    // again: nothing was sent, so nothing is written.
    return this.lifecycle.track(() => this.applyOnce(request, () => this.transactions.requireCurrency(request.currency)));
  }

  /**
   * The whole opposite of an APPLIED adjustment, as a record of its own that reverses it (README
   * "Reversing an adjustment"), on the same exactly-once path as any adjustment. At most one live reversal per original
   * is the journal's constraint, met by the claim before RevenueCat is called (a second reversal, whatever
   * its key, is `already_reversed`); the reversal's upstream key follows from its own idempotency key, so
   * a REJECTED reversal leaves nothing behind that could refuse the next attempt.
   */
  reverse(asked: ReversalRequest): Promise<Adjustment> {
    return this.lifecycle.track(async () => {
      // Neither can change once true (records are never deleted, a settled status never moves), so a
      // replay with the reversal's key passes them as its first request did.
      const original = await this.journal.findById(asked.adjustmentId);
      if (original === null) throw Errors.notFound('adjustmentId');
      if (original.status === 'PENDING' || original.status === 'UNKNOWN') throw Errors.notReversibleYet(shownStatus(original) as 'PENDING' | 'UNKNOWN');
      if (original.status !== 'APPLIED' || original.reversesId !== null) throw Errors.notReversible();
      const request: KeyedRequest = {
        userId: original.userId,
        currency: original.currency,
        amount: -original.amount,
        reason: asked.reason,
        idempotencyKey: this.keyOf(asked),
        actor: asked.actor,
        reversesId: original.id,
        approval: asked.approval,
        requestId: asked.requestId,
      };
      // The currency was RevenueCat's when the original applied; were it gone, RevenueCat would refuse.
      return this.applyOnce(request, async () => undefined);
    });
  }

  /** A keyless request gets a key of the gateway's, so it has a journal record and can be retried. */
  private keyOf(asked: { idempotencyKey: string | null }): string {
    return asked.idempotencyKey ?? `gw_${this.ids.uuid()}`;
  }

  /**
   * The one exactly-once path of every adjustment, reversals and approved requests included: `prepare`
   * (for a new key), claim (within the operator's limits), send, settle; then announce and audit.
   */
  private async applyOnce(request: KeyedRequest, prepare: () => Promise<void>): Promise<Adjustment> {
    const { approval, actor } = request;
    try {
      // Only a job's runner sends a bulk item, and the key of an item not added yet is already its job's.
      if (isBulkItemKey(request.idempotencyKey)) throw Errors.idempotencyKeyReused();
      const record = newRecord(request);
      const {
        record: settled,
        replayed,
        announce,
      } = await this.exactlyOnce.run({
        // An approved request is applied under the requester's name, approved by the decider, without the
        // requester's limits (that is what the approval was for).
        record: approval ? approvedRecord(record, approval) : record,
        prepare,
        apply: (claimed) => this.transactions.apply(claimed, request.requestId === undefined ? undefined : { requestId: request.requestId }),
        // A key of an approval request follows it, whoever sends it; otherwise an operator has its role and
        // limits checked in the transaction that claims the record, for a new key and for a record that is
        // sent again (an UNKNOWN one, or a PENDING one whose lease ran out) alike.
        claimToSend: approval ? undefined : (fresh, leaseMs, existing) => this.limits.claim(actor, fresh, leaseMs, existing),
        settledLater: (record) => {
          if (record.status === 'APPLIED') this.usageChanged.announce(toAdjustment(record, false));
        },
      });
      const adjustment = toAdjustment(settled, replayed);
      if (announce) this.usageChanged.announce(adjustment);
      this.audit.succeeded(request, adjustment);
      return adjustment;
    } catch (error) {
      this.audit.failed(request, error);
      throw error;
    }
  }
}

/**
 * The journal record an adjustment (or a reversal) starts as. Its RevenueCat key, and so its id, follow
 * from its own idempotency key: identical on every attempt, so a retry after an unknown outcome cannot
 * apply twice.
 */
function newRecord(request: KeyedRequest): NewAdjustment {
  const upstreamKey = upstreamKeyFor(request.idempotencyKey);
  return {
    id: adjustmentIdFor(upstreamKey),
    idempotencyKey: request.idempotencyKey,
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
    ...(request.reversesId === undefined ? {} : { reversesId: request.reversesId }),
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
