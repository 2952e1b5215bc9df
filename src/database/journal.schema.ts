import { sql } from 'drizzle-orm';
import { OPERATOR_ROLES } from '../common/actor';
import { check, index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { inList, instant } from './columns';

export const ADJUSTMENT_STATUSES = ['QUEUED', 'PENDING', 'APPLIED', 'REJECTED', 'UNKNOWN', 'CANCELLED'] as const;
export type AdjustmentStatus = (typeof ADJUSTMENT_STATUSES)[number];

/** A reversal that holds its original: while one of these exists, no second reversal may be claimed. */
export const LIVE_REVERSAL_STATUSES = ['PENDING', 'UNKNOWN', 'APPLIED'] as const satisfies readonly AdjustmentStatus[];

/** One balance as RevenueCat returned it with the transaction. */
export interface StoredBalance {
  currency: string;
  name: string | null;
  balance: number;
}

/**
 * The journal: one row per adjustment attempt, which is also its idempotency record (README "The
 * journal", "Exactly once"; docs/decisions.md). Rows are only ever changed by their own settlement and by
 * `reversed_by_id` being set once.
 *
 * Tables are not schema-qualified: the connection's search_path picks the schema, so tests get one each.
 */
export const adjustments = pgTable(
  'adjustments',
  {
    id: text('id').primaryKey(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** Of (userId, currency, amount, trimmed reason): the same key with another request is a mismatch. */
    fingerprint: text('fingerprint').notNull(),
    userId: text('user_id').notNull(),
    currency: text('currency').notNull(),
    amount: integer('amount').notNull(),
    reason: text('reason').notNull(),
    status: text('status', { enum: ADJUSTMENT_STATUSES }).notNull(),

    /** REJECTED / UNKNOWN: what the caller was told, kept so a replay answers exactly the same. */
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    errorDetails: jsonb('error_details').$type<Record<string, unknown>>(),

    /** APPLIED: the adjusted currency's balance right after, and every balance RevenueCat returned. */
    balance: integer('balance'),
    balances: jsonb('balances').$type<StoredBalance[]>(),
    /** RevenueCat's Idempotency-Key, identical on every attempt of this record. */
    upstreamKey: text('upstream_key').notNull(),
    /** RevenueCat calls made for this record (bulk retries of UNKNOWN items are bounded by it; retryBulkAdjustment sets it back to 0). */
    attempts: integer('attempts').notNull().default(0),

    /** Who: an operator, or null for the root secrets (name "admin" / "admin:previous"). */
    actorOperatorId: text('actor_operator_id'),
    actorName: text('actor_name').notNull(),
    actorRole: text('actor_role', { enum: OPERATOR_ROLES }).notNull(),
    actorOnBehalfOf: text('actor_on_behalf_of'),

    /** Set when a two-person approval applied it. */
    approvalRequestId: text('approval_request_id'),
    approvedByOperatorId: text('approved_by_operator_id'),
    approvedByName: text('approved_by_name'),
    approvedByRole: text('approved_by_role', { enum: OPERATOR_ROLES }),
    approvedByOnBehalfOf: text('approved_by_on_behalf_of'),

    /** A reversal points at its original; the original's reversed_by_id is set once the reversal applies. */
    reversesId: text('reverses_id'),
    reversedById: text('reversed_by_id'),
    bulkAdjustmentId: text('bulk_adjustment_id'),

    /** PENDING: whoever holds this token owns the record until lease_expires_at. */
    leaseToken: text('lease_token'),
    leaseExpiresAt: instant('lease_expires_at'),

    createdAt: instant('created_at').notNull().defaultNow(),
    /** When it became APPLIED, REJECTED or CANCELLED. */
    settledAt: instant('settled_at'),
  },
  (t) => [
    uniqueIndex('adjustments_idempotency_key_key').on(t.idempotencyKey),
    // Exactly one live reversal per adjustment: a REJECTED one frees the original again.
    uniqueIndex('adjustments_one_live_reversal')
      .on(t.reversesId)
      .where(sql`${t.reversesId} is not null and ${t.status} in (${inList(LIVE_REVERSAL_STATUSES)})`),
    // Newest first (created_at, id descending), alone and after each equality filter of AdjustmentFilter.
    // Ascending on purpose: PostgreSQL reads them backwards for ORDER BY created_at DESC, id DESC (whose
    // default is NULLS FIRST, which a "DESC NULLS LAST" index would not match).
    index('adjustments_created_idx').on(t.createdAt, t.id),
    index('adjustments_user_created_idx').on(t.userId, t.createdAt, t.id),
    index('adjustments_operator_created_idx').on(t.actorOperatorId, t.createdAt, t.id),
    index('adjustments_bulk_created_idx').on(t.bulkAdjustmentId, t.createdAt, t.id),
    index('adjustments_bulk_status_created_idx').on(t.bulkAdjustmentId, t.status, t.createdAt, t.id),
    index('adjustments_status_created_idx').on(t.status, t.createdAt, t.id),
    index('adjustments_currency_created_idx').on(t.currency, t.createdAt, t.id),
    check('adjustments_status_check', sql`${t.status} in (${inList(ADJUSTMENT_STATUSES)})`),
    check('adjustments_actor_role_check', sql`${t.actorRole} in (${inList(OPERATOR_ROLES)})`),
    check('adjustments_amount_check', sql`${t.amount} <> 0 and abs(${t.amount}) <= 2000000000`),
    check('adjustments_lease_check', sql`(${t.leaseToken} is null) = (${t.leaseExpiresAt} is null)`),
  ],
);

export type AdjustmentRow = typeof adjustments.$inferSelect;
export type NewAdjustmentRow = typeof adjustments.$inferInsert;

/** Everything drizzle needs to type the Database. */
export const journalSchema = { adjustments };
