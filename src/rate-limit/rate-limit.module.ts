import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { Clock } from '../common/clock';
import { REDIS_CLIENT } from '../redis/redis.module';
import { MemoryFixedWindowStorage, RedisFixedWindowStorage } from './fixed-window.storage';
import { GqlThrottlerGuard } from './gql-throttler.guard';

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [REDIS_CLIENT, Clock],
      useFactory: (redis: Redis | null, clock: Clock) => ({
        // One-minute windows; GqlThrottlerGuard takes each operation's limit from the configuration.
        throttlers: [{ name: 'default', ttl: 60_000, limit: 1 }],
        storage: redis ? new RedisFixedWindowStorage(redis, clock) : new MemoryFixedWindowStorage(clock),
      }),
    }),
  ],
  providers: [GqlThrottlerGuard],
  exports: [GqlThrottlerGuard, ThrottlerModule],
})
export class RateLimitModule {}
