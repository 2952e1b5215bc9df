import { Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { Clock } from '../common/clock';
import { RedisHealth } from '../redis/redis-health';
import { REDIS_CLIENT } from '../redis/redis.module';
import { ExactlyOnce } from './exactly-once';
import { IdempotencyStore } from './idempotency-store.port';
import { MemoryIdempotencyStore } from './memory-idempotency.store';
import { RedisIdempotencyStore } from './redis-idempotency.store';

@Module({
  providers: [
    {
      provide: IdempotencyStore,
      inject: [REDIS_CLIENT, RedisHealth, Clock],
      useFactory: (redis: Redis | null, health: RedisHealth, clock: Clock): IdempotencyStore =>
        redis ? new RedisIdempotencyStore(redis, health) : new MemoryIdempotencyStore(clock),
    },
    ExactlyOnce,
  ],
  exports: [IdempotencyStore, ExactlyOnce],
})
export class IdempotencyModule {}
