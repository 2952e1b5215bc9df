import { pause } from '../common/pause';
import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '../common/actor';
import { Errors, GatewayError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Adjustment } from '../credits/adjustment';
import type { ApprovalRequestRecord } from '../credits/approval-request-store.port';
import { AdjustmentsService } from '../credits/adjustments.service';
import { AdjustmentRepository } from '../journal/adjustment.repository';
import { adjustmentIdFor, upstreamKeyFor } from '../idempotency/idempotency-keys';
import { Lifecycle } from '../lifecycle/lifecycle';
import { OperatorRepository } from '../operators/operator.repository';
import { approvalRefusal, effectiveLimits, type Limits } from '../operators/roles';
import type { ApprovalStatus } from '../database/operators.schema';
import { ApprovalRequestRepository, type ApprovalRequestPage } from './approval-request.repository';

/** How often a decider waiting for the requester's retry to settle looks at the record. */
const RELEASE_POLL_MS = 100;

/** Whether `actor` is the credential that decided `request`. */
function decidedBy(request: ApprovalRequestRecord, actor: Actor): boolean {
  return request.decidedByOperatorId === actor.operatorId && request.decidedByName === actor.name;
}

/**
 * The second pair of eyes (README "Limits and approvals"): a SUPERVISOR or ADMIN other than the requester, whose own
 * maxAdjustment covers the amount, decides a PENDING request. Deciding is a compare-and-set, so of any
 * number of deciders on any instances one wins; an approval then applies the adjustment exactly once under
 * the request's idempotency key (a retry of the requester's with that key finds the same record).
 */
@Injectable()
export class ApprovalsService {
  /** How long a decider waits for the requester's retry that holds the record. */
  private readonly heldAtMostMs: number;

  constructor(
    private readonly approvals: ApprovalRequestRepository,
    private readonly operators: OperatorRepository,
    private readonly adjustments: AdjustmentsService,
    private readonly journal: AdjustmentRepository,
    private readonly lifecycle: Lifecycle,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // One RevenueCat call with its retries and their waits, and a moment to settle: no request holds a
    // record longer while it is alive (its lease bounds one that died).
    const { timeoutMs, maxRetries, maxBackoffMs } = config.revenueCat;
    this.heldAtMostMs = Math.min(config.idempotencyLeaseMs, timeoutMs * (maxRetries + 1) + maxBackoffMs * maxRetries + 1_000);
  }

  async approve(approver: Actor, id: string): Promise<Adjustment> {
    const request = await this.approvals.findById(id);
    if (!request) throw Errors.notFound('id');
    // The decider's own retry of an approval whose application was cut short (the decision was stored,
    // then the database stopped answering, or RevenueCat's answer was lost): it applies under the
    // request's key, exactly once. Once settled, it is decided like any other (409 invalid_state).
    if (request.status === 'APPROVED' && decidedBy(request, approver) && !(await this.settled(request))) {
      await this.requireDecider(approver, request, 'approve');
      return this.applyDecided(request);
    }
    if (request.status !== 'PENDING') throw await this.decidedAlready(request);
    await this.requireDecider(approver, request, 'approve');
    await this.requireLiveRequester(request);
    const decided = await this.approvals.decide(id, {
      status: 'APPROVED',
      decidedBy: approver,
      // The record that applies it: its id follows from the request's key, as every adjustment's does.
      adjustmentId: adjustmentIdFor(upstreamKeyFor(request.idempotencyKey)),
    });
    if (decided.kind === 'not_found') throw Errors.notFound('id');
    if (decided.kind === 'not_pending') throw await this.decidedAlready(decided.request);
    return this.applyDecided(decided.request);
  }

  /**
   * The decider's answer is the adjustment it approved. The requester's retry with the request's key may be
   * applying it at this moment (its claim came first): wait for that, within the longest a RevenueCat call
   * can hold the record, then answer its outcome (a replay). Still held by then, the answer stays 409. The
   * wait is no work of this instance's: shutdown ends it with that 409 (the decision is stored; the
   * decider's retry on another instance answers the adjustment), rather than hold the shutdown for it.
   */
  private async applyDecided(approved: ApprovalRequestRecord): Promise<Adjustment> {
    try {
      return await this.apply(approved);
    } catch (error) {
      if (!(error instanceof GatewayError && error.code === 'idempotency_key_in_progress') || approved.adjustmentId === null) throw error;
      await this.untilReleased(approved.adjustmentId, performance.now() + this.heldAtMostMs);
      if (this.lifecycle.draining) throw error;
    }
    return this.apply(approved);
  }

