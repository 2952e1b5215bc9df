import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, gt, gte, inArray, isNull, lt, lte, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../common/errors';
import { isStorableText } from '../common/text';
import { Database } from '../database/database';
import { databaseErrorDetails, whileAvailable } from '../database/database-errors';
import { adjustments, LIVE_REVERSAL_STATUSES, type AdjustmentRow, type AdjustmentStatus, type NewAdjustmentRow, type StoredBalance } from '../database/journal.schema';

/** One journal entry, as stored. */
export type AdjustmentRecord = AdjustmentRow;

/** What the caller knows before RevenueCat is called; status, lease and settlement are the repository's. */
export type NewAdjustment = Omit<
  NewAdjustmentRow,
  'status' | 'leaseToken' | 'leaseExpiresAt' | 'settledAt' | 'attempts' | 'reversedById' | 'balance' | 'balances' | 'errorCode' | 'errorMessage' | 'errorDetails'
>;

export type ClaimResult =
  /** The caller owns the record until it settles it or the lease runs out; send it upstream now. */
  | { kind: 'claimed'; record: AdjustmentRecord; token: string }
  /** The key belongs to a request with another fingerprint. */
  | { kind: 'mismatch'; record: AdjustmentRecord }
  /** Another request holds the key right now (PENDING, lease alive). */
  | { kind: 'in_progress'; record: AdjustmentRecord }
  /** Finished (APPLIED, REJECTED or CANCELLED): replay it. */
  | { kind: 'settled'; record: AdjustmentRecord }
  /** A reversal of an adjustment that already has a live (PENDING, UNKNOWN or APPLIED) reversal. */
  | { kind: 'already_reversed'; reversalId: string };

export type Outcome =
  | { status: 'APPLIED'; balance: number; balances: StoredBalance[] }
  /** A definitive refusal: replayed as exactly this error. */
  | { status: 'REJECTED'; error: StoredError }
  /** Ambiguous: RevenueCat may or may not have applied it; the next claim of the key retries it. */
  | { status: 'UNKNOWN'; error: StoredError };

export interface StoredError {
  code: string;
  message: string;
  /** The error's extensions besides code and status, so a replay answers the same. */
  details?: Record<string, unknown>;
}

/** AdjustmentFilter: every given field must match (AND). */
export interface AdjustmentFilter {
  userId?: string;
  currency?: string;
  /** Any of these; an empty list filters nothing. */
  status?: readonly AdjustmentStatus[];
  operatorId?: string;
  bulkAdjustmentId?: string;
  /** createdAt >= createdAfter */
  createdAfter?: Date;
  /** createdAt < createdBefore */
  createdBefore?: Date;
}

/** One page of a newest-first list (the journal's, approval requests', bulk adjustments'). */
export interface Page<T> {
  nodes: T[];
  /** The cursor of the last node, for `after`; null on an empty page. */
  endCursor: string | null;
  hasNextPage: boolean;
}

export type AdjustmentPage = Page<AdjustmentRecord>;

/** A `first` or `after` the API must refuse as invalid_argument; `field` names the argument. */
export class InvalidPageArgumentError extends GatewayError {
  constructor(
    readonly field: 'first' | 'after',
    problem: string,
  ) {
    super('invalid_argument', `invalid_argument: ${problem}`, { field });
    this.name = 'InvalidPageArgumentError';
  }
}

export const MAX_PAGE_SIZE = 100;

/**
 * The journal's data access: the exactly-once claim protocol (docs/decisions.md, "The journal's claim protocol") and
 * history queries. Lease times use the database's clock, the one every instance shares. Every method
 * throws DatabaseUnavailableError when the database does not answer.
 */
@Injectable()
export class AdjustmentRepository {
  constructor(@Inject(Database) private readonly db: Database) {}

