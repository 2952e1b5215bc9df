import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { Metrics } from '../metrics/metrics';

/** After a command got no answer on a connection that still looks open, leave Redis alone this long. */
const QUIET_AFTER_FAILURE_MS = 1000;

/**
 * What this instance knows of its Redis connection, so that a caller falls back (or refuses) at once
 * while Redis is away instead of queueing behind a dead connection. Down from the moment the
 * connection closes until ioredis has reconnected; up again by itself, without a restart.
 */
export class RedisHealth {
  private readonly logger = new Logger('Redis');
  /** `connecting` until the first connection is up or fails: commands wait for it, bounded by the command timeout. */
  private state: 'connecting' | 'up' | 'down' = 'connecting';
  private quietUntil = 0;
  private outageLogged = false;

  constructor(
    private readonly redis: Redis | null,
    private readonly metrics: Metrics,
  ) {
    if (!redis) return;
    if (redis.status === 'ready') this.state = 'up';
    metrics.dependencyUp.set({ dependency: 'redis' }, this.state === 'up' ? 1 : 0);
    redis.on('ready', () => this.ready());
    redis.on('close', () => this.closed());
    // Once per outage: ioredis reports every failed reconnect, every second or two.
    redis.on('error', (error: Error) => {
      if (this.outageLogged) return;
      this.outageLogged = true;
      this.logger.warn(`Redis connection: ${error.message}`);
    });
  }

  get configured(): boolean {
    return this.redis !== null;
  }

  /** Whether a command is worth sending now. */
  get usable(): boolean {
    return this.redis !== null && this.state !== 'down' && Date.now() >= this.quietUntil;
  }

  /**
   * A command failed. If the connection closed, `close` has already said so; if it is still open but did
   * not answer in time, the next requests skip Redis for a moment rather than each wait the timeout.
   */
  commandFailed(): void {
    this.quietUntil = Date.now() + QUIET_AFTER_FAILURE_MS;
  }

  private ready(): void {
    if (this.state === 'down') this.logger.log('Redis answers again');
    this.state = 'up';
    this.quietUntil = 0;
    this.outageLogged = false;
    this.metrics.dependencyUp.set({ dependency: 'redis' }, 1);
  }

  private closed(): void {
    if (this.state === 'up') this.logger.warn('Redis connection lost; reconnecting');
    this.state = 'down';
    this.metrics.dependencyUp.set({ dependency: 'redis' }, 0);
  }
}
