import { Logger, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisHealth } from '../redis/redis-health';
import { closeRedis } from '../redis/redis.module';
import { SubscriberRegistry, UsageListener } from './subscriber-registry';
import type { UsageChangedEvent } from './usage-changed.event';
import type { Unsubscribe, UsageEventBus } from './usage-event-bus.port';

export const USAGE_CHANNEL_PREFIX = 'credits-gateway:usage:user:';

/**
 * The channel prefix for the logical database a REDIS_URL selects. Channels are server-wide in Redis,
 * whatever the database, so deployments sharing a server on different databases would otherwise get
 * each other's events. Database 0 keeps the unqualified name.
 */
export function usageChannelPrefix(db: number | undefined): string {
  return db ? `credits-gateway:db${db}:usage:user:` : USAGE_CHANNEL_PREFIX;
}

/** On the wire: the envelope, plus the instance that published it (ignored by instances that do not know it). */
type WireEvent = UsageChangedEvent & { publishedBy?: string };

/**
 * One Redis channel per user, subscribed only while this instance has a subscriber for that user (all
 * channels' pattern only for an every-user subscriber), so Redis sends it only events it can hand on. Its own
 * events go to its own subscribers directly and are skipped when echoed: each arrives exactly once, and a
 * Redis outage loses only other instances' events (channels are subscribed again once it is back).
 */
export class RedisUsageEventBus implements UsageEventBus, OnApplicationShutdown {
  private readonly logger = new Logger(RedisUsageEventBus.name);
  private readonly instanceId = randomUUID();
  private readonly channelPrefix: string;
  private readonly everyUserPattern: string;
  private readonly subscriber: Redis;
  /** The channels (and the pattern) this instance has listeners for: what a new connection subscribes. */
  private readonly wanted = new Set<string>();
  /** The latest SUBSCRIBE/UNSUBSCRIBE per channel, so a listener waits for the one that covers it. */
  private readonly pending = new Map<string, Promise<void>>();
  private outageLogged = false;

  constructor(
    private readonly publisher: Redis,
    private readonly registry: SubscriberRegistry,
    private readonly health: RedisHealth,
  ) {
    this.channelPrefix = usageChannelPrefix(publisher.options.db);
    this.everyUserPattern = `${this.channelPrefix}*`;
    // Subscriptions are ours to restore (from `wanted`), not ioredis's: it only knows the ones Redis
    // confirmed, and would replay (UN)SUBSCRIBEs that no longer say what this instance wants.
    this.subscriber = publisher.duplicate({
      connectionName: 'credits-gateway:realtime',
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
    });
    this.subscriber.on('ready', () => this.resubscribe());
    this.subscriber.on('error', (error: Error) => {
      if (this.outageLogged) return;
      this.outageLogged = true;
      this.logger.warn(`Redis subscriber connection: ${error.message}; events from other instances resume when it is back`);
    });
    this.subscriber.on('message', (_channel: string, message: string) => this.receive(message, false));
    this.subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) => this.receive(message, true));
  }

  /** Delivered here at once, whatever Redis's state; rejects when it could not be sent to other instances. */
  async publish(event: UsageChangedEvent): Promise<void> {
    this.registry.deliverToUser(event);
    this.registry.deliverToEveryone(event);
    if (!this.health.usable) throw new Error("Redis does not answer: delivered to this instance's subscribers only");
    const wire: WireEvent = { ...event, publishedBy: this.instanceId };
    try {
      await this.publisher.publish(this.channelPrefix + event.userId, JSON.stringify(wire));
    } catch (error) {
      this.health.commandFailed();
      throw new Error(`${(error as Error).message}: delivered to this instance's subscribers only`);
    }
  }

  async subscribe(userId: string | null, listener: UsageListener): Promise<Unsubscribe> {
    const channel = userId === null ? this.everyUserPattern : this.channelPrefix + userId;
    const { first } = this.registry.add(userId, listener);
    if (first) {
      this.wanted.add(channel);
      // (P)SUBSCRIBEs queued while the connection is still being set up can be lost by ioredis (seen:
      // a PSUBSCRIBE and a SUBSCRIBE queued together, only the first applied), so they are sent on a
      // ready connection only; otherwise `resubscribe` sends them when it is ready.
      if (this.subscriber.status === 'ready') this.track(channel, this.send('subscribe', [channel]));
    }
    // Never fails: bounded by the command timeout, and a failed SUBSCRIBE is sent again on reconnection.
    await this.pending.get(channel);
    return () => this.release(userId, channel, listener);
  }

  onApplicationShutdown(): Promise<void> {
    return closeRedis(this.subscriber);
  }

  private async release(userId: string | null, channel: string, listener: UsageListener): Promise<void> {
    if (!this.registry.remove(userId, listener).last) return;
    this.wanted.delete(channel);
    // A connection that is not ready has no subscriptions to drop: the next one subscribes `wanted` only.
    if (this.subscriber.status === 'ready') this.track(channel, this.send('unsubscribe', [channel]));
    await this.pending.get(channel);
  }

  /** A new connection (the first, or after an outage) has no subscriptions: subscribe what is wanted. */
  private resubscribe(): void {
    if (this.outageLogged) this.logger.log('Redis subscriber connection is back; events from other instances resume');
    this.outageLogged = false;
    const channels = [...this.wanted].filter((channel) => channel !== this.everyUserPattern);
    if (channels.length > 0) {
      const sent = this.send('subscribe', channels);
      for (const channel of channels) this.track(channel, sent);
    }
    if (this.wanted.has(this.everyUserPattern)) this.track(this.everyUserPattern, this.send('subscribe', [this.everyUserPattern]));
  }

  private send(action: 'subscribe' | 'unsubscribe', channels: string[]): Promise<void> {
    const pattern = channels[0] === this.everyUserPattern;
    const command =
      action === 'subscribe'
        ? pattern
          ? this.subscriber.psubscribe(...channels)
          : this.subscriber.subscribe(...channels)
        : pattern
          ? this.subscriber.punsubscribe(...channels)
          : this.subscriber.unsubscribe(...channels);
    return command.then(
      () => undefined,
      (error: Error) => this.logger.warn(`${action} on the Redis subscriber connection failed: ${error.message}`),
    );
  }

  private track(channel: string, command: Promise<void>): void {
    const settled = command.finally(() => {
      if (this.pending.get(channel) === settled) this.pending.delete(channel);
    });
    this.pending.set(channel, settled);
  }

  private receive(message: string, everyone: boolean): void {
    let wire: WireEvent;
    try {
      wire = JSON.parse(message) as WireEvent;
    } catch {
      this.logger.warn('ignored a usage event that is not JSON');
      return;
    }
    const { publishedBy, ...event } = wire;
    if (publishedBy === this.instanceId) return;
    if (everyone) this.registry.deliverToEveryone(event);
    else this.registry.deliverToUser(event);
  }
}
