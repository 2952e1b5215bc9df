import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { RedisHealth } from './redis-health';

/** The shared command connection, or null when REDIS_URL is unset (single-instance mode). */
export const REDIS_CLIENT = Symbol('RedisClient');

export const REDIS_COMMAND_TIMEOUT_MS = 1000;

export function createRedisClient(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    // Commands issued while (re)connecting wait in ioredis's queue, but each fails after two reconnect
    // attempts rather than hanging a request behind a dead connection. Callers check RedisHealth first,
    // so during an outage nothing is queued at all: only while the first connection is being made.
    enableOfflineQueue: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    // A connection that stays open but stops answering (a broken link) fails each command after this,
    // instead of never; the caller falls back or answers 503.
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    lazyConnect: false,
  });
}

/** QUIT when connected (pending replies arrive first), bounded; a connection that never came up is just dropped. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') return redis.disconnect();
  const timer = setTimeout(() => redis.disconnect(), 2000);
  await redis.quit().catch(() => redis.disconnect());
  clearTimeout(timer);
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.redis) await closeRedis(this.redis);
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): Redis | null => (config.redisUrl ? createRedisClient(config.redisUrl, 'credits-gateway') : null),
    },
    {
      provide: RedisHealth,
      inject: [REDIS_CLIENT, Metrics],
      useFactory: (redis: Redis | null, metrics: Metrics): RedisHealth => new RedisHealth(redis, metrics),
    },
    RedisLifecycle,
  ],
  exports: [REDIS_CLIENT, RedisHealth],
})
export class RedisModule {}
