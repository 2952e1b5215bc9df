import { Controller, Get, Header, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { APP_CONFIG, missingAdminConfig, type AppConfig } from '../config/app-config';
import { Lifecycle } from '../lifecycle/lifecycle';
import { RedisHealth } from '../redis/redis-health';
import { REDIS_CLIENT } from '../redis/redis.module';
import { UpstreamStatus } from '../revenuecat/upstream-status';
import { DatabaseConnection } from '../database/database';
import { Metrics } from '../metrics/metrics';

const REDIS_PING_TIMEOUT_MS = 1000;
/** What an instance does while Redis does not answer (README, "Several instances"). */
const REDIS_FALLBACK = 'rate limits counted per instance; realtime events reach this instance only';
const DATABASE_DOWN = 'currencies, balances and subscriptions serve; adjustments and history answer 503 dependency_unavailable';

/** Unauthenticated probes. Their answers name what is missing or down, never a value or a secret. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly lifecycle: Lifecycle,
    private readonly upstream: UpstreamStatus,
    @Inject(REDIS_CLIENT) private readonly redis: Redis | null,
    private readonly redisHealth: RedisHealth,
    @Inject(DatabaseConnection) private readonly database: DatabaseConnection,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Liveness: the process answers. No dependency is consulted, so a Redis outage never restarts it. */
  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  @HealthCheck()
  liveness() {
    return this.health.check([]);
  }

  /**
   * Readiness: fit to take traffic. Never calls RevenueCat; it reports what real calls last saw. Redis not
   * answering leaves the instance ready (it serves with per-instance fallbacks), and says so.
   */
  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  @HealthCheck()
  readiness() {
    return this.health.check([
      () => {
        const check = this.indicator.check('lifecycle');
        return this.lifecycle.draining ? check.down({ message: 'shutting down' }) : check.up();
      },
      () => {
        const missing = missingAdminConfig(this.config);
        const check = this.indicator.check('config');
        return missing.length === 0 ? check.up() : check.down({ missing });
      },
      async () => {
        const check = this.indicator.check('redis');
        if (!this.redis) return check.up({ mode: 'not configured: state is in-process' });
        const answering =
          this.redisHealth.usable &&
          (await withTimeout(this.redis.ping(), REDIS_PING_TIMEOUT_MS).then(
            () => true,
            () => false,
          ));
        return answering ? check.up({ answering }) : check.up({ answering, fallback: REDIS_FALLBACK });
      },
      async () => {
        // Ready either way: the instance still serves currencies, balances and subscriptions.
        const check = this.indicator.check('database');
        const answering = await this.database.ping().catch(() => false);
        this.metrics.dependencyUp.set({ dependency: 'database' }, answering ? 1 : 0);
        const kind = this.database.kind;
        return answering ? check.up({ kind, answering }) : check.up({ kind, answering, unavailable: DATABASE_DOWN });
      },
      () => {
        const check = this.indicator.check('revenuecat');
        const seen = this.upstream.lastSeen;
        if (!seen) return check.up({ lastSeen: 'no call yet' });
        const details = { lastSeenAt: seen.at, lastSeen: seen.detail };
        return seen.reachable ? check.up(details) : check.down(details);
      },
    ]);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
