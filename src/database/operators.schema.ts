import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { inList, instant } from './columns';
import { OPERATOR_ROLES } from '../common/actor';

export const APPROVAL_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/**
 * Named operator credentials (README "Operators, roles and approvals"). The token itself is never stored: only its
 * SHA-256 (token_hash, what authentication looks up) and its first 8 characters (token_prefix, so a person
 * can recognise it). Rows are never deleted: a revoked operator keeps its name for the journal's actors.
 */
export const operators = pgTable(
  'operators',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role', { enum: OPERATOR_ROLES }).notNull(),
    /** Bound on |amount| of one adjustment; null: none. */
    maxAdjustment: integer('max_adjustment'),
    /** Bound on the sum of |amount| applied in one UTC day; null: none. */
    dailyLimit: integer('daily_limit'),
    tokenHash: text('token_hash').notNull(),
    tokenPrefix: text('token_prefix').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    /** Who created it: an operator, or null for the root secrets (name "admin" / "admin:previous"). */
    createdByOperatorId: text('created_by_operator_id'),
    createdByName: text('created_by_name').notNull(),
    createdByRole: text('created_by_role', { enum: OPERATOR_ROLES }).notNull(),
    createdByOnBehalfOf: text('created_by_on_behalf_of'),
    revokedAt: instant('revoked_at'),
    /** Kept roughly: written at most once a minute. */
    lastUsedAt: instant('last_used_at'),
  },
  (t) => [
    uniqueIndex('operators_token_hash_key').on(t.tokenHash),
    index('operators_created_idx').on(t.createdAt, t.id),
    check('operators_role_check', sql`${t.role} in (${inList(OPERATOR_ROLES)})`),
    check('operators_created_by_role_check', sql`${t.createdByRole} in (${inList(OPERATOR_ROLES)})`),
    check('operators_max_adjustment_check', sql`${t.maxAdjustment} is null or ${t.maxAdjustment} > 0`),
    check('operators_daily_limit_check', sql`${t.dailyLimit} is null or ${t.dailyLimit} > 0`),
  ],
);

export type OperatorRow = typeof operators.$inferSelect;
export type NewOperatorRow = typeof operators.$inferInsert;

/**
 * Adjustments over an operator's limits, waiting for a second person (README "Limits and approvals").
 * `status` is stored PENDING until decided; a PENDING row past expires_at reads as EXPIRED (and may be written so by `expire`).
 * idempotency_key is the adjustment's: the same key sent again finds this request, and approval applies the
 * adjustment under it, so the journal's exactly-once record holds for approvals too.
 */
export const approvalRequests = pgTable(
  'approval_requests',
  {
    id: text('id').primaryKey(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** The journal's fingerprint of (userId, currency, amount, trimmed reason). */
    fingerprint: text('fingerprint').notNull(),
    userId: text('user_id').notNull(),
    currency: text('currency').notNull(),
    amount: integer('amount').notNull(),
    reason: text('reason').notNull(),
    requestedByOperatorId: text('requested_by_operator_id'),
    requestedByName: text('requested_by_name').notNull(),
    requestedByRole: text('requested_by_role', { enum: OPERATOR_ROLES }).notNull(),
    requestedByOnBehalfOf: text('requested_by_on_behalf_of'),
    status: text('status', { enum: APPROVAL_STATUSES }).notNull(),
    decidedByOperatorId: text('decided_by_operator_id'),
    decidedByName: text('decided_by_name'),
    decidedByRole: text('decided_by_role', { enum: OPERATOR_ROLES }),
    decidedByOnBehalfOf: text('decided_by_on_behalf_of'),
    decidedAt: instant('decided_at'),
    decisionReason: text('decision_reason'),
    /** A reversal's approval: the adjustment it reverses (adjustments.id). */
    reversesId: text('reverses_id'),
    /** APPROVED: the journal record (adjustments.id) that applies it. */
    adjustmentId: text('adjustment_id'),
    createdAt: instant('created_at').notNull().defaultNow(),
    expiresAt: instant('expires_at').notNull(),
  },
  (t) => [
    uniqueIndex('approval_requests_idempotency_key_key').on(t.idempotencyKey),
    // Newest first, alone and per stored status (see AdjustmentRepository on why ascending).
    index('approval_requests_created_idx').on(t.createdAt, t.id),
    index('approval_requests_status_created_idx').on(t.status, t.createdAt, t.id),
    check('approval_requests_status_check', sql`${t.status} in (${inList(APPROVAL_STATUSES)})`),
    check('approval_requests_requested_by_role_check', sql`${t.requestedByRole} in (${inList(OPERATOR_ROLES)})`),
    check('approval_requests_decided_by_role_check', sql`${t.decidedByRole} is null or ${t.decidedByRole} in (${inList(OPERATOR_ROLES)})`),
    check('approval_requests_amount_check', sql`${t.amount} <> 0 and abs(${t.amount}) <= 2000000000`),
    // Decided exactly when it has a decider's name and time; only an approval names an adjustment.
    check('approval_requests_decision_check', sql`(${t.status} in ('APPROVED', 'REJECTED')) = (${t.decidedAt} is not null and ${t.decidedByName} is not null)`),
    check('approval_requests_adjustment_check', sql`${t.adjustmentId} is null or ${t.status} = 'APPROVED'`),
  ],
);

export type ApprovalRequestRow = typeof approvalRequests.$inferSelect;
export type NewApprovalRequestRow = typeof approvalRequests.$inferInsert;

export const operatorsSchema = { operators, approvalRequests };
