import { createHash } from 'node:crypto';

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * What makes two requests "the same request" for one idempotency key. A reversal also names its original,
 * so its key cannot replay an adjustment of the same amount, nor the reversal of another one; a plain
 * adjustment keeps the fingerprint it always had (stored records must still match their retries).
 */
export function requestFingerprint(request: { userId: string; currency: string; amount: number; reason: string; reversesId?: string | null }): string {
  const fields: Array<string | number> = [request.userId, request.currency, request.amount, request.reason];
  if (request.reversesId != null) fields.push(request.reversesId);
  return sha256(JSON.stringify(fields));
}

/**
 * RevenueCat's own Idempotency-Key, derived from the client's key alone: the same on every retry inside
 * the service and on a client's retry after a crash or after our record was lost, so RevenueCat itself
 * refuses to apply it twice.
 */
export function upstreamKeyFor(clientKey: string): string {
  return `cag_${sha256(`upstream:${clientKey}`)}`;
}

/** The gateway's adjustment id follows from the upstream key, so a replay always shows the same id. */
export function adjustmentIdFor(upstreamKey: string): string {
  return `adj_${sha256(`adjustment:${upstreamKey}`).slice(0, 32)}`;
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
