import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { Clock } from '../common/clock';
import { Metrics } from '../metrics/metrics';
import { RedisHealth } from '../redis/redis-health';

/** What ThrottlerStorage.increment answers (the library exports the interface, not the record's type). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

export const RATE_LIMIT_KEY_PREFIX = 'credits-gateway:rate-limit:';

/**
 * Fixed windows aligned to the clock (every minute on the minute for a 60 s window), as RevenueCat's own
 * limits are: a caller's count resets for everyone at the same moment, and Retry-After is the time left
 * in the window. Over the limit, a request is refused and not executed; refused requests still count.
 */
export abstract class FixedWindowStorage implements ThrottlerStorage {
  constructor(protected readonly clock: Clock) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const now = this.clock.now();
    const window = Math.floor(now / ttl);
    const msLeft = (window + 1) * ttl - now;
    const totalHits = await this.hit(`${key}:${window}`, msLeft);
    const timeToExpire = Math.max(1, Math.ceil(msLeft / 1000));
    const isBlocked = totalHits > limit;
    return { totalHits, timeToExpire, isBlocked, timeToBlockExpire: isBlocked ? timeToExpire : 0 };
  }

  /** Counts one hit on the window's key and answers the window's total. */
  protected abstract hit(windowKey: string, msLeft: number): Promise<number>;
}

/** One instance's counters. */
export class MemoryFixedWindowStorage extends FixedWindowStorage {
  private readonly windows = new Map<string, { hits: number; endsAt: number }>();
  private lastSweep = 0;

  protected async hit(windowKey: string, msLeft: number): Promise<number> {
    const now = this.clock.now();
    if (now - this.lastSweep > 60_000) this.sweep(now);
    const entry = this.windows.get(windowKey) ?? { hits: 0, endsAt: now + msLeft };
    entry.hits += 1;
    this.windows.set(windowKey, entry);
    return entry.hits;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, entry] of this.windows) if (entry.endsAt <= now) this.windows.delete(key);
  }
}

/** Counts a hit and (re)sets the key's expiry, in one round trip and one command. */
const HIT_SCRIPT = "local hits = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return hits";

type ScriptedRedis = Redis & { creditsRateLimitHit(key: string, expiryMs: number): Promise<number> };

/**
 * Counters shared by every instance: one hit is one script call (INCR, then PEXPIRE so the key expires
 * with its window), sent as EVALSHA (ioredis loads the script on first use and after a Redis restart).
 */
export class RedisFixedWindowStorage extends FixedWindowStorage {
  private readonly redis: ScriptedRedis;

  constructor(redis: Redis, clock: Clock) {
    super(clock);
    if (!('creditsRateLimitHit' in redis)) redis.defineCommand('creditsRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis = redis as ScriptedRedis;
  }

  protected async hit(windowKey: string, msLeft: number): Promise<number> {
    return this.redis.creditsRateLimitHit(RATE_LIMIT_KEY_PREFIX + windowKey, msLeft + 1000);
  }
}

/**
 * Redis's counters while Redis answers, this instance's own while it does not: a Redis outage makes the
 * limits per instance (each instance allows the full limit) instead of failing every request. Said once
 * per outage in the log, and by the `credits_rate_limit_fallback` gauge; back to the shared counters on
 * the first request after Redis answers again.
 */
export class FallbackFixedWindowStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RateLimit');
  private fallingBack = false;

  constructor(
    private readonly shared: FixedWindowStorage,
    private readonly local: FixedWindowStorage,
    private readonly redis: RedisHealth,
    private readonly metrics: Metrics,
  ) {
    metrics.rateLimitFallback.set(0);
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    if (this.redis.usable) {
      try {
        const record = await this.shared.increment(key, ttl, limit);
        this.recovered();
        return record;
      } catch (error) {
        this.redis.commandFailed();
        this.fallBack((error as Error).message);
      }
    } else {
      this.fallBack('connection down');
    }
    return this.local.increment(key, ttl, limit);
  }

  private fallBack(reason: string): void {
    if (this.fallingBack) return;
    this.fallingBack = true;
    this.metrics.rateLimitFallback.set(1);
    this.logger.warn(`rate limits: Redis does not answer (${reason}); counting on this instance alone until it does`);
  }

  private recovered(): void {
    if (!this.fallingBack) return;
    this.fallingBack = false;
    this.metrics.rateLimitFallback.set(0);
    this.logger.log('rate limits: shared through Redis again');
  }
}
