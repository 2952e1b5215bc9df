import { Module } from '@nestjs/common';
import { CreditsModule } from '../credits/credits.module';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ExactlyOnce } from '../idempotency/exactly-once';
import { Lifecycle } from '../lifecycle/lifecycle';
import { Metrics } from '../metrics/metrics';
import { JournalModule } from '../journal/journal.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { RealtimeModule } from '../realtime/realtime.module';
import { RevenueCatModule } from '../revenuecat/revenuecat.module';
import { BulkAdjustmentRepository } from './bulk-adjustment.repository';
import { BulkAdjustmentsService } from './bulk-adjustments.service';
import { BulkItemStore } from './bulk-item.store';
import { BulkResolver } from './bulk.resolver';
import { BULK_EXACTLY_ONCE, BULK_RUNNER_OPTIONS, BulkRunner, DEFAULT_BULK_RUNNER_OPTIONS } from './bulk-runner';

/**
 * Bulk adjustment jobs: their API, their repository and the runner that sends their items. Needs
 * DatabaseModule, PacingModule and LifecycleModule (global) in the application.
 */
@Module({
  imports: [CreditsModule, RevenueCatModule, JournalModule, RealtimeModule, RateLimitModule],
  providers: [
    BulkAdjustmentRepository,
    BulkAdjustmentsService,
    BulkRunner,
    { provide: BULK_RUNNER_OPTIONS, useValue: DEFAULT_BULK_RUNNER_OPTIONS },
    BulkResolver,
    // Items are applied by the same exactly-once protocol as adjustCredits, over the journal (through
    // BulkItemStore's shorter claim). A token of its own: the application's IdempotencyStore and
    // ExactlyOnce stay the credits module's.
    BulkItemStore,
    {
      provide: BULK_EXACTLY_ONCE,
      inject: [BulkItemStore, Metrics, APP_CONFIG, Lifecycle],
      useFactory: (store: BulkItemStore, metrics: Metrics, config: AppConfig, lifecycle: Lifecycle) => new ExactlyOnce(store, metrics, config, lifecycle),
    },
  ],
  exports: [BulkRunner],
})
export class BulkModule {}
