import type { UsageChangedEnvelope } from './usage-changed.event';
import type { UsageListener } from './subscriber-registry';

export type Unsubscribe = () => Promise<void>;

/** Carries usage.changed events to subscribers on this instance, and on every instance with Redis. */
export interface UsageEventBus {
  publish(event: UsageChangedEnvelope): Promise<void>;
  /**
   * Listens to one user's events, or every user's with `null`. Resolves once delivery is established;
   * the returned function releases everything the subscription holds.
   */
  subscribe(userId: string | null, listener: UsageListener): Promise<Unsubscribe>;
}

export const UsageEventBus = Symbol('UsageEventBus');