  /**
   * Claims `record.idempotencyKey` for the caller: inserts the record PENDING, or, when the key exists,
   * says what it holds. An UNKNOWN record, a QUEUED bulk item or a PENDING one whose lease ran out is
   * claimed again (compare-and-set on its status and lease token, so of two instances only one gets it).
   * A bulk item's key is its job's: claimed for anything but that job's item, it is a mismatch.
   */
  claim(record: NewAdjustment, leaseMs: number, within?: Database): Promise<ClaimResult> {
    // `within`: a transaction of the caller's (an operator's limits are checked in it). The insert then runs
    // in a savepoint, so a refused reversal does not abort the caller's transaction.
    const db = within ?? this.db;
    return whileAvailable(async () => {
      const token = randomUUID();
      const leaseExpiresAt = sql`now() + ${leaseMs} * interval '1 millisecond'`;
      const insert = (into: Database) =>
        into
          .insert(adjustments)
          .values({ ...record, status: 'PENDING', leaseToken: token, leaseExpiresAt, attempts: 1 })
          .onConflictDoNothing({ target: adjustments.idempotencyKey })
          .returning();
      let inserted: AdjustmentRecord[] | undefined;
      for (let round = 1; inserted === undefined; round++) {
        try {
          inserted = within ? await within.transaction((savepoint) => insert(savepoint)) : await insert(db);
        } catch (error) {
          if (databaseErrorDetails(error).constraint !== 'adjustments_one_live_reversal' || !record.reversesId) throw error;
          const live = await this.findLiveReversal(record.reversesId, db);
          if (live) return { kind: 'already_reversed', reversalId: live.id };
          // The live reversal settled REJECTED between the insert and this read: the original is free
          // again, so insert again. Each lost round means yet another rival was refused; a few at most.
          if (round >= 5) throw error;
        }
      }
      if (inserted[0]) return { kind: 'claimed', record: inserted[0], token };

      // The key exists. A few rounds at most: each lost compare-and-set means another request moved it on.
      for (let round = 0; round < 5; round++) {
        const [existing] = await db.select().from(adjustments).where(eq(adjustments.idempotencyKey, record.idempotencyKey));
        if (!existing) break;
        if (existing.fingerprint !== record.fingerprint || !sameOwner(existing, record)) return { kind: 'mismatch', record: existing };
        if (existing.status === 'APPLIED' || existing.status === 'REJECTED' || existing.status === 'CANCELLED') {
          return { kind: 'settled', record: existing };
        }
        const [reclaimed] = await db
          .update(adjustments)
          .set({ status: 'PENDING', leaseToken: token, leaseExpiresAt, attempts: sql`${adjustments.attempts} + 1` })
          .where(
            and(
              eq(adjustments.id, existing.id),
              eq(adjustments.status, existing.status),
              existing.leaseToken === null ? isNull(adjustments.leaseToken) : eq(adjustments.leaseToken, existing.leaseToken),
              or(sql`${adjustments.status} <> 'PENDING'`, sql`${adjustments.leaseExpiresAt} <= now()`),
            ),
          )
          .returning();
        if (reclaimed) return { kind: 'claimed', record: reclaimed, token };
        if (existing.status === 'PENDING') {
          // Not taken over: either its lease is alive, or another request just re-claimed it. Re-read to tell.
          const [current] = await db.select().from(adjustments).where(eq(adjustments.id, existing.id));
          if (current?.status === 'PENDING' && current.leaseToken === existing.leaseToken) return { kind: 'in_progress', record: current };
        }
      }
      const [current] = await db.select().from(adjustments).where(eq(adjustments.idempotencyKey, record.idempotencyKey));
      if (!current) throw new Error(`adjustment with key ${record.idempotencyKey} vanished`);
      return { kind: 'in_progress', record: current };
    });
  }

