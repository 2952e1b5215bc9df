import { Injectable, Logger } from '@nestjs/common';
import type { AdminPrincipal } from '../auth/admin-authenticator';
import { GatewayError } from '../common/errors';
import type { Adjustment, AdjustmentRequest } from './adjustment';

export interface AuditEntry {
  /** Which credential: `admin` or `admin:previous`; never the secret. */
  actor: string;
  userId: string;
  currency: string;
  amount: number;
  reason: string;
  idempotencyKey: string | null;
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

  succeeded(actor: AdminPrincipal, request: AdjustmentRequest, adjustment: Adjustment): void {
    this.record({
      actor: actor.label,
      ...request,
      outcome: adjustment.replayed ? 'replayed' : 'applied',
      replayed: adjustment.replayed,
      adjustmentId: adjustment.id,
      balance: adjustment.balance,
    });
  }

  failed(actor: AdminPrincipal, request: AdjustmentRequest, error: unknown): void {
    const outcome = error instanceof GatewayError ? error.code : 'internal_error';
    this.record({ actor: actor.label, ...request, outcome, replayed: false });
  }

  record(entry: AuditEntry): void {
    this.logger.log({ event: 'credits.adjustment', ...entry });
  }
}
