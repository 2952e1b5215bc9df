import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { RevenueCatModule } from '../revenuecat/revenuecat.module';
import { AdjustmentsService } from './adjustments.service';
import { AuditLog } from './audit-log';
import { CreditsResolver } from './credits.resolver';
import { CreditsService } from './credits.service';

@Module({
  imports: [AuthModule, RevenueCatModule, IdempotencyModule],
  providers: [CreditsResolver, CreditsService, AdjustmentsService, AuditLog],
})
export class CreditsModule {}