  /**
   * Records the outcome of a claimed record, if `token` still owns it (another request may have re-claimed
   * it after the lease ran out; it reaches RevenueCat with the same upstream key, so nothing applies twice).
   * An APPLIED reversal also marks its original as reversed. Returns the settled record, or null if the
   * token no longer owns it.
   */
  settle(id: string, token: string, outcome: Outcome): Promise<AdjustmentRecord | null> {
    return whileAvailable(() =>
      this.db.transaction(async (tx) => {
        const settledAt = outcome.status === 'UNKNOWN' ? null : sql`now()`;
        const [settled] = await tx
          .update(adjustments)
          .set({
            status: outcome.status,
            balance: outcome.status === 'APPLIED' ? outcome.balance : null,
            balances: outcome.status === 'APPLIED' ? outcome.balances : null,
            errorCode: outcome.status === 'APPLIED' ? null : outcome.error.code,
            errorMessage: outcome.status === 'APPLIED' ? null : outcome.error.message,
            errorDetails: outcome.status === 'APPLIED' ? null : (outcome.error.details ?? null),
            leaseToken: null,
            leaseExpiresAt: null,
            settledAt,
          })
          .where(and(eq(adjustments.id, id), eq(adjustments.status, 'PENDING'), eq(adjustments.leaseToken, token)))
          .returning();
        if (!settled) return null;
        if (settled.status === 'APPLIED' && settled.reversesId !== null) {
          await tx
            .update(adjustments)
            .set({ reversedById: settled.id })
            .where(and(eq(adjustments.id, settled.reversesId), isNull(adjustments.reversedById)));
        }
        return settled;
      }),
    );
  }

  findById(id: string): Promise<AdjustmentRecord | null> {
    if (!isStorableText(id)) return Promise.resolve(null);
    return whileAvailable(async () => {
      const [record] = await this.db.select().from(adjustments).where(eq(adjustments.id, id));
      return record ?? null;
    });
  }

  findByIdempotencyKey(key: string): Promise<AdjustmentRecord | null> {
    return whileAvailable(async () => {
      const [record] = await this.db.select().from(adjustments).where(eq(adjustments.idempotencyKey, key));
      return record ?? null;
    });
  }

  /** The reversal that currently holds `originalId` (PENDING, UNKNOWN or APPLIED), if any. */
  findLiveReversal(originalId: string, db: Database = this.db): Promise<AdjustmentRecord | null> {
    return whileAvailable(async () => {
      const [record] = await db
        .select()
        .from(adjustments)
        .where(and(eq(adjustments.reversesId, originalId), inArray(adjustments.status, [...LIVE_REVERSAL_STATUSES])));
      return record ?? null;
    });
  }

  /**
   * Newest first (createdAt, then id, descending), `first` records after the cursor `after`. Validates its
   * arguments before touching the database.
   */
  async list(filter: AdjustmentFilter, first: number, after?: string | null): Promise<AdjustmentPage> {
    const statement = this.listStatement(filter, first, after);
    return pageOf(await whileAvailable(() => statement), first);
  }

  /**
   * The statement behind `list` (one row more than `first`, to tell whether a next page exists). Exposed so
   * a test can EXPLAIN exactly what is sent. Throws InvalidPageArgumentError for a bad `first` or `after`.
   */
  listStatement(filter: AdjustmentFilter, first: number, after?: string | null) {
    return this.newestFirst(filter, pageStart(first, after), first + 1);
  }

  /**
   * Every record `filter` matches, newest first, in pages of `pageSize` read by keyset (each page starts after
   * the last row of the one before), so a long history is never held by one statement or one array.
   */
  async *pages(filter: AdjustmentFilter, pageSize: number): AsyncGenerator<AdjustmentRecord[]> {
    let position: Position | null = null;
    for (;;) {
      const statement = this.newestFirst(filter, position, pageSize);
      const rows: AdjustmentRecord[] = await whileAvailable(() => statement);
      if (rows.length > 0) yield rows;
      if (rows.length < pageSize) return;
      position = rows[rows.length - 1];
    }
  }

