import { Inject, Injectable, Logger } from '@nestjs/common';
import { IdGenerator } from '../common/id-generator';
import { Lifecycle } from '../lifecycle/lifecycle';
import { Metrics } from '../metrics/metrics';
import { AppliedChange, usageChanged } from './usage-changed.event';
import { UsageEventBus } from './usage-event-bus.port';

/**
 * The announcement of applied changes: one silent usage.changed per applied adjustment, so the user's
 * app refreshes at once. Never awaited by the answer: a failure to publish is logged and counted, and
 * the adjustment stands. Tracked as in-flight work, begun while the adjustment still is, so shutdown
 * does not close subscribers before the event reaches them.
 */
@Injectable()
export class UsageChangedPublisher {
  private readonly logger = new Logger(UsageChangedPublisher.name);

  constructor(
    @Inject(UsageEventBus) private readonly events: UsageEventBus,
    private readonly ids: IdGenerator,
    private readonly metrics: Metrics,
    private readonly lifecycle: Lifecycle,
  ) {}

  announce(change: AppliedChange & { id: string }): void {
    this.lifecycle
      .track(() => this.events.publish(usageChanged(this.ids.uuid(), change)))
      .then(
        () => this.metrics.realtimeEventsPublished.inc(),
        (error: unknown) => {
          this.metrics.realtimePublishFailures.inc();
          this.logger.warn(`usage.changed for adjustment ${change.id} not published: ${(error as Error).message}`);
        },
      );
  }
}
