import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, inArray, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../common/actor';
import { Database, queryRows } from '../database/database';
import { whileAvailable } from '../database/database-errors';
import { bulkAdjustments, MAX_BULK_ITEMS, type BulkAdjustmentRow } from '../database/bulk.schema';
import { adjustments, type AdjustmentStatus, type NewAdjustmentRow } from '../database/journal.schema';
import { before, pageOf, pageStart, type AdjustmentRecord, type Page } from '../journal/adjustment.repository';

/** One job, as stored. */
export type BulkAdjustmentRecord = BulkAdjustmentRow;

export interface NewBulkAdjustment {
  id: string;
  idempotencyKey: string | null;
  fingerprint: string;
  currency: string;
  reason: string;
  createdBy: Actor;
}

export type CreateResult =
  | { kind: 'created'; job: BulkAdjustmentRecord }
  /** The key already names a job with the same currency and reason: that one. */
  | { kind: 'existing'; job: BulkAdjustmentRecord }
  /** The key already names another job (422 idempotency_key_reused). */
  | { kind: 'mismatch'; job: BulkAdjustmentRecord };

export type AddItemsResult =
  | { kind: 'added'; job: BulkAdjustmentRecord }
  | { kind: 'not_found' }
  | { kind: 'not_draft'; job: BulkAdjustmentRecord }
  | { kind: 'too_many'; job: BulkAdjustmentRecord }
  /** The item at `index` has an idempotency key the journal already holds: its user is in the job. */
  | { kind: 'duplicate'; index: number };

export type TransitionResult = { kind: 'done'; job: BulkAdjustmentRecord } | { kind: 'not_found' } | { kind: 'refused'; job: BulkAdjustmentRecord };

export type RetryResult =
  | TransitionResult
  /** COMPLETED, but with no UNKNOWN item to send again. */
  | { kind: 'nothing_unknown'; job: BulkAdjustmentRecord };

/** Items of a job by the status the API reports: PENDING (being sent) counts as queued. */
export interface ItemCounts {
  queued: number;
  applied: number;
  rejected: number;
  unknown: number;
  cancelled: number;
}

export const NO_ITEMS: Readonly<ItemCounts> = Object.freeze({ queued: 0, applied: 0, rejected: 0, unknown: 0, cancelled: 0 });

export type BulkAdjustmentPage = Page<BulkAdjustmentRecord>;

/** A position in a job's QUEUED items, oldest first. */
export type ItemCursor = Pick<AdjustmentRecord, 'createdAt' | 'id'>;

const COUNTED_AS: Record<AdjustmentStatus, keyof ItemCounts> = {
  QUEUED: 'queued',
  PENDING: 'queued',
  APPLIED: 'applied',
  REJECTED: 'rejected',
  UNKNOWN: 'unknown',
  CANCELLED: 'cancelled',
};

/**
 * Bulk jobs and the journal records that are their items (README "How a job runs"). Lease times use the
 * database's clock, the one every instance shares; claims of a job use FOR UPDATE SKIP LOCKED, so
 * instances looking at once each take a different job (on PGlite, one connection, they simply queue).
 * Every method throws DatabaseUnavailableError when the database does not answer.
 */
