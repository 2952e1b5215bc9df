import type { ExecutionContext, Type } from '@nestjs/common';
import { buildSchema, GraphQLObjectType } from 'graphql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError } from '../common/errors';
import { failureOf } from '../common/testing/failure-of';
import { requiredRoleFor } from './field-roles';
import type { Principal } from './principal';
import { RoleGuard } from './role.guard';

const schema = buildSchema(readFileSync(join(__dirname, '../../schema.gql'), 'utf8'));

function rootFields(type: GraphQLObjectType | null | undefined): Array<[string, string]> {
  return type ? Object.keys(type.getFields()).map((field) => [type.name, field]) : [];
}

/** The part of Nest's ExecutionContext the guard and GqlExecutionContext.create read. */
function executionOf(type: string, args: unknown[]): ExecutionContext {
  const unused = () => {
    throw new Error('not used by RoleGuard');
  };
  return {
    getType: <T extends string>() => type as T,
    getArgs: <T extends unknown[]>() => args as T,
    getArgByIndex: <T>(index: number) => args[index] as T,
    getClass: <T>() => Object as unknown as Type<T>,
    getHandler: () => executionOf,
    switchToHttp: unused,
    switchToRpc: unused,
    switchToWs: unused,
  };
}

/** What GqlExecutionContext reads: [root, args, context, info], of type graphql. */
function execution(context: Record<string, unknown>, parentType: string, fieldName: string): ExecutionContext {
  return executionOf('graphql', [{}, {}, context, { parentType: { name: parentType }, fieldName }]);
}

const operator = (role: 'VIEWER' | 'AGENT' | 'SUPERVISOR' | 'ADMIN'): Principal => ({ kind: 'admin', label: 'operator:op_1', operatorId: 'op_1', name: 'x', role });
const failure = (run: () => unknown) => failureOf(GatewayError, run);

describe('RoleGuard', () => {
  const guard = new RoleGuard();

  it('has a role for every query, mutation and subscription field of the schema', () => {
    const fields = [...rootFields(schema.getQueryType()), ...rootFields(schema.getMutationType()), ...rootFields(schema.getSubscriptionType())];
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.filter(([type, field]) => requiredRoleFor(type, field) === undefined)).toEqual([]);
  });

  it('reads the principal of an HTTP request and of a graphql-ws connection alike', () => {
    expect(guard.canActivate(execution({ req: { principal: operator('AGENT') } }, 'Mutation', 'adjustCredits'))).toBe(true);
    expect(failure(() => guard.canActivate(execution({ req: { principal: operator('VIEWER') } }, 'Mutation', 'adjustCredits'))).details).toEqual({ requiredRole: 'AGENT' });
    expect(guard.canActivate(execution({ principal: operator('VIEWER') }, 'Subscription', 'usageChanged'))).toBe(true);
  });

  it('runs no query or mutation over graphql-ws: 400 bad_request for a role that could run it over HTTP', () => {
    for (const [type, field] of [['Query', 'balances'], ['Mutation', 'adjustCredits'], ['Query', 'me']]) {
      const refused = failure(() => guard.canActivate(execution({ principal: operator('ADMIN') }, type, field)));
      expect([refused.code, refused.status]).toEqual(['bad_request', 400]);
    }
  });

  it('fails closed: an unlisted field is refused even to ADMIN, and no principal is missing_bearer', () => {
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
    const http = executionOf('http', [{}, {}]);
    expect(guard.canActivate(http)).toBe(true);
  });
});
