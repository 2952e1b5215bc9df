import { Inject, Injectable, Optional } from '@nestjs/common';
import { and, desc, eq, gt, lte, or, type SQL } from 'drizzle-orm';
import { Clock } from '../common/clock';
import { Database } from '../database/database';
import { isStorableText } from '../common/text';
import { whileAvailable } from '../database/database-errors';
import { before, pageOf, pageStart, type Page } from '../journal/adjustment.repository';
import type { Actor } from '../common/actor';
import { ApprovalRequestStore, type ApprovalRequestRecord, type CreateResult, type NewApprovalRequest } from '../credits/approval-request-store.port';
import { approvalRequests, type ApprovalRequestRow, type ApprovalStatus } from '../database/operators.schema';

/** A request not decided within 24 hours expires (README "Limits and approvals"). */
export const APPROVAL_TTL_MS = 24 * 60 * 60 * 1000;

export type Decision = { status: 'APPROVED'; decidedBy: Actor; adjustmentId: string; reason?: string | null } | { status: 'REJECTED'; decidedBy: Actor; reason: string };

export type DecideResult =
  /** This call decided it: no other decider did or will. */
  | { kind: 'decided'; request: ApprovalRequestRecord }
  /** Decided already, or EXPIRED (409 invalid_state); `request.status` says which. */
  | { kind: 'not_pending'; request: ApprovalRequestRecord }
  | { kind: 'not_found' };

export type ApprovalRequestPage = Page<ApprovalRequestRecord>;

/**
 * Approval requests' data access (README "Limits and approvals"). Times come from the injected Clock (created, expiry),
 * so a test can let 24 hours pass; instances' clocks need only agree to well within a day. Every method
 * throws DatabaseUnavailableError when the database does not answer.
 */
@Injectable()
export class ApprovalRequestRepository implements ApprovalRequestStore {
  constructor(
    @Inject(Database) private readonly db: Database,
    @Optional() private readonly clock: Clock = new Clock(),
  ) {}

  /** Creates the PENDING request for `request.idempotencyKey`, or finds the one that key already has. */
  createOrFind(request: NewApprovalRequest, ttlMs = APPROVAL_TTL_MS): Promise<CreateResult> {
    const { requestedBy, ...fields } = request;
    const now = this.clock.now();
    return whileAvailable(async () => {
      const [created] = await this.db
        .insert(approvalRequests)
        .values({
          ...fields,
          requestedByOperatorId: requestedBy.operatorId,
          requestedByName: requestedBy.name,
          requestedByRole: requestedBy.role,
          requestedByOnBehalfOf: requestedBy.onBehalfOf,
          status: 'PENDING',
          createdAt: new Date(now),
          expiresAt: new Date(now + ttlMs),
        })
        .onConflictDoNothing({ target: approvalRequests.idempotencyKey })
        .returning();
      if (created) return { kind: 'created', request: created };
      const [existing] = await this.db.select().from(approvalRequests).where(eq(approvalRequests.idempotencyKey, request.idempotencyKey));
      // Requests are never deleted, so the conflicting row is there.
      if (!existing) throw new Error(`approval request with key ${request.idempotencyKey} vanished`);
      const current = this.asOfNow(existing);
      return existing.fingerprint === request.fingerprint ? { kind: 'existing', request: current } : { kind: 'mismatch', request: current };
    });
  }

  findById(id: string): Promise<ApprovalRequestRecord | null> {
    if (!isStorableText(id)) return Promise.resolve(null);
    return whileAvailable(async () => {
      const [request] = await this.db.select().from(approvalRequests).where(eq(approvalRequests.id, id));
      return request ? this.asOfNow(request) : null;
    });
  }

  findByIdempotencyKey(key: string): Promise<ApprovalRequestRecord | null> {
    return whileAvailable(async () => {
      const [request] = await this.db.select().from(approvalRequests).where(eq(approvalRequests.idempotencyKey, key));
      return request ? this.asOfNow(request) : null;
    });
  }

  /**
   * PENDING -> APPROVED or REJECTED, as a compare-and-set on the stored status and the expiry: of any
   * number of deciders on any instances exactly one gets `decided`; the others `not_pending`. An approval
   * names the journal record that will apply it (its id chosen by the caller before this call).
   */
  decide(id: string, decision: Decision): Promise<DecideResult> {
    const now = new Date(this.clock.now());
    return whileAvailable(async () => {
      const [decided] = await this.db
        .update(approvalRequests)
        .set({
          status: decision.status,
          decidedByOperatorId: decision.decidedBy.operatorId,
          decidedByName: decision.decidedBy.name,
          decidedByRole: decision.decidedBy.role,
          decidedByOnBehalfOf: decision.decidedBy.onBehalfOf,
          decidedAt: now,
          decisionReason: decision.reason ?? null,
          adjustmentId: decision.status === 'APPROVED' ? decision.adjustmentId : null,
        })
        .where(and(eq(approvalRequests.id, id), eq(approvalRequests.status, 'PENDING'), gt(approvalRequests.expiresAt, now)))
        .returning();
      if (decided) return { kind: 'decided', request: decided };
      const [current] = await this.db.select().from(approvalRequests).where(eq(approvalRequests.id, id));
      return current ? { kind: 'not_pending', request: this.asOfNow(current) } : { kind: 'not_found' };
    });
  }

  /** Writes EXPIRED on PENDING requests past their expiry (reads say EXPIRED anyway; this tidies the rows). Returns how many. */
  expireDue(): Promise<number> {
    const now = new Date(this.clock.now());
    return whileAvailable(async () => {
      const expired = await this.db
        .update(approvalRequests)
        .set({ status: 'EXPIRED' })
        .where(and(eq(approvalRequests.status, 'PENDING'), lte(approvalRequests.expiresAt, now)))
        .returning({ id: approvalRequests.id });
      return expired.length;
    });
  }

  /** Newest first (createdAt, then id, descending), optionally of one status as it reads now. */
  async list(status: ApprovalStatus | null | undefined, first: number, after?: string | null): Promise<ApprovalRequestPage> {
    const position = pageStart(first, after);
    const now = new Date(this.clock.now());
    const conditions: (SQL | undefined)[] = [];
    if (status === 'PENDING') conditions.push(eq(approvalRequests.status, 'PENDING'), gt(approvalRequests.expiresAt, now));
    else if (status === 'EXPIRED') {
      conditions.push(or(eq(approvalRequests.status, 'EXPIRED'), and(eq(approvalRequests.status, 'PENDING'), lte(approvalRequests.expiresAt, now))));
    } else if (status) conditions.push(eq(approvalRequests.status, status));
    if (position) conditions.push(before(approvalRequests, position));
    const rows = await whileAvailable(() =>
      this.db
        .select()
        .from(approvalRequests)
        .where(and(...conditions))
        .orderBy(desc(approvalRequests.createdAt), desc(approvalRequests.id))
        .limit(first + 1),
    );
    return pageOf(
      rows.map((row) => this.asOfNow(row)),
      first,
    );
  }

  private asOfNow(row: ApprovalRequestRow): ApprovalRequestRecord {
    return row.status === 'PENDING' && row.expiresAt.getTime() <= this.clock.now() ? { ...row, status: 'EXPIRED' } : row;
  }
}
