import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ExactlyOnce } from '../idempotency/exactly-once';
import { IdempotencyStore } from '../idempotency/idempotency-store.port';
import { AdjustmentRepository } from '../journal/adjustment.repository';
import { JournalModule } from '../journal/journal.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { RealtimeModule } from '../realtime/realtime.module';
import { RevenueCatModule } from '../revenuecat/revenuecat.module';
import { AdjustmentReversesResolver } from './adjustment-reverses.resolver';
import { AdjustmentsService } from './adjustments.service';
import { AuditLog } from './audit-log';
import { CreditsResolver } from './credits.resolver';
import { CreditsService } from './credits.service';
import { LedgerTransactions } from './ledger-transactions';
import { OperatorLimits } from './operator-limits';

@Module({
  imports: [AuthModule, RevenueCatModule, JournalModule, RealtimeModule, RateLimitModule],
  providers: [
    CreditsResolver,
    AdjustmentReversesResolver,
    CreditsService,
    AdjustmentsService,
    AuditLog,
    LedgerTransactions,
    // The exactly-once record of an adjustment is its journal entry.
    { provide: IdempotencyStore, useExisting: AdjustmentRepository },
    ExactlyOnce,
    OperatorLimits,
  ],
  // Bulk items go to RevenueCat, and into the audit log, the same way.
  exports: [AdjustmentsService, LedgerTransactions, AuditLog],
})
export class CreditsModule {}
