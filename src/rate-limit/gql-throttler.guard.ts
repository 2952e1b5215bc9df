import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard } from '@nestjs/throttler';
import type { ThrottlerModuleOptions, ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerRequest } from '@nestjs/throttler/dist/throttler.guard.interface';
import type { Request, Response } from 'express';
import type { GraphQLResolveInfo } from 'graphql';
import type { AuthenticatedRequest } from '../auth/admin-auth.middleware';
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
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    super(options, storage, reflector);
  }

  /** Each limited root field's limit a minute; undefined for a field that has none. */
  static limitFor(config: AppConfig, parentType: string, fieldName: string): number | undefined {
    const limits: Record<string, Record<string, number> | undefined> = {
      Query: {
        currencies: config.rateLimits.currencies,
        balances: config.rateLimits.balances,
        adjustment: config.rateLimits.reads,
        adjustments: config.rateLimits.reads,
      },
      Mutation: { adjustCredits: config.rateLimits.adjustCredits },
    };
    const forType = limits[parentType];
    return forType && Object.hasOwn(forType, fieldName) ? forType[fieldName] : undefined;
  }

  protected override getRequestResponse(context: ExecutionContext): { req: Record<string, any>; res: Record<string, any> } {
    const { req, res } = GqlExecutionContext.create(context).getContext<{ req: Request; res: Response }>();
    return { req, res };
  }

  /** The caller: the client address (as the trusted-proxy setting resolves it) and the credential used. */
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const request = req as AuthenticatedRequest;
    return `${request.ip ?? 'unknown'}|${request.principal?.label ?? 'anonymous'}`;
  }

  protected override async handleRequest({ context, ttl, throttler, blockDuration, getTracker }: ThrottlerRequest): Promise<boolean> {
    const info = GqlExecutionContext.create(context).getInfo<GraphQLResolveInfo>();
    const field = `${info.parentType.name}.${info.fieldName}`;
    const operation = info.fieldName;
    const limit = GqlThrottlerGuard.limitFor(this.config, info.parentType.name, info.fieldName);
    // A programming error (a limited field missing from limitFor); the schema test guards against it.
    if (limit === undefined) throw new Error(`no rate limit configured for ${field}`);
    const { req, res } = this.getRequestResponse(context);
    // Hashed, so client addresses are not stored in Redis in the clear.
    const key = createHash('sha256').update(`${field}|${throttler.name!}|${await getTracker(req, context)}`).digest('hex');
    const { totalHits, timeToExpire, isBlocked } = await this.storageService.increment(key, ttl, limit, blockDuration, throttler.name!);
    res.setHeader('RateLimit-Limit', limit);
    res.setHeader('RateLimit-Remaining', Math.max(0, limit - totalHits));
    res.setHeader('RateLimit-Reset', timeToExpire);
    if (isBlocked) {
      // Refused before the resolver runs, so its Metrics.measure never counts it: counted here.
      this.metrics.operations.inc({ operation, code: 'rate_limited' });
      res.setHeader('Retry-After', timeToExpire);
      throw Errors.rateLimited(timeToExpire);
    }
    return true;
  }
}
