import { Module } from '@nestjs/common';
import { AdjustmentRepository } from './adjustment.repository';

/** The journal's repositories; needs DatabaseModule (global) registered in the application. */
@Module({
  providers: [AdjustmentRepository],
  exports: [AdjustmentRepository],
})
export class JournalModule {}
