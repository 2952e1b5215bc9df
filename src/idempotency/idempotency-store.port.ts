export type ClaimResult =
  /** The caller owns the key until it completes or releases it, or the lease runs out. */
  | { kind: 'claimed'; token: string }
  /** Another request holds the key right now. */
  | { kind: 'in_progress' }
  /** The key was used for a request with another fingerprint. */
  | { kind: 'mismatch' }
  /** The key's request finished; `outcome` is what `complete` stored. */
  | { kind: 'completed'; outcome: string };

/**
 * Exactly-once bookkeeping for client idempotency keys. Every method is atomic with respect to every
 * other instance sharing the store.
 */
export interface IdempotencyStore {
  claim(key: string, fingerprint: string, leaseMs: number): Promise<ClaimResult>;
  /**
   * Stores the final outcome for `ttlMs`. False when another request claimed the key after this claim's
   * lease ran out; that request reaches RevenueCat with the same upstream key, so nothing applies twice.
   */
  complete(key: string, token: string, fingerprint: string, outcome: string, ttlMs: number): Promise<boolean>;
  /** Frees the key after a transient failure, so the caller may retry; only the owner's token frees it. */
  release(key: string, token: string): Promise<void>;
}

export const IdempotencyStore = Symbol('IdempotencyStore');
