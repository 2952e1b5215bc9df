import type Redis from 'ioredis';
import { InteractiveTake, PACING_WINDOW_MS, PacingLimits, PacingStore } from './pacing.store';

/** The braces are a Redis Cluster hash tag: the scripts touch several keys, which must share a slot. */
export const PACING_KEY_PREFIX = 'credits-gateway:{pacing}:';

// Each script runs atomically, so instances taking at the same moment are ordered by Redis. Times are the
// callers' clocks (ms since the epoch, fractions kept for the slot schedule); a skew between instances
// shifts their slots by that much, which a minute-long budget does not notice. Numbers are answered as
// strings: Redis would truncate a Lua number to an integer.

/** KEYS: taken (sorted set), next bulk slot, paused until. ARGV: now, interval, catch-up, ceiling, member, window. */
const TAKE_BULK = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local catchUp = tonumber(ARGV[3])
local ceiling = tonumber(ARGV[4])
local window = tonumber(ARGV[6])
local pausedUntil = tonumber(redis.call('GET', KEYS[3]) or '0')
if pausedUntil > now then return {0, string.format('%.3f', pausedUntil - now)} end
local due = tonumber(redis.call('GET', KEYS[2]) or '0')
if due > now then return {0, string.format('%.3f', due - now)} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= ceiling then
  local freeing = redis.call('ZRANGE', KEYS[1], count - ceiling, count - ceiling, 'WITHSCORES')
  return {0, string.format('%.3f', tonumber(freeing[2]) + window - now)}
end
local base
if now - due > interval then base = now else base = math.max(due, now - catchUp) end
local nextDue = base + interval
redis.call('SET', KEYS[2], string.format('%.3f', nextDue), 'PX', math.ceil(nextDue - now + window))
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], window + 1000)
return {1, '0'}
`;

/** KEYS: taken, paused until. ARGV: now, budget, member, window. */
const TAKE_INTERACTIVE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window + 1000)
local pausedUntil = tonumber(redis.call('GET', KEYS[2]) or '0')
local within = 0
if count < tonumber(ARGV[2]) then within = 1 end
return {within, string.format('%.3f', math.max(0, pausedUntil - now))}
`;

/** KEYS: paused until. ARGV: until, now. */
const PAUSE = `
local untilMs = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', math.max(1, math.ceil(untilMs - tonumber(ARGV[2]))))
end
return 1
`;

/**
 * The budget every instance shares: a sorted set of the last minute's transactions (member per
 * transaction, scored by time) for the budget, a "next bulk slot" time advanced by each bulk take
 * (GCRA with no burst) for even spacing, and a "paused until" time. All of it expires by itself and may
 * be lost: a Redis restart at worst lets one minute's budget be counted again.
 */
export class RedisPacingStore implements PacingStore {
  private readonly takenKey: string;
  private readonly nextBulkKey: string;
  private readonly pausedKey: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix = PACING_KEY_PREFIX,
  ) {
    [this.takenKey, this.nextBulkKey, this.pausedKey] = RedisPacingStore.keys(keyPrefix);
  }

  static keys(keyPrefix: string): [taken: string, nextBulk: string, pausedUntil: string] {
    return [`${keyPrefix}taken`, `${keyPrefix}next-bulk`, `${keyPrefix}paused-until`];
  }

  async takeBulk(now: number, limits: PacingLimits, member: string): Promise<number> {
    const [granted, waitMs] = (await this.redis.eval(
      TAKE_BULK,
      3,
      this.takenKey,
      this.nextBulkKey,
      this.pausedKey,
      now,
      limits.bulkIntervalMs,
      limits.catchUpMs,
      limits.bulkCeiling,
      member,
      PACING_WINDOW_MS,
    )) as [number, string];
    return granted === 1 ? 0 : Number(waitMs);
  }

  async takeInteractive(now: number, limits: PacingLimits, member: string): Promise<InteractiveTake> {
    const [within, pausedForMs] = (await this.redis.eval(TAKE_INTERACTIVE, 2, this.takenKey, this.pausedKey, now, limits.budget, member, PACING_WINDOW_MS)) as [
      number,
      string,
    ];
    return { withinBudget: within === 1, pausedForMs: Number(pausedForMs) };
  }

  async pauseUntil(until: number, now: number): Promise<void> {
    await this.redis.eval(PAUSE, 1, this.pausedKey, until, now);
  }
}
