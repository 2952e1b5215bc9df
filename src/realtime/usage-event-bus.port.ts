import type { UsageChangedEvent } from './usage-changed.event';
import type { UsageListener } from './subscriber-registry';

export type Unsubscribe = () => Promise<void>;

/** Carries usage.changed events to subscribers on this instance, and on every instance with Redis. */
export interface UsageEventBus {
  publish(event: UsageChangedEvent): Promise<void>;
  /**
   * Listens to one user's events, or every user's with `null`. Resolves once delivery is established,
   * or at once with this instance's events only while a shared transport is away (the rest follows when
   * it is back); never fails for want of it. The returned function releases everything it holds.
   */
  subscribe(userId: string | null, listener: UsageListener): Promise<Unsubscribe>;
}

export const UsageEventBus = Symbol('UsageEventBus');
