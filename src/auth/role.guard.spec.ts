import { Reflector } from '@nestjs/core';
import type { ExecutionContext } from '@nestjs/common';
import { GatewayError } from '../common/errors';
import { executionContext } from '../common/testing/execution-context';
import { failureOf } from '../common/testing/failure-of';
import type { Principal } from './principal';
import { Roles } from './roles.decorator';
import { RoleGuard } from './role.guard';

class Resolver {
  @Roles('VIEWER')
  balances(): void {}

  @Roles('AGENT')
  adjustCredits(): void {}

  @Roles('VIEWER')
  me(): void {}

  @Roles('VIEWER')
  usageChanged(): void {}

  somethingNew(): void {}
}

@Roles('SUPERVISOR')
class SupervisorResolver {
  operators(): void {}

  @Roles('VIEWER')
  me(): void {}
}

/** What GqlExecutionContext reads: [root, args, context, info], of type graphql, for the method named after the field. */
function execution(context: Record<string, unknown>, parentType: string, fieldName: string, resolver: new () => object = Resolver): ExecutionContext {
  const handler = (resolver.prototype as Record<string, () => void>)[fieldName];
  return executionContext('graphql', [{}, {}, context, { parentType: { name: parentType }, fieldName }], resolver, handler);
}

const operator = (role: 'VIEWER' | 'AGENT' | 'SUPERVISOR' | 'ADMIN'): Principal => ({ kind: 'admin', label: 'operator:op_1', operatorId: 'op_1', name: 'x', role });
const failure = (run: () => unknown) => failureOf(GatewayError, run);

describe('RoleGuard', () => {
  const guard = new RoleGuard(new Reflector());

  it("reads the field's @Roles, for the principal of an HTTP request and of a graphql-ws connection alike", () => {
    expect(guard.canActivate(execution({ req: { principal: operator('AGENT') } }, 'Mutation', 'adjustCredits'))).toBe(true);
    expect(guard.canActivate(execution({ req: { principal: operator('ADMIN') } }, 'Mutation', 'adjustCredits'))).toBe(true);
    const refused = failure(() => guard.canActivate(execution({ req: { principal: operator('VIEWER') } }, 'Mutation', 'adjustCredits')));
    expect([refused.code, refused.status, refused.details]).toEqual(['forbidden', 403, { requiredRole: 'AGENT' }]);
    expect(guard.canActivate(execution({ principal: operator('VIEWER') }, 'Subscription', 'usageChanged'))).toBe(true);
  });

  it("takes the class's @Roles for a method without its own, and the method's over the class's", () => {
    expect(failure(() => guard.canActivate(execution({ req: { principal: operator('AGENT') } }, 'Query', 'operators', SupervisorResolver))).details).toEqual({
      requiredRole: 'SUPERVISOR',
    });
    expect(guard.canActivate(execution({ req: { principal: operator('SUPERVISOR') } }, 'Query', 'operators', SupervisorResolver))).toBe(true);
    expect(guard.canActivate(execution({ req: { principal: operator('VIEWER') } }, 'Query', 'me', SupervisorResolver))).toBe(true);
  });

  it('runs no query or mutation over graphql-ws: 400 bad_request for a role that could run it over HTTP', () => {
    for (const [type, field] of [
      ['Query', 'balances'],
      ['Mutation', 'adjustCredits'],
      ['Query', 'me'],
    ]) {
      const refused = failure(() => guard.canActivate(execution({ principal: operator('ADMIN') }, type, field)));
      expect([refused.code, refused.status]).toEqual(['bad_request', 400]);
    }
  });

  it('fails closed: a field without @Roles is refused even to ADMIN, and no principal is missing_bearer', () => {
    const refused = failure(() => guard.canActivate(execution({ req: { principal: operator('ADMIN') } }, 'Mutation', 'somethingNew')));
    expect([refused.code, refused.details.requiredRole]).toEqual(['forbidden', 'ADMIN']);
    expect(failure(() => guard.canActivate(execution({ req: {} }, 'Query', 'me'))).code).toBe('missing_bearer');
  });

  it('lets an app user run usageChanged only', () => {
    const user: Principal = { kind: 'user', label: 'clerk', userId: 'u', expiresAt: Date.now() + 60_000 };
    expect(guard.canActivate(execution({ principal: user }, 'Subscription', 'usageChanged'))).toBe(true);
    expect(failure(() => guard.canActivate(execution({ principal: user }, 'Query', 'balances'))).code).toBe('forbidden');
  });

  it('lets other kinds of execution (HTTP controllers) through untouched', () => {
    expect(guard.canActivate(executionContext('http', [{}, {}]))).toBe(true);
  });
});
