import { createHash } from 'node:crypto';

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * What makes two requests "the same request" for one idempotency key. A reversal also names its original,
 * so its key cannot replay an adjustment of the same amount, nor the reversal of another one; a plain
 * adjustment keeps the fingerprint it always had (stored records must still match their retries).
 */
export function requestFingerprint(request: {
  userId: string;
  currency: string;
  amount: number;
  reason: string;
  reversesId?: string | null;
}): string {
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
