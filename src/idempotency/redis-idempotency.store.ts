import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { Errors } from '../common/errors';
import { RedisHealth } from '../redis/redis-health';
import { REDIS_CLIENT } from '../redis/redis.module';
import { ClaimResult, IdempotencyStore } from './idempotency-store.port';

// Each script runs atomically in Redis, so two instances can never both claim one key.
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], cjson.encode({ s = 'pending', f = ARGV[1], t = ARGV[2] }), 'PX', ARGV[3])
  return { 'claimed' }
end
local record = cjson.decode(current)
if record.f ~= ARGV[1] then return { 'mismatch' } end
if record.s == 'pending' then return { 'in_progress' } end
return { 'completed', record.o }
`;

const COMPLETE = `
local current = redis.call('GET', KEYS[1])
if current then
  local record = cjson.decode(current)
  if record.s ~= 'pending' or record.t ~= ARGV[1] then return 0 end
end
redis.call('SET', KEYS[1], cjson.encode({ s = 'done', f = ARGV[2], o = ARGV[3] }), 'PX', ARGV[4])
return 1
`;

const RELEASE = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local record = cjson.decode(current)
if record.s == 'pending' and record.t == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export const IDEMPOTENCY_KEY_PREFIX = 'credits-gateway:idempotency:';

/**
 * Idempotency records shared by every instance through Redis; the lease is the key's own expiry.
 * Without Redis there is no record to check, so every method fails with 503 `dependency_unavailable`,
 * at once while the connection is known to be down, and before anything reaches RevenueCat.
 */
@Injectable()
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly logger = new Logger(RedisIdempotencyStore.name);

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly health: RedisHealth,
  ) {}

  async claim(key: string, fingerprint: string, leaseMs: number): Promise<ClaimResult> {
    const token = randomUUID();
    const [kind, outcome] = (await this.command(
      () => this.redis.eval(CLAIM, 1, this.redisKey(key), fingerprint, token, leaseMs),
      // A claim we gave up on may still reach Redis (a slow link): the release follows it on the same
      // connection, so a claim nobody owns cannot hold the key for a whole lease.
      () => this.redis.eval(RELEASE, 1, this.redisKey(key), token).catch(() => undefined),
    )) as [ClaimResult['kind'], string | undefined];
    switch (kind) {
      case 'claimed':
        return { kind, token };
      case 'completed':
        return { kind, outcome: outcome ?? '' };
      default:
        return { kind };
    }
  }

  async complete(key: string, token: string, fingerprint: string, outcome: string, ttlMs: number): Promise<boolean> {
    return (await this.command(() => this.redis.eval(COMPLETE, 1, this.redisKey(key), token, fingerprint, outcome, ttlMs))) === 1;
  }

  async release(key: string, token: string): Promise<void> {
    await this.command(() => this.redis.eval(RELEASE, 1, this.redisKey(key), token));
  }

  private async command<T>(send: () => Promise<T>, abandon?: () => unknown): Promise<T> {
    if (!this.health.usable) throw Errors.dependencyUnavailable('the idempotency store');
    try {
      return await send();
    } catch (error) {
      this.health.commandFailed();
      abandon?.();
      this.logger.warn(`idempotency store: ${(error as Error).message}`);
      throw Errors.dependencyUnavailable('the idempotency store');
    }
  }

  private redisKey(key: string): string {
    return IDEMPOTENCY_KEY_PREFIX + key;
  }
}
