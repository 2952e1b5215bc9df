import type { Actor } from '../common/actor';
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
    status: record.status,
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
