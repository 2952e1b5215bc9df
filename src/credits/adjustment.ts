import type { Actor } from '../common/actor';
import type { ApprovalRequestRecord } from './approval-request-store.port';
import type { Balance } from '../revenuecat/ledger.port';

export interface AdjustmentRequest {
  userId: string;
  currency: string;
  amount: number;
  /** Already trimmed. */
  reason: string;
  /** The client's key; null: the gateway assigns one (returned with the result and in errors). */
  idempotencyKey: string | null;
  /** Who asks: the credential, and whom an internal tool says it acts for. */
  actor: Actor;
  /** Set when a second person approved it: applied under `actor` (the requester) without their limits. */
  approval?: ApprovalRequestRecord;
  /** The request being served (its `x-request-id`), named in the audit line and the ledger's log lines. */
  requestId?: string;
}

/** `reverseAdjustment`: undo one APPLIED adjustment, whole, with a reason of its own. */
export interface ReversalRequest {
  /** The journal id of the adjustment to reverse. */
  adjustmentId: string;
  /** Already trimmed. */
  reason: string;
  /** The client's key; null: the gateway assigns one. */
  idempotencyKey: string | null;
  actor: Actor;
  /** Set when a second person approved it (see AdjustmentRequest.approval). */
  approval?: ApprovalRequestRecord;
  /** See AdjustmentRequest.requestId. */
  requestId?: string;
}

/** An applied grant or deduction, as answered (GraphQL `CreditAdjustment`): its journal record, applied. */
export interface Adjustment {
  id: string;
  userId: string;
  currency: string;
  amount: number;
  reason: string;
  balance: number;
  balances: Balance[];
  idempotencyKey: string;
  replayed: boolean;
  adjustedAt: Date;
  actor: Actor;
  approvedBy: Actor | null;
  /** The adjustment this one reverses, if it is a reversal. */
  reversesId: string | null;
}
