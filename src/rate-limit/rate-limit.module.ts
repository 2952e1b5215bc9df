import { ExecutionContext, Module } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerModuleOptions, type ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { RedisHealth } from '../redis/redis-health';
import { REDIS_CLIENT } from '../redis/redis.module';
import { FallbackFixedWindowStorage, MemoryFixedWindowStorage, RedisFixedWindowStorage } from './fixed-window.storage';
import { GqlThrottlerGuard } from './gql-throttler.guard';
import { RATE_LIMIT_METADATA, type RateLimitName } from './rate-limit.decorator';

/**
 * One throttler of one-minute windows. Its limit is the field's: `@RateLimit` names one of the configured
 * limits (the start-up check ensures every root field has one, or `@SkipRateLimit`).
 */
export function throttlerOptions(config: AppConfig, reflector: Reflector, storage: ThrottlerStorage): ThrottlerModuleOptions {
  return {
    throttlers: [
      {
        name: 'default',
        ttl: 60_000,
        limit: (context: ExecutionContext) => config.rateLimits[reflector.get<RateLimitName>(RATE_LIMIT_METADATA, context.getHandler())],
      },
    ],
    // GraphQL fields only: HTTP controllers (health, metrics) are not counted.
    skipIf: (context: ExecutionContext) => context.getType<string>() !== 'graphql',
    storage,
  };
}

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [REDIS_CLIENT, RedisHealth, Metrics, Clock, APP_CONFIG, Reflector],
      useFactory: (redis: Redis | null, health: RedisHealth, metrics: Metrics, clock: Clock, config: AppConfig, reflector: Reflector) =>
        throttlerOptions(
          config,
          reflector,
          // Also counts graphql-ws connection attempts (RealtimeServer), with the same fallback.
          redis
            ? new FallbackFixedWindowStorage(new RedisFixedWindowStorage(redis, clock), new MemoryFixedWindowStorage(clock), health, metrics)
            : new MemoryFixedWindowStorage(clock),
        ),
    }),
  ],
  providers: [GqlThrottlerGuard],
  exports: [GqlThrottlerGuard, ThrottlerModule],
})
export class RateLimitModule {}
