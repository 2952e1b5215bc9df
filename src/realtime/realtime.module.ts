import { Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { AuthModule } from '../auth/auth.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { RedisHealth } from '../redis/redis-health';
import { REDIS_CLIENT } from '../redis/redis.module';
import { MemoryUsageEventBus } from './memory-usage-event.bus';
import { RealtimeServer } from './realtime.server';
import { RedisUsageEventBus } from './redis-usage-event.bus';
import { SubscriberRegistry } from './subscriber-registry';
import { UsageChangedPublisher } from './usage-changed.publisher';
import { UsageChangedResolver } from './usage-changed.resolver';
import { UsageEventBus } from './usage-event-bus.port';

@Module({
  imports: [AuthModule, RateLimitModule],
  providers: [
    SubscriberRegistry,
    {
      provide: UsageEventBus,
      inject: [REDIS_CLIENT, RedisHealth, SubscriberRegistry],
      useFactory: (redis: Redis | null, health: RedisHealth, registry: SubscriberRegistry): UsageEventBus =>
        redis ? new RedisUsageEventBus(redis, registry, health) : new MemoryUsageEventBus(registry),
    },
    UsageChangedResolver,
    UsageChangedPublisher,
    RealtimeServer,
  ],
  exports: [UsageEventBus, UsageChangedPublisher, SubscriberRegistry, RealtimeServer],
})
export class RealtimeModule {}
