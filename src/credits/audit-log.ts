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
}

/** The audit trail: one structured line per adjustment attempt, for whoever must later explain a balance. */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('Audit');

  succeeded(request: AdjustmentRequest & { idempotencyKey: string }, adjustment: Adjustment): void {
    this.record({
      ...fieldsOf(request),
      outcome: adjustment.replayed ? 'replayed' : 'applied',
      replayed: adjustment.replayed,
      adjustmentId: adjustment.id,
      balance: adjustment.balance,
    });
  }

  failed(request: AdjustmentRequest & { idempotencyKey: string }, error: unknown): void {
    const outcome = error instanceof GatewayError ? error.code : 'internal_error';
    const adjustmentId = error instanceof GatewayError ? error.details.adjustmentId : undefined;
    this.record({ ...fieldsOf(request), outcome, replayed: false, ...(adjustmentId ? { adjustmentId } : {}) });
  }

  record(entry: AuditEntry): void {
    this.logger.log({ event: 'credits.adjustment', ...entry });
  }
}

function fieldsOf(request: AdjustmentRequest & { idempotencyKey: string }) {
  const { actor, userId, currency, amount, reason, idempotencyKey } = request;
  return {
    actor: actor.name,
    operatorId: actor.operatorId,
    role: actor.role,
    onBehalfOf: actor.onBehalfOf,
    userId,
    currency,
    amount,
    reason,
    idempotencyKey,
  };
}
