import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard } from '@nestjs/throttler';
import type { ThrottlerLimitDetail, ThrottlerModuleOptions, ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { hash } from 'node:crypto';
import type { GraphQLResolveInfo } from 'graphql';
import type { AuthenticatedRequest } from '../auth/admin-auth';
import { Errors } from '../common/errors';
import { Metrics } from '../metrics/metrics';

/**
 * @nestjs/throttler's guard for GraphQL, registered globally: it runs once per root field executed, so
 * aliases and repeated fields each spend from the caller's budget. Only the library's extension points
 * are overridden: where the request is, who the caller is, the counter's key (the GraphQL field as the
 * schema spells it, never a class or method name), and the refusal (429 `rate_limited` from the error
 * catalogue). The limit is the field's `@RateLimit`, resolved by the throttler RateLimitModule configures.
 */
@Injectable()
export class GqlThrottlerGuard extends ThrottlerGuard {
  protected override headerPrefix = 'RateLimit';
  private readonly keys = new Map<string, string>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly metrics: Metrics,
  ) {
    super(options, storage, reflector);
  }

  protected override getRequestResponse(context: ExecutionContext): { req: AuthenticatedRequest; res: FastifyReply } {
    return GqlExecutionContext.create(context).getContext<{ req: AuthenticatedRequest; res: FastifyReply }>();
  }

  /** The client address as Fastify's trustProxy resolves it (TRUST_PROXY), and the credential used. */
  protected override async getTracker(req: AuthenticatedRequest): Promise<string> {
    return `${req.ip ?? 'unknown'}|${req.principal?.label ?? 'anonymous'}`;
  }

  /**
   * One counter per GraphQL field and caller, hashed so that client addresses are not stored in Redis in
   * the clear. A caller sends many requests, so its digest is kept (the table is bounded).
   */
  protected override generateKey(context: ExecutionContext, tracker: string, throttlerName: string): string {
    const { parentType, fieldName } = GqlExecutionContext.create(context).getInfo<GraphQLResolveInfo>();
    const budget = `${parentType.name}.${fieldName}|${throttlerName}|${tracker}`;
    let key = this.keys.get(budget);
    if (key === undefined) {
      if (this.keys.size >= MAX_KEYS_KEPT) this.keys.clear();
      this.keys.set(budget, (key = hash('sha256', budget)));
    }
    return key;
  }

  /** The library has set Retry-After; the refusal also says the budget, and is counted (its resolver never runs). */
  protected override async throwThrottlingException(context: ExecutionContext, { limit, timeToExpire, timeToBlockExpire }: ThrottlerLimitDetail): Promise<void> {
    const { res } = this.getRequestResponse(context);
    res.header('RateLimit-Limit', limit);
    res.header('RateLimit-Remaining', 0);
    res.header('RateLimit-Reset', timeToExpire);
    const { fieldName } = GqlExecutionContext.create(context).getInfo<GraphQLResolveInfo>();
    this.metrics.operations.inc({ operation: fieldName, code: 'rate_limited' });
    throw Errors.rateLimited(timeToBlockExpire);
  }
}

/** Digests kept for callers seen lately; past this many the whole table is dropped and refilled. */
const MAX_KEYS_KEPT = 10_000;
