import { SubscriberRegistry, UsageListener } from './subscriber-registry';
import type { UsageChangedEvent } from './usage-changed.event';
import type { Unsubscribe, UsageEventBus } from './usage-event-bus.port';

/** In-process delivery: correct for a single instance. */
export class MemoryUsageEventBus implements UsageEventBus {
  constructor(private readonly registry: SubscriberRegistry) {}

  async publish(event: UsageChangedEvent): Promise<void> {
    this.registry.deliverToUser(event);
    this.registry.deliverToEveryone(event);
  }

  async subscribe(userId: string | null, listener: UsageListener): Promise<Unsubscribe> {
    this.registry.add(userId, listener);
    return async () => {
      this.registry.remove(userId, listener);
    };
  }
}
