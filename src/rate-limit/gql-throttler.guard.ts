import type { FastifyReply } from 'fastify';
import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard } from '@nestjs/throttler';
import type { ThrottlerModuleOptions, ThrottlerStorage } from '@nestjs/throttler';
import type { GraphQLResolveInfo } from 'graphql';
import type { AuthenticatedRequest } from '../auth/admin-auth';
import { Errors } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';

/**
 * @nestjs/throttler for GraphQL: it runs once per root field executed, so aliases and repeated fields
 * each spend from the caller's budget. The limit and the budget follow the GraphQL field (its parent
 * type and name as the schema spells them), never a class or method name, so renaming a resolver
 * changes nothing a caller sees. Every limited operation answers RateLimit-* headers; a refused one is
 * 429 `rate_limited` with Retry-After, and is not executed.
 */
@Injectable()
export class GqlThrottlerGuard extends ThrottlerGuard {
  private readonly limits: Limits;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    super(options, storage, reflector);
    this.limits = limitsOf(config);
  }

  /** Each limited root field's limit a minute; undefined for a field that has none. */
  static limitFor(config: AppConfig, parentType: string, fieldName: string): number | undefined {
    return limitIn(limitsOf(config), parentType, fieldName);
  }

  /**
   * One budget per caller (the client address as the trusted-proxy setting resolves it, and the credential
   * used) and GraphQL field, counted in the one throttler RateLimitModule configures.
   * ThrottlerGuard's own canActivate would also look up six per-route decorators (@Throttle,
   * @SkipThrottle, ...) and await each setting on every request; limits here come from limitFor alone.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<GraphQLResolveInfo>();
    const limit = limitIn(this.limits, info.parentType.name, info.fieldName);
    const field = `${info.parentType.name}.${info.fieldName}`;
    // A programming error (a limited field missing from limitFor); the schema test guards against it.
    if (limit === undefined) throw new Error(`no rate limit configured for ${field}`);
    const { req, res } = gql.getContext<{ req: AuthenticatedRequest; res: FastifyReply }>();
    const { name, ttl } = this.throttlers[0];
    const ttlMs = ttl as number;
    // Fastify's request.ip: the socket's address, or the client's behind a proxy TRUST_PROXY trusts.
    const address = req.ip ?? 'unknown';
    const key = this.keyOf(`${field}|${name!}|${address}|${req.principal?.label ?? 'anonymous'}`);
    const { totalHits, timeToExpire, isBlocked } = await this.storageService.increment(key, ttlMs, limit, ttlMs, name!);
    res.header('RateLimit-Limit', limit);
    res.header('RateLimit-Remaining', Math.max(0, limit - totalHits));
    res.header('RateLimit-Reset', timeToExpire);
    if (isBlocked) {
      // Refused before the resolver runs, so its Metrics.measure never counts it: counted here.
      this.metrics.operations.inc({ operation: info.fieldName, code: 'rate_limited' });
      res.header('Retry-After', timeToExpire);
      throw Errors.rateLimited(timeToExpire);
    }
    return true;
  }

  private readonly keys = new Map<string, string>();

  /**
   * The counter's key: hashed, so client addresses are not stored in Redis in the clear. A caller sends
   * many requests, so its digest is kept (the table is bounded) rather than computed for each.
   */
  private keyOf(budget: string): string {
    let key = this.keys.get(budget);
    if (key === undefined) {
      if (this.keys.size >= MAX_KEYS_KEPT) this.keys.clear();
      this.keys.set(budget, (key = hash('sha256', budget)));
    }
    return key;
  }
}

/** Digests kept for callers seen lately; past this many the whole table is dropped and refilled. */
const MAX_KEYS_KEPT = 10_000;

type Limits = Record<string, Record<string, number> | undefined>;

function limitIn(limits: Limits, parentType: string, fieldName: string): number | undefined {
  const forType = limits[parentType];
  return forType && Object.hasOwn(forType, fieldName) ? forType[fieldName] : undefined;
}

function limitsOf(config: AppConfig): Limits {
  return {
    Query: {
      currencies: config.rateLimits.currencies,
      balances: config.rateLimits.balances,
      adjustment: config.rateLimits.reads,
      adjustments: config.rateLimits.reads,
      me: config.rateLimits.reads,
      operators: config.rateLimits.reads,
      approvalRequests: config.rateLimits.reads,
      bulkAdjustment: config.rateLimits.reads,
      bulkAdjustments: config.rateLimits.reads,
    },
    Mutation: {
      adjustCredits: config.rateLimits.adjustCredits,
      reverseAdjustment: config.rateLimits.mutations,
      createOperator: config.rateLimits.mutations,
      updateOperator: config.rateLimits.mutations,
      revokeOperator: config.rateLimits.mutations,
      approveAdjustment: config.rateLimits.mutations,
      rejectAdjustment: config.rateLimits.mutations,
      createBulkAdjustment: config.rateLimits.mutations,
      addBulkAdjustmentItems: config.rateLimits.bulkItems,
      startBulkAdjustment: config.rateLimits.mutations,
      cancelBulkAdjustment: config.rateLimits.mutations,
      retryBulkAdjustment: config.rateLimits.mutations,
    },
  };
}
