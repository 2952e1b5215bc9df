import { Inject, Injectable, Optional } from '@nestjs/common';
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { Clock } from '../common/clock';
import { Database, queryRows } from '../database/database';
import { DatabaseUnavailableError, whileAvailable } from '../database/database-errors';
import { adjustments } from '../database/journal.schema';
import type { Actor } from '../common/actor';
import { operators, type OperatorRow } from '../database/operators.schema';
import { atLeast, type OperatorRole } from '../common/actor';
import { effectiveLimits } from './roles';
import { isStorableText } from '../common/text';

/** One operator, as stored (never its token: only the hash and the prefix). */
export type OperatorRecord = OperatorRow;

export interface NewOperator {
  id: string;
  name: string;
  role: OperatorRole;
  maxAdjustment: number | null;
  dailyLimit: number | null;
  tokenHash: string;
  tokenPrefix: string;
  createdBy: Actor;
}

/** What updateOperator changes; an absent field stays, null clears a limit. */
export interface OperatorPatch {
  role?: OperatorRole;
  maxAdjustment?: number | null;
  dailyLimit?: number | null;
}

export type Reservation<T> =
  /** Within the limits: `insert` ran in the same transaction and committed; `usedToday` excludes this amount. */
  | { kind: 'reserved'; value: T; usedToday: number }
  /** |amount| is over the operator's maxAdjustment: nothing was inserted. */
  | { kind: 'over_max_adjustment'; maxAdjustment: number }
  /** usedToday + |amount| would pass dailyLimit: nothing was inserted. */
  | { kind: 'over_daily_limit'; dailyLimit: number; usedToday: number }
  /** Unknown or revoked by now: nothing was inserted (the caller answers invalid_admin_secret). */
  | { kind: 'revoked' }
  /** Demoted below AGENT by now (its token's answer may be a second old): nothing was inserted. */
  | { kind: 'not_agent' };

/** lastUsedAt is kept to the minute: one write per operator per minute at most. */
const TOUCH_INTERVAL_MS = 60_000;
/** The in-memory memory of recent touches is trimmed beyond this many operators. */
const TOUCH_MEMORY = 10_000;

const UTC_DAY_START = sql`date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'`;

/**
 * The day's usage: what applied today, plus what is in flight as if applied, since it was reserved before
 * RevenueCat was called and may yet apply (PENDING within its lease, and today's UNKNOWN, which includes a
 * PENDING record past its lease). An earlier day's unsettled record counts on the day it applies, if it does.
 * `recordId`, the record being claimed, is left out: the caller counts it once, as the amount asked for.
 */
const DAILY_USAGE = (operatorId: string, recordId?: string) => sql`
  select coalesce(sum(abs(${adjustments.amount})), 0)::bigint as used
  from ${adjustments}
  where ${adjustments.actorOperatorId} = ${operatorId}
    and ${recordId === undefined ? sql`true` : sql`${adjustments.id} <> ${recordId}`}
    and (
      (${adjustments.status} = 'APPLIED' and ${adjustments.settledAt} >= ${UTC_DAY_START})
      or (${adjustments.status} = 'PENDING' and ${adjustments.leaseExpiresAt} > now())
      or (${adjustments.status} in ('PENDING', 'UNKNOWN') and ${adjustments.createdAt} >= ${UTC_DAY_START})
    )`;

/**
 * Operators' data access (README "Operators, roles and approvals"). Every method throws
 * DatabaseUnavailableError when the database does not answer (touchLastUsed excepted: it is best effort).
 */
@Injectable()
export class OperatorRepository {
  private readonly touched = new Map<string, number>();

  constructor(
    @Inject(Database) private readonly db: Database,
    @Optional() private readonly clock: Clock = new Clock(),
  ) {}