  /** Until the record is no longer PENDING under a live lease, the deadline passes, or shutdown begins. */
  private async untilReleased(adjustmentId: string, deadline: number): Promise<void> {
    const drain = this.lifecycle.drainSignal;
    while (performance.now() < deadline && !drain.aborted) {
      await pause(RELEASE_POLL_MS, drain);
      if (drain.aborted) return;
      const record = await this.journal.findById(adjustmentId);
      if (record?.status !== 'PENDING' || (record.leaseExpiresAt !== null && record.leaseExpiresAt.getTime() <= Date.now())) return;
    }
  }

  /** 409 invalid_state for a request decided already, naming its adjustment once that applied. */
  private async decidedAlready(request: ApprovalRequestRecord): Promise<GatewayError> {
    const record = request.status === 'APPROVED' && request.adjustmentId !== null ? await this.journal.findById(request.adjustmentId) : null;
    return Errors.invalidState(`the approval request is ${request.status}`, record?.status === 'APPLIED' ? { adjustmentId: record.id } : {});
  }

  /** An APPROVED request's adjustment (or reversal), exactly once under its idempotency key. */
  private apply(approved: ApprovalRequestRecord): Promise<Adjustment> {
    const requester = {
      operatorId: approved.requestedByOperatorId,
      name: approved.requestedByName,
      role: approved.requestedByRole,
      onBehalfOf: approved.requestedByOnBehalfOf,
    };
    if (approved.reversesId !== null) {
      // A reversal over the requester's limits: applied as that reversal, with its exactly-once constraint.
      return this.adjustments.reverse({
        adjustmentId: approved.reversesId,
        reason: approved.reason,
        idempotencyKey: approved.idempotencyKey,
        actor: requester,
        approval: approved,
      });
    }
    return this.adjustments.adjust({
      userId: approved.userId,
      currency: approved.currency,
      amount: approved.amount,
      reason: approved.reason,
      idempotencyKey: approved.idempotencyKey,
      actor: requester,
      approval: approved,
    });
  }

  async reject(decider: Actor, id: string, reason: string): Promise<ApprovalRequestRecord> {
    const request = await this.pending(id);
    await this.requireDecider(decider, request, 'reject');
    const decided = await this.approvals.decide(id, { status: 'REJECTED', decidedBy: decider, reason });
    if (decided.kind === 'not_found') throw Errors.notFound('id');
    if (decided.kind === 'not_pending') throw Errors.invalidState(`the approval request is ${decided.request.status}`);
    return decided.request;
  }

  list(status: ApprovalStatus | null | undefined, first: number, after?: string | null): Promise<ApprovalRequestPage> {
    return this.approvals.list(status, first, after);
  }

  /**
   * A revoked requester's requests are not approved: the token may have been revoked because it was
   * stolen, and what it asked for is then the thief's. They can still be rejected, or left to expire.
   */
  private async requireLiveRequester(request: ApprovalRequestRecord): Promise<void> {
    if (request.requestedByOperatorId === null) return;
    const requester = await this.operators.findById(request.requestedByOperatorId);
    if (!requester || requester.revokedAt !== null) throw Errors.invalidState('the requester has been revoked since; reject the request');
  }

  /** Whether the approved request's journal record has its final outcome (APPLIED, REJECTED, CANCELLED). */
  private async settled(request: ApprovalRequestRecord): Promise<boolean> {
    const record = request.adjustmentId === null ? null : await this.journal.findById(request.adjustmentId);
    return record !== null && record.status !== 'PENDING' && record.status !== 'UNKNOWN';
  }

  private async pending(id: string): Promise<ApprovalRequestRecord> {
    const request = await this.approvals.findById(id);
    if (!request) throw Errors.notFound('id');
    if (request.status !== 'PENDING') throw Errors.invalidState(`the approval request is ${request.status}`);
    return request;
  }

  /**
   * The decider's role, person and own limit, read now: a demotion or a lower limit made a moment ago
   * applies, even where the token's answer is still cached (up to a second, on another instance).
   */
  private async requireDecider(decider: Actor, request: ApprovalRequestRecord, decision: 'approve' | 'reject'): Promise<void> {
    let limits: Limits = { maxAdjustment: null, dailyLimit: null };
    let role = decider.role;
    if (decider.operatorId !== null) {
      const operator = await this.operators.findById(decider.operatorId);
      if (!operator || operator.revokedAt !== null) throw Errors.invalidAdminSecret();
      limits = effectiveLimits(operator);
      role = operator.role;
    }
    switch (approvalRefusal({ operatorId: decider.operatorId, role, ...limits }, request, decision)) {
      case 'role':
        throw Errors.roleRequired('SUPERVISOR');
      case 'own_request':
        throw Errors.forbidden('a request must be decided by someone other than its requester');
      case 'over_own_limit':
        throw Errors.forbidden(`the amount is over your own maxAdjustment (${limits.maxAdjustment}); someone with a higher limit must approve it`);
      case null:
        return;
    }
  }
}
