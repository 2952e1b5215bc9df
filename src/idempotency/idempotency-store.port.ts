import type { AdjustmentRecord, ClaimResult, NewAdjustment, Outcome } from '../journal/adjustment.repository';

export type { AdjustmentRecord, ClaimResult, NewAdjustment, Outcome };

/**
 * Where the exactly-once record of an adjustment lives: its journal entry (README "Exactly once";
 * docs/decisions.md, "The journal's claim protocol"). Claims are atomic across every instance sharing the
 * database; a claim is a lease.
 * Every method throws `dependency_unavailable` when the store does not answer.
 */
export interface IdempotencyStore {
  findByIdempotencyKey(key: string): Promise<AdjustmentRecord | null>;
  /** Writes the record PENDING for a new key, or says what the key holds (re-claiming an UNKNOWN or expired one). */
  claim(record: NewAdjustment, leaseMs: number): Promise<ClaimResult>;
  /** Settles a claimed record; null when the lease was lost to another request (which settles it instead). */
  settle(id: string, token: string, outcome: Outcome): Promise<AdjustmentRecord | null>;
}

export const IdempotencyStore = Symbol('IdempotencyStore');
