import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/** The shared command connection, or null when REDIS_URL is unset (single-instance mode). */
export const REDIS_CLIENT = Symbol('RedisClient');

export function createRedisClient(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    // Commands issued while (re)connecting wait in ioredis's queue, but each fails after two reconnect
    // attempts rather than hanging a request behind a dead connection.
    enableOfflineQueue: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
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
  private readonly logger = new Logger('Redis');

  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis | null) {
    this.redis?.on('error', (error: Error) => this.logger.warn(`Redis connection: ${error.message}`));
  }

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
      useFactory: (config: AppConfig): Redis | null =>
        config.redisUrl ? createRedisClient(config.redisUrl, 'credits-gateway') : null,
    },
    RedisLifecycle,
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
