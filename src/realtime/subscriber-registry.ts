import { Injectable } from '@nestjs/common';
import { Metrics } from '../metrics/metrics';
import type { UsageChangedEvent } from './usage-changed.event';

/** Whatever takes a subscriber's events: an object, so no closure is needed per subscriber. */
export interface UsageListener {
  push(event: UsageChangedEvent): void;
}

/**
 * This instance's subscribers, indexed by user: delivering one user's event touches that user's
 * listeners only, however many other subscribers are connected. `null` means "every user".
 */
@Injectable()
export class SubscriberRegistry {
  private readonly byUser = new Map<string, Set<UsageListener>>();
  private readonly everyone = new Set<UsageListener>();

  constructor(private readonly metrics: Metrics) {}

  /** `first` is true when this is the first listener for its user (or for "every user"). */
  add(userId: string | null, listener: UsageListener): { first: boolean } {
    const set = this.setFor(userId, true)!;
    const first = set.size === 0;
    set.add(listener);
    this.metrics.realtimeSubscriptions.inc({ scope: userId === null ? 'all' : 'user' });
    return { first };
  }

  /** `last` is true when no listener is left for its user (or for "every user"). */
  remove(userId: string | null, listener: UsageListener): { last: boolean } {
    const set = this.setFor(userId, false);
    if (!set?.delete(listener)) return { last: false };
    this.metrics.realtimeSubscriptions.dec({ scope: userId === null ? 'all' : 'user' });
    if (set.size > 0) return { last: false };
    if (userId !== null) this.byUser.delete(userId);
    return { last: true };
  }

  deliverToUser(event: UsageChangedEvent): void {
    const listeners = this.byUser.get(event.userId);
    if (listeners) this.deliver(listeners, event);
  }

  deliverToEveryone(event: UsageChangedEvent): void {
    this.deliver(this.everyone, event);
  }

  /** Users with at least one listener, and listeners in all. */
  get size(): { users: number; listeners: number; everyone: number } {
    let listeners = this.everyone.size;
    for (const set of this.byUser.values()) listeners += set.size;
    return { users: this.byUser.size, listeners, everyone: this.everyone.size };
  }

  private deliver(listeners: Set<UsageListener>, event: UsageChangedEvent): void {
    for (const listener of listeners) listener.push(event);
    this.metrics.realtimeEventsDelivered.inc(listeners.size);
  }

  private setFor(userId: string | null, create: boolean): Set<UsageListener> | undefined {
    if (userId === null) return this.everyone;
    let set = this.byUser.get(userId);
    if (!set && create) {
      set = new Set();
      this.byUser.set(userId, set);
    }
    return set;
  }
}
