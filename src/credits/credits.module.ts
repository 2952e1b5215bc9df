import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { RealtimeModule } from '../realtime/realtime.module';
import { RevenueCatModule } from '../revenuecat/revenuecat.module';
import { AdjustmentsService } from './adjustments.service';
import { AuditLog } from './audit-log';
import { CreditsResolver } from './credits.resolver';
import { CreditsService } from './credits.service';

@Module({
  imports: [AuthModule, RevenueCatModule, IdempotencyModule, RealtimeModule, RateLimitModule],
  providers: [CreditsResolver, CreditsService, AdjustmentsService, AuditLog],
})
export class CreditsModule {}