  private newestFirst(filter: AdjustmentFilter, position: Position | null, limit: number) {
    const conditions: SQL[] = [];
    if (filter.userId !== undefined) conditions.push(eq(adjustments.userId, filter.userId));
    if (filter.currency !== undefined) conditions.push(eq(adjustments.currency, filter.currency));
    if (filter.status !== undefined && filter.status.length > 0) conditions.push(or(...filter.status.map(shownAs))!);
    if (filter.operatorId !== undefined) conditions.push(eq(adjustments.actorOperatorId, filter.operatorId));
    if (filter.bulkAdjustmentId !== undefined) conditions.push(eq(adjustments.bulkAdjustmentId, filter.bulkAdjustmentId));
    if (filter.createdAfter !== undefined) conditions.push(gte(adjustments.createdAt, filter.createdAfter));
    if (filter.createdBefore !== undefined) conditions.push(lt(adjustments.createdAt, filter.createdBefore));
    if (position) conditions.push(before(adjustments, position));
    return this.db
      .select()
      .from(adjustments)
      .where(and(...conditions))
      .orderBy(desc(adjustments.createdAt), desc(adjustments.id))
      .limit(limit);
  }
}

/**
 * Whether a claim for `record` may take over `existing`: a bulk item only for its own job (the runner), and
 * an interactive record only for an interactive request, so a bulk item's key, which any VIEWER can read,
 * never sends the item outside its job, under the job creator's name and past the sender's limits.
 */
export function sameOwner(existing: Pick<AdjustmentRecord, 'bulkAdjustmentId'>, record: Pick<NewAdjustment, 'bulkAdjustmentId'>): boolean {
  return existing.bulkAdjustmentId === (record.bulkAdjustmentId ?? null);
}

/** Records whose status reads `status` (see shownStatus: a PENDING record past its lease reads UNKNOWN). */
function shownAs(status: AdjustmentStatus): SQL {
  const expired = and(eq(adjustments.status, 'PENDING'), lte(adjustments.leaseExpiresAt, sql`now()`))!;
  if (status === 'UNKNOWN') return or(eq(adjustments.status, 'UNKNOWN'), expired)!;
  if (status === 'PENDING') return and(eq(adjustments.status, 'PENDING'), gt(adjustments.leaseExpiresAt, sql`now()`))!;
  return eq(adjustments.status, status);
}

type Position = { createdAt: Date; id: string };

/**
 * Checks a page's arguments before anything is read: `first` from 1 to MAX_PAGE_SIZE, `after` a cursor this
 * API returned. Answers the position to read after, or null for the first page.
 */
export function pageStart(first: number, after?: string | null): Position | null {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new InvalidPageArgumentError('first', `first must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return after === undefined || after === null ? null : decodeCursor(after);
}

/**
 * Rows older than `position` in newest-first order (createdAt, then id): a row comparison, which the
 * (…, created_at, id) indexes serve directly.
 */
export function before(table: { createdAt: AnyColumn; id: AnyColumn }, position: Position): SQL {
  return sql`(${table.createdAt}, ${table.id}) < (${position.createdAt.toISOString()}::timestamptz, ${position.id})`;
}

/** The page of `first` nodes out of `first + 1` rows read (the extra row only tells that a next page exists). */
export function pageOf<T extends Position>(rows: T[], first: number): Page<T> {
  const nodes = rows.slice(0, first);
  const last = nodes[nodes.length - 1];
  return { nodes, endCursor: last ? encodeCursor(last) : null, hasNextPage: rows.length > first };
}

/** Opaque to clients: base64url of [createdAt in ms, id]. */
export function encodeCursor(record: Pick<AdjustmentRecord, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([record.createdAt.getTime(), record.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  const malformed = () => new InvalidPageArgumentError('after', 'after is not a cursor this API returned');
  if (cursor.length === 0 || cursor.length > 1000 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw malformed();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw malformed();
  const [ms, id] = decoded as unknown[];
  if (!Number.isSafeInteger(ms) || typeof id !== 'string' || id.length === 0 || id.length > 200 || !isStorableText(id)) throw malformed();
  const createdAt = new Date(ms as number);
  if (Number.isNaN(createdAt.getTime())) throw malformed();
  return { createdAt, id };
}
