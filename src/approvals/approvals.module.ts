import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CreditsModule } from '../credits/credits.module';
import { JournalModule } from '../journal/journal.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { ApprovalsResolver } from './approvals.resolver';
import { ApprovalsService } from './approvals.service';

/** Two-person approval of adjustments over an operator's limits; the limits themselves are checked in credits/. */
@Module({
  imports: [AuthModule, CreditsModule, JournalModule, RateLimitModule],
  providers: [ApprovalsService, ApprovalsResolver],
})
export class ApprovalsModule {}