  create(operator: NewOperator): Promise<OperatorRecord> {
    const { createdBy, ...fields } = operator;
    return whileAvailable(async () => {
      const [created] = await this.db
        .insert(operators)
        .values({
          ...fields,
          createdByOperatorId: createdBy.operatorId,
          createdByName: createdBy.name,
          createdByRole: createdBy.role,
          createdByOnBehalfOf: createdBy.onBehalfOf,
        })
        .returning();
      return created;
    });
  }

  findById(id: string): Promise<OperatorRecord | null> {
    if (!isStorableText(id)) return Promise.resolve(null);
    return whileAvailable(async () => {
      const [operator] = await this.db.select().from(operators).where(eq(operators.id, id));
      return operator ?? null;
    });
  }

  /** The operator a token authenticates: found by the token's hash, and not revoked. */
  findByTokenHash(tokenHash: string): Promise<OperatorRecord | null> {
    return whileAvailable(async () => {
      const [operator] = await this.db
        .select()
        .from(operators)
        .where(and(eq(operators.tokenHash, tokenHash), isNull(operators.revokedAt)));
      return operator ?? null;
    });
  }

  /** Which of `ids` are revoked (one indexed lookup; the realtime gateway asks every half second). */
  revokedAmong(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return whileAvailable(async () => {
      const rows = await this.db
        .select({ id: operators.id })
        .from(operators)
        .where(and(inArray(operators.id, [...ids]), isNotNull(operators.revokedAt)));
      return rows.map((row) => row.id);
    });
  }

  /** Oldest first (createdAt, then id); revoked ones only when asked. */
  list(includeRevoked = false): Promise<OperatorRecord[]> {
    return whileAvailable(() =>
      this.db
        .select()
        .from(operators)
        .where(includeRevoked ? undefined : isNull(operators.revokedAt))
        .orderBy(asc(operators.createdAt), asc(operators.id)),
    );
  }

  /**
   * Changes a live operator whose role is still `expectedRole` (the one the caller's permission was checked
   * against); null when it does not exist, is revoked, or its role changed meanwhile.
   */
  update(id: string, patch: OperatorPatch, expectedRole: OperatorRole): Promise<OperatorRecord | null> {
    const set: Partial<OperatorRow> = {};
    if (patch.role !== undefined) set.role = patch.role;
    if (patch.maxAdjustment !== undefined) set.maxAdjustment = patch.maxAdjustment;
    if (patch.dailyLimit !== undefined) set.dailyLimit = patch.dailyLimit;
    return whileAvailable(async () => {
      if (Object.keys(set).length === 0) {
        const [current] = await this.db
          .select()
          .from(operators)
          .where(and(eq(operators.id, id), isNull(operators.revokedAt), eq(operators.role, expectedRole)));
        return current ?? null;
      }
      const [updated] = await this.db
        .update(operators)
        .set(set)
        .where(and(eq(operators.id, id), isNull(operators.revokedAt), eq(operators.role, expectedRole)))
        .returning();
      return updated ?? null;
    });
  }

