import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard } from '@nestjs/throttler';
import type { ThrottlerModuleOptions, ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerRequest } from '@nestjs/throttler/dist/throttler.guard.interface';
import type { Request, Response } from 'express';
import type { AuthenticatedRequest } from '../auth/admin-auth.middleware';
import { Errors } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Metrics } from '../metrics/metrics';

type LimitedOperation = keyof AppConfig['rateLimits'];

/**
 * @nestjs/throttler for GraphQL: it runs once per root field executed, so aliases and repeated fields
 * each spend from the caller's budget. The limit is the operation's (the resolver method is named after
 * its field). Every limited operation answers RateLimit-* headers; a refused one is 429 `rate_limited`
 * with Retry-After, and is not executed.
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

  protected override getRequestResponse(context: ExecutionContext): { req: Record<string, any>; res: Record<string, any> } {
    const { req, res } = GqlExecutionContext.create(context).getContext<{ req: Request; res: Response }>();
    return { req, res };
  }

  /** The caller: the client address (as the trusted-proxy setting resolves it) and the credential used. */
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const request = req as AuthenticatedRequest;
    return `${request.ip ?? 'unknown'}|${request.principal?.label ?? 'anonymous'}`;
  }

  protected override async handleRequest({ context, ttl, throttler, blockDuration, getTracker, generateKey }: ThrottlerRequest): Promise<boolean> {
    const operation = context.getHandler().name;
    const limit = this.config.rateLimits[operation as LimitedOperation];
    if (limit === undefined) throw new Error(`no rate limit configured for ${operation}`);
    const { req, res } = this.getRequestResponse(context);
    const key = generateKey(context, await getTracker(req, context), throttler.name!);
    const { totalHits, timeToExpire, isBlocked } = await this.storageService.increment(key, ttl, limit, blockDuration, throttler.name!);
    res.setHeader('RateLimit-Limit', limit);
    res.setHeader('RateLimit-Remaining', Math.max(0, limit - totalHits));
    res.setHeader('RateLimit-Reset', timeToExpire);
    if (isBlocked) {
      // Refused before the resolver runs, so the operations interceptor never sees it.
      this.metrics.operations.inc({ operation, code: 'rate_limited' });
      res.setHeader('Retry-After', timeToExpire);
      throw Errors.rateLimited(timeToExpire);
    }
    return true;
  }
}
