import type { Actor } from '../common/actor';
import type { AdjustmentStatus } from '../database/journal.schema';
import type { AdjustmentRecord } from './adjustment.repository';
import type { AdjustmentRecordModel } from './models/adjustment-record.model';

/** A journal row as the API shows it: the actor columns become Actor objects. */
export function toRecordModel(record: AdjustmentRecord): AdjustmentRecordModel {
  return {
    id: record.id,
    userId: record.userId,
    currency: record.currency,
    amount: record.amount,
    reason: record.reason,
    status: shownStatus(record),
    errorCode: record.errorCode,
    balance: record.balance,
    idempotencyKey: record.idempotencyKey,
    actor: actorOf(record),
    approvedBy: approverOf(record),
    bulkAdjustmentId: record.bulkAdjustmentId,
    createdAt: record.createdAt,
    settledAt: record.settledAt,
    reversesId: record.reversesId,
    reversedById: record.reversedById,
  };
}

/**
 * A record's status as the API shows it. A PENDING record whose lease ran out is being applied by nobody
 * (its process died, or could not store RevenueCat's answer): its outcome is unknown until a retry with
 * its key settles it, so it reads UNKNOWN, as AdjustmentRepository's status filter matches it.
 */
export function shownStatus(record: Pick<AdjustmentRecord, 'status' | 'leaseExpiresAt'>, now = new Date()): AdjustmentStatus {
  if (record.status === 'PENDING' && record.leaseExpiresAt !== null && record.leaseExpiresAt <= now) return 'UNKNOWN';
  return record.status;
}

export function actorOf(record: AdjustmentRecord): Actor {
  return { operatorId: record.actorOperatorId, name: record.actorName, role: record.actorRole, onBehalfOf: record.actorOnBehalfOf };
}

export function approverOf(record: AdjustmentRecord): Actor | null {
  if (record.approvedByName === null || record.approvedByRole === null) return null;
  return {
    operatorId: record.approvedByOperatorId,
    name: record.approvedByName,
    role: record.approvedByRole,
    onBehalfOf: record.approvedByOnBehalfOf,
  };
}