  /**
   * Revokes at once (revoked_at = now); revoking twice keeps the first time. `revokedNow` tells the caller
   * whether this call did it (and so should invalidate caches and close connections). Null: unknown id.
   */
  revoke(id: string, expectedRole?: OperatorRole): Promise<{ operator: OperatorRecord; revokedNow: boolean } | null> {
    return whileAvailable(async () => {
      const [revoked] = await this.db
        .update(operators)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(operators.id, id), isNull(operators.revokedAt), expectedRole === undefined ? undefined : eq(operators.role, expectedRole)))
        .returning();
      if (revoked) return { operator: revoked, revokedNow: true };
      const [existing] = await this.db.select().from(operators).where(eq(operators.id, id));
      return existing ? { operator: existing, revokedNow: false } : null;
    });
  }

  /**
   * Records that the operator authenticated, to the minute: at most one write a minute per operator from
   * this instance (remembered in memory), and none when another instance wrote within the minute (checked
   * by the statement). Best effort: an unavailable database answers false instead of failing the request.
   */
  async touchLastUsed(id: string): Promise<boolean> {
    const now = this.clock.now();
    const last = this.touched.get(id);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return false;
    this.remember(id, now);
    try {
      const updated = await whileAvailable(() =>
        this.db
          .update(operators)
          .set({ lastUsedAt: new Date(now) })
          .where(
            and(eq(operators.id, id), sql`(${operators.lastUsedAt} is null or ${operators.lastUsedAt} <= ${new Date(now - TOUCH_INTERVAL_MS).toISOString()}::timestamptz)`),
          )
          .returning({ id: operators.id }),
      );
      return updated.length > 0;
    } catch (error) {
      if (error instanceof DatabaseUnavailableError) {
        this.touched.delete(id);
        return false;
      }
      throw error;
    }
  }

  /**
   * The sum of |amount| of the operator's APPLIED adjustments and reversals settled in the current UTC day
   * (the database's clock, which every instance shares), all currencies together.
   */
  appliedToday(operatorId: string): Promise<number> {
    return whileAvailable(async () => {
      const [row] = await queryRows<{ used: string }>(
        this.db,
        sql`
          select coalesce(sum(abs(${adjustments.amount})), 0)::bigint as used
          from ${adjustments}
          where ${adjustments.actorOperatorId} = ${operatorId}
            and ${adjustments.status} = 'APPLIED'
            and ${adjustments.settledAt} >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'`,
      );
      return Number(row?.used ?? 0);
    });
  }

  /**
   * Checks the operator's limits and, within them, runs `insert` (the PENDING journal record) in the same
   * transaction, the operator's row locked FOR UPDATE: reservations for one operator take turns on every
   * instance, so the daily limit holds under any concurrency (docs/decisions.md). `recordId`, a record
   * sent again, is counted once. `insert` must use only its `tx` (PGlite has one connection: the outer
   * handle would wait forever); if it throws, nothing is kept. ADMINs have no limits.
   */
  reserveAdjustment<T>(operatorId: string, amount: number, insert: (tx: Database) => Promise<T>, recordId?: string): Promise<Reservation<T>> {
    return whileAvailable(() =>
      this.db.transaction(
        async (tx): Promise<Reservation<T>> => {
          const [operator] = await tx
            .select({ role: operators.role, maxAdjustment: operators.maxAdjustment, dailyLimit: operators.dailyLimit })
            .from(operators)
            .where(and(eq(operators.id, operatorId), isNull(operators.revokedAt)))
            .for('update');
          if (!operator) return { kind: 'revoked' };
          if (!atLeast(operator.role, 'AGENT')) return { kind: 'not_agent' };
          const limits = effectiveLimits(operator);
          if (limits.maxAdjustment !== null && Math.abs(amount) > limits.maxAdjustment) {
            return { kind: 'over_max_adjustment', maxAdjustment: limits.maxAdjustment };
          }
          let usedToday = 0;
          if (limits.dailyLimit !== null) {
            // Read committed: this statement sees every reservation committed before the lock was granted.
            const [row] = await queryRows<{ used: string }>(tx, DAILY_USAGE(operatorId, recordId));
            usedToday = Number(row?.used ?? 0);
            if (usedToday + Math.abs(amount) > limits.dailyLimit) return { kind: 'over_daily_limit', dailyLimit: limits.dailyLimit, usedToday };
          }
          return { kind: 'reserved', value: await insert(tx), usedToday };
        },
        { isolationLevel: 'read committed' },
      ),
    );
  }

  private remember(id: string, now: number): void {
    if (this.touched.size >= TOUCH_MEMORY) {
      for (const [key, at] of this.touched) if (now - at >= TOUCH_INTERVAL_MS) this.touched.delete(key);
      if (this.touched.size >= TOUCH_MEMORY) this.touched.clear();
    }
    this.touched.set(id, now);
  }
}
