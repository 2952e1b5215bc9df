import { Logger, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { closeRedis } from '../redis/redis.module';
import { SubscriberRegistry, UsageListener } from './subscriber-registry';
import type { UsageChangedEnvelope } from './usage-changed.event';
import type { Unsubscribe, UsageEventBus } from './usage-event-bus.port';

export const USAGE_CHANNEL_PREFIX = 'credits-gateway:usage:user:';
const EVERY_USER_PATTERN = `${USAGE_CHANNEL_PREFIX}*`;
const READY_TIMEOUT_MS = 5000;
/** How long publish waits for its own event to come back from Redis to this instance's subscribers. */
const ECHO_TIMEOUT_MS = 2000;

/**
 * Delivery across instances: one Redis channel per user. An instance subscribes to a user's channel
 * while it has a subscriber for that user, and to the pattern of all channels while it has a subscriber
 * for every user, so Redis only sends each instance the events it has someone to hand them to. Its own
 * events come back through Redis too, so every subscriber receives each event exactly once.
 */
export class RedisUsageEventBus implements UsageEventBus, OnApplicationShutdown {
  private readonly logger = new Logger(RedisUsageEventBus.name);
  private readonly subscriber: Redis;
  /** The latest SUBSCRIBE/UNSUBSCRIBE per channel, so a listener waits for the one that covers it. */
  private readonly pending = new Map<string, Promise<unknown>>();
  private ready?: Promise<void>;
  /** Events published here that this instance's own subscribers have yet to receive: id → arrivals left. */
  private readonly echoes = new Map<string, { left: number; arrived: () => void }>();

  constructor(
    private readonly publisher: Redis,
    private readonly registry: SubscriberRegistry,
  ) {
    this.subscriber = publisher.duplicate({ connectionName: 'credits-gateway:realtime' });
    this.subscriber.on('error', (error: Error) => this.logger.warn(`Redis subscriber connection: ${error.message}`));
    this.subscriber.on('message', (_channel: string, message: string) => this.receive(message, false));
    this.subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) => this.receive(message, true));
  }

  /**
   * Resolves once Redis has the event and, like the in-process bus, this instance's own subscribers
   * have been handed it (it comes back once through the user's channel and once through the pattern,
   * for whichever this instance listens to), so shutdown, which waits for publishes, also waits for
   * that round trip before closing subscribers.
   */
  async publish(event: UsageChangedEnvelope): Promise<void> {
    const { user, everyone } = this.registry.listening(event.userId);
    const echoed = this.echo(event.id, Number(user) + Number(everyone));
    try {
      await this.publisher.publish(USAGE_CHANNEL_PREFIX + event.userId, JSON.stringify(event));
    } catch (error) {
      this.echoes.get(event.id)?.arrived();
      throw error;
    }
    await echoed;
  }

  async subscribe(userId: string | null, listener: UsageListener): Promise<Unsubscribe> {
    const channel = userId === null ? EVERY_USER_PATTERN : USAGE_CHANNEL_PREFIX + userId;
    const { first } = this.registry.add(userId, listener);
    try {
      if (first) {
        // (P)SUBSCRIBEs queued while the connection is still being set up can be lost by ioredis (seen:
        // a PSUBSCRIBE and a SUBSCRIBE queued together, only the first applied), so send them on a
        // ready connection only. Tracked at once, so a second listener for the channel waits for it too.
        this.track(
          channel,
          this.whenReady().then(() =>
            userId === null ? this.subscriber.psubscribe(channel) : this.subscriber.subscribe(channel),
          ),
        );
      }
      await this.pending.get(channel);
    } catch (error) {
      await this.release(userId, channel, listener);
      throw error;
    }
    return () => this.release(userId, channel, listener);
  }

  onApplicationShutdown(): Promise<void> {
    return closeRedis(this.subscriber);
  }

  private async release(userId: string | null, channel: string, listener: UsageListener): Promise<void> {
    if (!this.registry.remove(userId, listener).last) return;
    this.track(channel, userId === null ? this.subscriber.punsubscribe(channel) : this.subscriber.unsubscribe(channel));
    await this.pending.get(channel)?.catch((error: Error) => this.logger.warn(`unsubscribe failed: ${error.message}`));
  }

  private whenReady(): Promise<void> {
    if (this.subscriber.status === 'ready') return Promise.resolve();
    this.ready ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ready = undefined;
        reject(new Error('Redis subscriber connection not ready'));
      }, READY_TIMEOUT_MS);
      this.subscriber.once('ready', () => {
        clearTimeout(timer);
        this.ready = undefined;
        resolve();
      });
    });
    return this.ready;
  }

  private track(channel: string, command: Promise<unknown>): void {
    const settled = command.finally(() => {
      if (this.pending.get(channel) === settled) this.pending.delete(channel);
    });
    this.pending.set(channel, settled);
  }

  private echo(id: string, arrivals: number): Promise<void> {
    if (arrivals === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn(`usage.changed ${id} did not come back from Redis within ${ECHO_TIMEOUT_MS} ms`);
        arrived();
      }, ECHO_TIMEOUT_MS);
      const arrived = () => {
        clearTimeout(timer);
        this.echoes.delete(id);
        resolve();
      };
      this.echoes.set(id, { left: arrivals, arrived });
    });
  }

  private receive(message: string, everyone: boolean): void {
    let event: UsageChangedEnvelope;
    try {
      event = JSON.parse(message) as UsageChangedEnvelope;
    } catch {
      this.logger.warn('ignored a usage event that is not JSON');
      return;
    }
    if (everyone) this.registry.deliverToEveryone(event);
    else this.registry.deliverToUser(event);
    const echo = this.echoes.get(event.id);
    if (echo && --echo.left === 0) echo.arrived();
  }
}
