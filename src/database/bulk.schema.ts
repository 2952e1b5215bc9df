import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { OPERATOR_ROLES } from '../common/actor';
import { inList, instant } from './columns';

export const BULK_ADJUSTMENT_STATUSES = ['DRAFT', 'RUNNING', 'COMPLETED', 'CANCELLED'] as const;
export type BulkAdjustmentStatus = (typeof BULK_ADJUSTMENT_STATUSES)[number];

/** Items a job may hold (README "Bulk adjustments"). */
export const MAX_BULK_ITEMS = 100_000;

/**
 * Bulk adjustment jobs (README "Bulk adjustments"). The items are journal records (`adjustments` rows with
 * `bulk_adjustment_id`, QUEUED until sent), so this row holds only what they share, the job's state and its
 * lease: the instance in `lease_owner` runs a RUNNING job and renews `lease_expires_at` (database time) as
 * it works; another takes over once it runs out, at once if the owner stopped (SIGTERM) and cleared it.
 */
export const bulkAdjustments = pgTable(
  'bulk_adjustments',
  {
    id: text('id').primaryKey(),
    /** The creator's key, if it gave one: creating again with it answers the same job. */
    idempotencyKey: text('idempotency_key'),
    /** Of (currency, reason): the same key with another job is a mismatch. */
    fingerprint: text('fingerprint').notNull(),
    currency: text('currency').notNull(),
    /** Trimmed; every item's reason, and its RevenueCat reference. */
    reason: text('reason').notNull(),
    status: text('status', { enum: BULK_ADJUSTMENT_STATUSES }).notNull(),

    /** Who created it, and so who every item's journal record names as its actor. */
    createdByOperatorId: text('created_by_operator_id'),
    createdByName: text('created_by_name').notNull(),
    createdByRole: text('created_by_role', { enum: OPERATOR_ROLES }).notNull(),
    createdByOnBehalfOf: text('created_by_on_behalf_of'),

    /** Items added (each an adjustments row). */
    total: integer('total').notNull().default(0),

    leaseOwner: text('lease_owner'),
    leaseExpiresAt: instant('lease_expires_at'),

    createdAt: instant('created_at').notNull().defaultNow(),
    startedAt: instant('started_at'),
    /** When it became COMPLETED or CANCELLED. */
    finishedAt: instant('finished_at'),
  },
  (t) => [
    uniqueIndex('bulk_adjustments_idempotency_key_key').on(t.idempotencyKey),
    // Newest first (see AdjustmentRepository on why ascending).
    index('bulk_adjustments_created_idx').on(t.createdAt, t.id),
    // What runners look for: RUNNING jobs, oldest start first.
    index('bulk_adjustments_running_idx')
      .on(t.startedAt, t.id)
      .where(sql`${t.status} = 'RUNNING'`),
    check('bulk_adjustments_status_check', sql`${t.status} in (${inList(BULK_ADJUSTMENT_STATUSES)})`),
    check('bulk_adjustments_created_by_role_check', sql`${t.createdByRole} in (${inList(OPERATOR_ROLES)})`),
    check('bulk_adjustments_total_check', sql`${t.total} >= 0 and ${t.total} <= ${sql.raw(String(MAX_BULK_ITEMS))}`),
    check('bulk_adjustments_lease_check', sql`(${t.leaseOwner} is null) = (${t.leaseExpiresAt} is null)`),
    // Started exactly when it left DRAFT, except that a DRAFT may be cancelled without ever starting.
    check('bulk_adjustments_started_check', sql`${t.status} = 'CANCELLED' or (${t.status} = 'DRAFT') = (${t.startedAt} is null)`),
    check('bulk_adjustments_finished_check', sql`(${t.status} in ('COMPLETED', 'CANCELLED')) = (${t.finishedAt} is not null)`),
  ],
);

export type BulkAdjustmentRow = typeof bulkAdjustments.$inferSelect;
export type NewBulkAdjustmentRow = typeof bulkAdjustments.$inferInsert;
