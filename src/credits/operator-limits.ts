import { Injectable } from '@nestjs/common';
import type { Actor } from '../common/actor';
import { Errors } from '../common/errors';
import { IdGenerator } from '../common/id-generator';
import type { AdjustmentRecord, ClaimResult, NewAdjustment } from '../idempotency/idempotency-store.port';
import { AdjustmentRepository, sameOwner } from '../journal/adjustment.repository';
import { OperatorRepository } from '../operators/operator.repository';
import { ApprovalRequestStore, type ApprovalRequestRecord } from './approval-request-store.port';

/**
 * An operator's limits (README "Limits and approvals"), checked whenever a claim may send an adjustment:
 * within them, the PENDING record is written in the transaction that checks them (the operator's row
 * locked), so the daily limit holds on any number of instances. Over them, nothing is written or sent: an
 * approval request is created (or found) and the caller gets 403 approval_required with its id.
 */
@Injectable()
export class OperatorLimits {
  constructor(
    private readonly operators: OperatorRepository,
    private readonly approvals: ApprovalRequestStore,
    private readonly journal: AdjustmentRepository,
    private readonly ids: IdGenerator,
  ) {}

  /**
   * Whether `actor`'s adjustments go through the operator's row: every operator, since the role that
   * exempts an ADMIN from limits is read there, as it is now (the token's answer may be a second old).
   * The root secrets have no row and no limits.
   */
  bind(actor: Actor): boolean {
    return actor.operatorId !== null;
  }

  /**
   * Claims `record` for `actor` where the claim may send it: a new key, or `existing` not settled. A key
   * with an approval request follows it, whoever sends it: PENDING is approval_required, APPROVED applies
   * as the requester's, REJECTED/EXPIRED invalid_state, another adjustment idempotency_key_reused. For an
   * existing record only an APPROVED request stands in for the caller's limits; otherwise the claim is
   * within `actor`'s role and limits, so reaching an existing record skips neither.
   */
  async claim(actor: Actor, record: NewAdjustment, leaseMs: number, existing: AdjustmentRecord | null = null): Promise<ClaimResult> {
    const request = await this.approvals.findByIdempotencyKey(record.idempotencyKey);
    if (request && (existing === null || request.status === 'APPROVED')) return this.follow(request, record, leaseMs);
    if (!this.bind(actor)) return this.journal.claim(record, leaseMs);

    const reservation = await this.operators.reserveAdjustment(actor.operatorId!, record.amount, (tx) => this.journal.claim(record, leaseMs, tx), record.id);
    switch (reservation.kind) {
      case 'reserved':
        return reservation.value;
      case 'revoked':
        // Revoked between authentication and now: the credential is no longer valid.
        throw Errors.invalidAdminSecret();
      case 'not_agent':
        throw Errors.roleRequired('AGENT');
      case 'over_max_adjustment':
      case 'over_daily_limit': {
        // The key may have a record by now (a client's retry racing its first request, or one settled
        // meanwhile): what it holds, when claiming it would send nothing. One that would be sent is over
        // the limits as a new key is.
        const current = await this.journal.findByIdempotencyKey(record.idempotencyKey);
        const held = current && unsendable(current, record);
        if (held) return held;
        const created = await this.approvals.createOrFind({
          id: `apr_${this.ids.uuid()}`,
          idempotencyKey: record.idempotencyKey,
          fingerprint: record.fingerprint,
          userId: record.userId,
          currency: record.currency,
          amount: record.amount,
          reason: record.reason,
          reversesId: record.reversesId ?? null,
          requestedBy: actor,
        });
        if (created.kind === 'mismatch') throw Errors.idempotencyKeyReused();
        if (created.kind === 'existing') return this.follow(created.request, record, leaseMs);
        throw Errors.approvalRequired(created.request.id, reservation.kind === 'over_max_adjustment' ? 'maxAdjustment' : 'dailyLimit');
      }
    }
  }

  private follow(request: ApprovalRequestRecord, record: NewAdjustment, leaseMs: number): Promise<ClaimResult> {
    if (request.fingerprint !== record.fingerprint) throw Errors.idempotencyKeyReused();
    switch (request.status) {
      case 'PENDING':
        throw Errors.approvalRequired(request.id);
      case 'APPROVED':
        return this.journal.claim(approvedRecord(record, request), leaseMs);
      default:
        throw Errors.invalidState(`the approval request ${request.id} for this key is ${request.status}; send the adjustment again with a new idempotency key`);
    }
  }
}

/**
 * What a key's record answers when claiming it for `record` would send nothing: another request's key, a
 * settled record (replayed), or one whose lease is alive (in progress). Null when a claim would send it.
 */
function unsendable(current: AdjustmentRecord, record: NewAdjustment): ClaimResult | null {
  if (current.fingerprint !== record.fingerprint || !sameOwner(current, record)) return { kind: 'mismatch', record: current };
  switch (current.status) {
    case 'APPLIED':
    case 'REJECTED':
    case 'CANCELLED':
      return { kind: 'settled', record: current };
    case 'PENDING':
      return current.leaseExpiresAt !== null && current.leaseExpiresAt.getTime() > Date.now() ? { kind: 'in_progress', record: current } : null;
    default:
      return null;
  }
}

/** The journal record of an approved request: the requester's (whoever sends its key), approved by the decider. */
export function approvedRecord(record: NewAdjustment, request: ApprovalRequestRecord): NewAdjustment {
  return {
    ...record,
    actorOperatorId: request.requestedByOperatorId,
    actorName: request.requestedByName,
    actorRole: request.requestedByRole,
    actorOnBehalfOf: request.requestedByOnBehalfOf,
    approvalRequestId: request.id,
    approvedByOperatorId: request.decidedByOperatorId,
    approvedByName: request.decidedByName,
    approvedByRole: request.decidedByRole,
    approvedByOnBehalfOf: request.decidedByOnBehalfOf,
  };
}
