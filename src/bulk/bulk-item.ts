import { createHash } from 'node:crypto';
import type { NewAdjustmentRow } from '../database/journal.schema';
import type { BulkAdjustmentRecord } from './bulk-adjustment.repository';
import { adjustmentIdFor, bulkItemKey, requestFingerprint, upstreamKeyFor } from '../idempotency/idempotency-keys';

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** What makes two createBulkAdjustment calls with one key "the same job". */
export function jobFingerprint(job: { currency: string; reason: string }): string {
  return sha256(JSON.stringify(['bulk', job.currency, job.reason]));
}

/** The journal record of one item, QUEUED until the runner sends it; its actor is the job's creator. */
export function newItemRecord(job: BulkAdjustmentRecord, item: { userId: string; amount: number }): NewAdjustmentRow {
  const idempotencyKey = bulkItemKey(job.id, item.userId);
  const upstreamKey = upstreamKeyFor(idempotencyKey);
  return {
    id: adjustmentIdFor(upstreamKey),
    idempotencyKey,
    fingerprint: requestFingerprint({ userId: item.userId, currency: job.currency, amount: item.amount, reason: job.reason }),
    userId: item.userId,
    currency: job.currency,
    amount: item.amount,
    reason: job.reason,
    status: 'QUEUED',
    upstreamKey,
    attempts: 0,
    actorOperatorId: job.createdByOperatorId,
    actorName: job.createdByName,
    actorRole: job.createdByRole,
    actorOnBehalfOf: job.createdByOnBehalfOf,
    bulkAdjustmentId: job.id,
  };
}
