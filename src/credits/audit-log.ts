import { Injectable, Logger } from '@nestjs/common';
import { GatewayError } from '../common/errors';
import type { Adjustment, AdjustmentRequest } from './adjustment';

export interface AuditEntry {
  /** Which credential: the operator's name, or `admin` / `admin:previous`; never the secret or token. */
  actor: string;
  /** The operator's id; null for the root secrets. */
  operatorId: string | null;
  role: string;
  /** What an internal tool said in X-On-Behalf-Of, as it asserted it. */
  onBehalfOf: string | null;
  userId: string;
  currency: string;
  amount: number;
  reason: string;
  idempotencyKey: string;
  /** `applied`, `replayed`, or the error code. */
  outcome: string;
  replayed: boolean;
  adjustmentId?: string;
  balance?: number;
  /** A reversal's: the adjustment it reverses. */
  reversesId?: string;
  /** Approved by a second person: who (the operator's name, or `admin` / `admin:previous`) and their operator id. */
  approvedBy?: string;
  approvedByOperatorId?: string | null;
  approvedByOnBehalfOf?: string | null;
}

/** What the audit line says the caller asked for. */
type AuditedRequest = AdjustmentRequest & { idempotencyKey: string; reversesId?: string };

/** The audit trail: one structured line per adjustment attempt, for whoever must later explain a balance. */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('Audit');

  succeeded(request: AuditedRequest, adjustment: Adjustment): void {
    this.record({
      ...fieldsOf(request),
      outcome: adjustment.replayed ? 'replayed' : 'applied',
      replayed: adjustment.replayed,
      adjustmentId: adjustment.id,
      balance: adjustment.balance,
      ...(adjustment.approvedBy
        ? { approvedBy: adjustment.approvedBy.name, approvedByOperatorId: adjustment.approvedBy.operatorId, approvedByOnBehalfOf: adjustment.approvedBy.onBehalfOf }
        : {}),
    });
  }

  failed(request: AuditedRequest, error: unknown): void {
    const outcome = error instanceof GatewayError ? error.code : 'internal_error';
    const adjustmentId = error instanceof GatewayError ? error.details.adjustmentId : undefined;
    this.record({ ...fieldsOf(request), outcome, replayed: false, ...(adjustmentId ? { adjustmentId } : {}) });
  }

  record(entry: AuditEntry): void {
    this.logger.log({ event: 'credits.adjustment', ...entry });
  }
}

function fieldsOf(request: AuditedRequest) {
  const { actor, userId, currency, amount, reason, idempotencyKey, reversesId, approval, requestId } = request;
  return {
    ...(requestId === undefined ? {} : { requestId }),
    actor: actor.name,
    operatorId: actor.operatorId,
    role: actor.role,
    onBehalfOf: actor.onBehalfOf,
    userId,
    currency,
    amount,
    reason,
    idempotencyKey,
    ...(reversesId === undefined ? {} : { reversesId }),
    ...(approval
      ? { approvedBy: approval.decidedByName ?? undefined, approvedByOperatorId: approval.decidedByOperatorId, approvedByOnBehalfOf: approval.decidedByOnBehalfOf }
      : {}),
  };
}
