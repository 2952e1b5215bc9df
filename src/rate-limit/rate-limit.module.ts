import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { Clock } from '../common/clock';
import { Metrics } from '../metrics/metrics';
import { RedisHealth } from '../redis/redis-health';
import { REDIS_CLIENT } from '../redis/redis.module';
import { FallbackFixedWindowStorage, MemoryFixedWindowStorage, RedisFixedWindowStorage } from './fixed-window.storage';
import { GqlThrottlerGuard } from './gql-throttler.guard';

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [REDIS_CLIENT, RedisHealth, Metrics, Clock],
      useFactory: (redis: Redis | null, health: RedisHealth, metrics: Metrics, clock: Clock) => ({
        // One-minute windows; GqlThrottlerGuard takes each operation's limit from the configuration.
        throttlers: [{ name: 'default', ttl: 60_000, limit: 1 }],
        // Also counts graphql-ws connection attempts (RealtimeServer), with the same fallback.
        storage: redis
          ? new FallbackFixedWindowStorage(new RedisFixedWindowStorage(redis, clock), new MemoryFixedWindowStorage(clock), health, metrics)
          : new MemoryFixedWindowStorage(clock),
      }),
    }),
  ],
  providers: [GqlThrottlerGuard],
  exports: [GqlThrottlerGuard, ThrottlerModule],
})
export class RateLimitModule {}