@Injectable()
export class BulkAdjustmentRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  create(job: NewBulkAdjustment): Promise<CreateResult> {
    return whileAvailable(async () => {
      const [created] = await this.db
        .insert(bulkAdjustments)
        .values({
          id: job.id,
          idempotencyKey: job.idempotencyKey,
          fingerprint: job.fingerprint,
          currency: job.currency,
          reason: job.reason,
          status: 'DRAFT',
          createdByOperatorId: job.createdBy.operatorId,
          createdByName: job.createdBy.name,
          createdByRole: job.createdBy.role,
          createdByOnBehalfOf: job.createdBy.onBehalfOf,
        })
        .onConflictDoNothing({ target: bulkAdjustments.idempotencyKey })
        .returning();
      if (created) return { kind: 'created', job: created };
      const existing = await this.findByIdempotencyKey(job.idempotencyKey!);
      if (!existing) throw new Error(`bulk adjustment with key ${job.idempotencyKey} vanished`);
      return existing.fingerprint === job.fingerprint ? { kind: 'existing', job: existing } : { kind: 'mismatch', job: existing };
    });
  }

  findById(id: string): Promise<BulkAdjustmentRecord | null> {
    return whileAvailable(async () => {
      const [job] = await this.db.select().from(bulkAdjustments).where(eq(bulkAdjustments.id, id));
      return job ?? null;
    });
  }

  findByIdempotencyKey(key: string): Promise<BulkAdjustmentRecord | null> {
    return whileAvailable(async () => {
      const [job] = await this.db.select().from(bulkAdjustments).where(eq(bulkAdjustments.idempotencyKey, key));
      return job ?? null;
    });
  }

  /** Newest first (createdAt, then id, descending), like the journal. */
  async list(first: number, after?: string | null): Promise<BulkAdjustmentPage> {
    const position = pageStart(first, after);
    const rows = await whileAvailable(() =>
      this.db
        .select()
        .from(bulkAdjustments)
        .where(position ? before(bulkAdjustments, position) : undefined)
        .orderBy(desc(bulkAdjustments.createdAt), desc(bulkAdjustments.id))
        .limit(first + 1),
    );
    return pageOf(rows, first);
  }

  /**
   * Adds items (journal records, QUEUED) to a DRAFT job, all or none. The job row is locked first, so
   * concurrent calls on one job take turns and its total stays exact. A user already in the job has the
   * same item key (it is derived from the job and the user), which the journal holds already.
   */
  addItems(jobId: string, items: NewAdjustmentRow[]): Promise<AddItemsResult> {
    return whileAvailable(() =>
      this.db.transaction(async (tx): Promise<AddItemsResult> => {
        const [job] = await tx.select().from(bulkAdjustments).where(eq(bulkAdjustments.id, jobId)).for('update');
        if (!job) return { kind: 'not_found' };
        if (job.status !== 'DRAFT') return { kind: 'not_draft', job };
        if (job.total + items.length > MAX_BULK_ITEMS) return { kind: 'too_many', job };
        const keys = items.map((item) => item.idempotencyKey);
        const taken = await tx.select({ key: adjustments.idempotencyKey }).from(adjustments).where(inArray(adjustments.idempotencyKey, keys));
        if (taken.length > 0) {
          const takenKeys = new Set(taken.map((row) => row.key));
          return { kind: 'duplicate', index: keys.findIndex((key) => takenKeys.has(key)) };
        }
        await tx.insert(adjustments).values(items);
        const [updated] = await tx
          .update(bulkAdjustments)
          .set({ total: sql`${bulkAdjustments.total} + ${items.length}` })
          .where(eq(bulkAdjustments.id, jobId))
          .returning();
        return { kind: 'added', job: updated };
      }),
    );
  }

  /** DRAFT with at least one item becomes RUNNING. */
  start(id: string): Promise<TransitionResult> {
    return whileAvailable(async () => {
      const [started] = await this.db
        .update(bulkAdjustments)
        .set({ status: 'RUNNING', startedAt: sql`now()` })
        .where(and(eq(bulkAdjustments.id, id), eq(bulkAdjustments.status, 'DRAFT'), sql`${bulkAdjustments.total} > 0`))
        .returning();
      if (started) return { kind: 'done', job: started };
      const job = await this.findById(id);
      return job ? { kind: 'refused', job } : { kind: 'not_found' };
    });
  }

  /**
   * A DRAFT or RUNNING job becomes CANCELLED, and its items not sent yet (QUEUED) with it, in one
   * transaction. An item being sent right now has left QUEUED (its claim is a compare-and-set on the
   * status), so it is not cancelled: it ends as RevenueCat answers.
   */
  cancel(id: string): Promise<TransitionResult> {
    return whileAvailable(async () => {
      const cancelled = await this.db.transaction(async (tx) => {
        const [job] = await tx
          .update(bulkAdjustments)
          .set({ status: 'CANCELLED', finishedAt: sql`now()`, leaseOwner: null, leaseExpiresAt: null })
          .where(and(eq(bulkAdjustments.id, id), inArray(bulkAdjustments.status, ['DRAFT', 'RUNNING'])))
          .returning();
        if (!job) return null;
        await tx
          .update(adjustments)
          .set({ status: 'CANCELLED', settledAt: sql`now()` })
          .where(and(eq(adjustments.bulkAdjustmentId, id), eq(adjustments.status, 'QUEUED')));
        return job;
      });
      if (cancelled) return { kind: 'done', job: cancelled };
      const job = await this.findById(id);
      return job ? { kind: 'refused', job } : { kind: 'not_found' };
    });
  }

  /**
   * A COMPLETED job with UNKNOWN items becomes RUNNING again (startedAt kept), so a runner takes it and
   * sends those items again under their own keys. Their attempts start over: `complete` gave up on them
   * once they ran out, and each retry asked for here buys at most that many calls again. The job row is
   * locked first, so of two calls at once (any instances) one hands the job back and the other is refused.
   */
  retry(id: string): Promise<RetryResult> {
    return whileAvailable(() =>
      this.db.transaction(async (tx): Promise<RetryResult> => {
        const [job] = await tx.select().from(bulkAdjustments).where(eq(bulkAdjustments.id, id)).for('update');
        if (!job) return { kind: 'not_found' };
        if (job.status !== 'COMPLETED') return { kind: 'refused', job };
        const unknown = and(eq(adjustments.bulkAdjustmentId, id), eq(adjustments.status, 'UNKNOWN'));
        const [any] = await tx.select({ id: adjustments.id }).from(adjustments).where(unknown).limit(1);
        if (!any) return { kind: 'nothing_unknown', job };
        await tx.update(adjustments).set({ attempts: 0 }).where(unknown);
        const [running] = await tx
          .update(bulkAdjustments)
          .set({ status: 'RUNNING', finishedAt: null, leaseOwner: null, leaseExpiresAt: null })
          .where(eq(bulkAdjustments.id, id))
          .returning();
        return { kind: 'done', job: running };
      }),
    );
  }

  /** Item counts of each job, by the API's statuses. */
  counts(jobIds: readonly string[]): Promise<Map<string, ItemCounts>> {
    return whileAvailable(async () => {
      const counts = new Map<string, ItemCounts>(jobIds.map((id) => [id, { ...NO_ITEMS }]));
      if (jobIds.length === 0) return counts;
      const rows = await this.db
        .select({ jobId: adjustments.bulkAdjustmentId, status: adjustments.status, count: sql<number>`count(*)::int` })
        .from(adjustments)
        .where(inArray(adjustments.bulkAdjustmentId, [...jobIds]))
        .groupBy(adjustments.bulkAdjustmentId, adjustments.status);
      for (const row of rows) {
        const forJob = counts.get(row.jobId!);
        if (forJob) forJob[COUNTED_AS[row.status]] += Number(row.count);
      }
      return counts;
    });
  }

  /** Items of a job that settled in the last `windowMs` (or since it started, if later), and that window in ms. */
  recentPace(job: BulkAdjustmentRecord, windowMs: number): Promise<{ settled: number; overMs: number }> {
    return whileAvailable(async () => {
      const since = (job.startedAt ?? job.createdAt).toISOString();
      const [row] = await queryRows<{ settled: number; over_ms: number }>(
        this.db,
        sql`select count(*)::int as settled,
                   least(${windowMs}::float8, extract(epoch from now() - ${since}::timestamptz) * 1000) as over_ms
            from ${adjustments}
            where ${adjustments.bulkAdjustmentId} = ${job.id}
              and ${adjustments.settledAt} > greatest(now() - ${windowMs} * interval '1 millisecond', ${since}::timestamptz)`,
      );
      return { settled: Number(row?.settled ?? 0), overMs: Math.max(0, Number(row?.over_ms ?? 0)) };
    });
  }

  // ---- the runner's side ----

  /**
   * Takes the oldest RUNNING job no live instance holds (never held, lease run out, or handed back) for
   * `owner`, until `leaseMs` from now unless renewed. Null when there is none.
   */
  acquire(owner: string, leaseMs: number): Promise<BulkAdjustmentRecord | null> {
    return whileAvailable(async () => {
      const [job] = await queryRows<{ id: string }>(
        this.db,
        sql`update ${bulkAdjustments}
            set lease_owner = ${owner}, lease_expires_at = now() + ${leaseMs} * interval '1 millisecond'
            where id = (
              select id from ${bulkAdjustments}
              where status = 'RUNNING' and (lease_owner is null or lease_expires_at <= now())
              order by started_at, id
              limit 1
              for update skip locked
            )
            and status = 'RUNNING'
            returning id`,
      );
      return job ? this.findById(job.id) : null;
    });
  }

  /** Extends `owner`'s lease; false when it no longer holds the job (taken over, cancelled, finished). */
  renew(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return whileAvailable(async () => {
      const renewed = await this.db
        .update(bulkAdjustments)
        .set({ leaseExpiresAt: sql`now() + ${leaseMs} * interval '1 millisecond'` })
        .where(and(eq(bulkAdjustments.id, id), eq(bulkAdjustments.leaseOwner, owner), eq(bulkAdjustments.status, 'RUNNING')))
        .returning({ id: bulkAdjustments.id });
      return renewed.length === 1;
    });
  }

  /** Hands the job back: another instance may take it at once. */
  release(id: string, owner: string): Promise<void> {
    return whileAvailable(async () => {
      await this.db
        .update(bulkAdjustments)
        .set({ leaseOwner: null, leaseExpiresAt: null })
        .where(and(eq(bulkAdjustments.id, id), eq(bulkAdjustments.leaseOwner, owner)));
    });
  }

  /** The next QUEUED items of a job after `after`, oldest first (the index on (bulk_adjustment_id, status, created_at, id) serves it). */
  queuedItems(jobId: string, after: ItemCursor | null, limit: number): Promise<AdjustmentRecord[]> {
    return whileAvailable(() =>
      this.db
        .select()
        .from(adjustments)
        .where(
          and(
            eq(adjustments.bulkAdjustmentId, jobId),
            eq(adjustments.status, 'QUEUED'),
            after ? sql`(${adjustments.createdAt}, ${adjustments.id}) > (${after.createdAt.toISOString()}::timestamptz, ${after.id})` : undefined,
          ),
        )
        .orderBy(asc(adjustments.createdAt), asc(adjustments.id))
        .limit(limit),
    );
  }

  /**
   * Items worth another attempt under their key: UNKNOWN, or PENDING whose lease ran out (the instance
   * sending it stopped before settling it), with fewer than `maxAttempts` RevenueCat calls so far.
   */
  retryableItems(jobId: string, maxAttempts: number, limit: number): Promise<AdjustmentRecord[]> {
    return whileAvailable(() =>
      this.db
        .select()
        .from(adjustments)
        .where(and(eq(adjustments.bulkAdjustmentId, jobId), sql`${adjustments.attempts} < ${maxAttempts}`, retryable()))
        .orderBy(asc(adjustments.createdAt), asc(adjustments.id))
        .limit(limit),
    );
  }

  /**
   * Completes a RUNNING job `owner` holds, once none of its items is QUEUED, PENDING under a live lease,
   * or retryable. Items left PENDING with their lease run out and no attempt left become UNKNOWN (whether
   * RevenueCat applied them is not known; `retry` hands them back to a runner). Null when it cannot
   * complete yet (or `owner` lost it).
   */
  complete(id: string, owner: string, maxAttempts: number): Promise<BulkAdjustmentRecord | null> {
    return whileAvailable(() =>
      this.db.transaction(async (tx) => {
        const [job] = await tx
          .select()
          .from(bulkAdjustments)
          .where(and(eq(bulkAdjustments.id, id), eq(bulkAdjustments.leaseOwner, owner), eq(bulkAdjustments.status, 'RUNNING')))
          .for('update');
        if (!job) return null;
        const [open] = await tx
          .select({ id: adjustments.id })
          .from(adjustments)
          .where(
            and(
              eq(adjustments.bulkAdjustmentId, id),
              or(
                eq(adjustments.status, 'QUEUED'),
                and(eq(adjustments.status, 'PENDING'), sql`${adjustments.leaseExpiresAt} > now()`),
                and(retryable(), sql`${adjustments.attempts} < ${maxAttempts}`),
              ),
            ),
          )
          .limit(1);
        if (open) return null;
        await tx
          .update(adjustments)
          .set({
            status: 'UNKNOWN',
            leaseToken: null,
            leaseExpiresAt: null,
            errorCode: 'rc_call_failed',
            errorMessage: 'rc_call_failed: timeout',
            errorDetails: { rcType: 'timeout', outcome: 'unknown' },
          })
          .where(and(eq(adjustments.bulkAdjustmentId, id), eq(adjustments.status, 'PENDING'), lte(adjustments.leaseExpiresAt, sql`now()`)));
        const [completed] = await tx
          .update(bulkAdjustments)
          .set({ status: 'COMPLETED', finishedAt: sql`now()`, leaseOwner: null, leaseExpiresAt: null })
          .where(eq(bulkAdjustments.id, id))
          .returning();
        return completed;
      }),
    );
  }

  /** Whether `owner` still holds a RUNNING job (not cancelled, not taken over). */
  async holds(id: string, owner: string): Promise<boolean> {
    const job = await this.findById(id);
    return job !== null && job.status === 'RUNNING' && job.leaseOwner === owner;
  }
}

function retryable(): SQL {
  return or(eq(adjustments.status, 'UNKNOWN'), and(eq(adjustments.status, 'PENDING'), sql`${adjustments.leaseExpiresAt} <= now()`))!;
}
