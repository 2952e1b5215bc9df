import { Module } from '@nestjs/common';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { AdjustmentRepository } from './adjustment.repository';
import { JournalResolver } from './journal.resolver';

/** The journal's repository and its history queries; needs DatabaseModule (global) in the application. */
@Module({
  imports: [RateLimitModule],
  providers: [AdjustmentRepository, JournalResolver],
  exports: [AdjustmentRepository],
})
export class JournalModule {}
