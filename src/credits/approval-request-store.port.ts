import type { Actor } from '../common/actor';
import type { ApprovalRequestRow } from '../database/operators.schema';

/** One approval request, with `status` as it reads now: a PENDING row past expiresAt is EXPIRED. */
export type ApprovalRequestRecord = ApprovalRequestRow;

export interface NewApprovalRequest {
  id: string;
  idempotencyKey: string;
  fingerprint: string;
  userId: string;
  currency: string;
  amount: number;
  reason: string;
  /** A reversal's request: the adjustment it reverses. */
  reversesId?: string | null;
  requestedBy: Actor;
}

export type CreateResult =
  /** A new PENDING request. */
  | { kind: 'created'; request: ApprovalRequestRecord }
  /** The key already has a request for the same adjustment: this one, whatever its status. */
  | { kind: 'existing'; request: ApprovalRequestRecord }
  /** The key already has a request for another adjustment (422 idempotency_key_reused). */
  | { kind: 'mismatch'; request: ApprovalRequestRecord };

/**
 * What an operator's limits need of approval requests: find a key's request, or create one when an
 * adjustment is over the limits. approvals/ implements it; a port here keeps the folders' dependency one
 * way (approvals/ applies adjustments through credits/).
 */
export abstract class ApprovalRequestStore {
  abstract findByIdempotencyKey(key: string): Promise<ApprovalRequestRecord | null>;
  abstract createOrFind(request: NewApprovalRequest): Promise<CreateResult>;
}
