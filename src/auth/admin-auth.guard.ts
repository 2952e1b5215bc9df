import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { Errors } from '../common/errors';
import type { AuthenticatedRequest } from './admin-auth.middleware';

/**
 * Second line of defence behind AdminAuthMiddleware: a query or mutation only runs for a request the
 * middleware authenticated, even if a route or path prefix ever changes.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { req } = GqlExecutionContext.create(context).getContext<{ req?: AuthenticatedRequest }>();
    if (req?.principal?.kind !== 'admin') throw Errors.missingBearer();
    return true;
  }
}
