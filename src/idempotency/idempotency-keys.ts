import { createHash } from 'node:crypto';

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** What makes two requests "the same request" for one idempotency key. */
export function requestFingerprint(request: { userId: string; currency: string; amount: number; reason: string }): string {
  return sha256(JSON.stringify([request.userId, request.currency, request.amount, request.reason]));
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
