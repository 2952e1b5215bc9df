import { Injectable, Logger } from '@nestjs/common';

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

/** One structured line per adjustment attempt, for whoever must later explain a balance. */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('Audit');

  record(entry: AuditEntry): void {
    this.logger.log({ event: 'credits.adjustment', ...entry });
  }
}
