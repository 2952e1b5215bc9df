import { createHash } from 'node:crypto';
import type { NewAdjustmentRow } from '../database/journal.schema';
import type { BulkAdjustmentRecord } from './bulk-adjustment.repository';
import { adjustmentIdFor, requestFingerprint, upstreamKeyFor } from '../idempotency/idempotency-keys';

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** What makes two createBulkAdjustment calls with one key "the same job". */
export function jobFingerprint(job: { currency: string; reason: string }): string {
  return sha256(JSON.stringify(['bulk', job.currency, job.reason]));
}

/**
 * An item's idempotency key, derived from its job and its user (a user is in a job at most once): the
 * same on every attempt, whichever instance makes it, so RevenueCat (whose key is derived from this one)
 * applies the item once. It is the job's alone: adjustCredits and reverseAdjustment refuse it
 * (idempotency_key_reused), so only the job's runner sends the item.
 */
export function bulkItemKey(jobId: string, userId: string): string {
  return `${jobId}:${sha256(`bulk-item:${userId}`).slice(0, 40)}`;
}

/** What bulkItemKey gives for a job id (`bulk_` and 32 hex digits, see BulkAdjustmentsService.create). */
const BULK_ITEM_KEY = /^bulk_[0-9a-f]{32}:[0-9a-f]{40}$/;

/**
 * Whether `key` is, or may become, a bulk item's key. A job's id is public and its users are guessable, so
 * an item's key can be worked out before the item is added: sent by anyone else first, it would take the
 * key from the job (the item could not be added) or leave an approval request holding it.
 */
export function isBulkItemKey(key: string): boolean {
  return BULK_ITEM_KEY.test(key);
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
