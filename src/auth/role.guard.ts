import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlContextType, GqlExecutionContext } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { Errors } from '../common/errors';
import { atLeast, type OperatorRole } from '../common/actor';
import type { AuthenticatedRequest } from './admin-auth';
import type { Principal } from './principal';
import { ROLES_METADATA } from './roles.decorator';

/**
 * Every root field, over HTTP and graphql-ws, runs only for a credential whose role is at least its `@Roles`
 * (403 `forbidden`), before its rate-limit budget is spent; global, so no resolver can forget it. A request
 * that bypassed authentication has no credential and is refused; graphql-ws carries subscriptions alone (as
 * HTTP refuses them, a query there is 400), and an app user's Clerk token may run `usageChanged` only.
 */
@Injectable()
export class RoleGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType<GqlContextType>() !== 'graphql') return true;
    const gql = GqlExecutionContext.create(context);
    const { parentType, fieldName } = gql.getInfo<GraphQLResolveInfo>();
    const { req, principal: connection } = gql.getContext<{ req?: AuthenticatedRequest; principal?: Principal }>();
    const principal: Principal | undefined = req ? req.principal : connection;
    if (!principal) throw Errors.missingBearer();
    if (principal.kind === 'user') {
      if (parentType.name === 'Subscription' && fieldName === 'usageChanged') return true;
      throw Errors.forbidden('an app user may only watch their own usage');
    }
    const required = this.reflector.getAllAndOverride<OperatorRole | undefined>(ROLES_METADATA, [context.getHandler(), context.getClass()]);
    // A field without @Roles is refused to everyone, ADMIN included: it fails closed.
    if (required === undefined) throw Errors.roleRequired('ADMIN', `${parentType.name}.${fieldName} is not open to any role`);
    if (!atLeast(principal.role, required)) throw Errors.roleRequired(required);
    if (!req && parentType.name !== 'Subscription') {
      throw Errors.badRequest('queries and mutations are served over HTTP at /graphql; graphql-ws carries subscriptions');
    }
    return true;
  }
}
