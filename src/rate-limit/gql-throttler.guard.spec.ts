import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { buildSchema, GraphQLObjectType, GraphQLResolveInfo } from 'graphql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Clock } from '../common/clock';
import { GatewayError } from '../common/errors';
import { loadConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { MemoryFixedWindowStorage } from './fixed-window.storage';
import { GqlThrottlerGuard } from './gql-throttler.guard';

const config = loadConfig({});
const schema = buildSchema(readFileSync(join(__dirname, '../../schema.gql'), 'utf8'));

/** Resolver methods named otherwise than their fields, as after a rename with `@Query({ name })`. */
class RenamedResolver {
  listCurrencies(): void {}
  fetchCurrencies(): void {}
  customerBalances(): void {}
}

function rootFields(type: GraphQLObjectType | null | undefined): Array<[string, string]> {
  return type ? Object.keys(type.getFields()).map((field) => [type.name, field]) : [];
}

describe('GqlThrottlerGuard', () => {
  let guard: GqlThrottlerGuard;
  let headers: Map<string, unknown>;

  function execution(handler: () => void, parentType: string, fieldName: string): ExecutionContextHost {
    headers = new Map();
    const req = { ip: '203.0.113.1', socket: { remoteAddress: '203.0.113.1' }, principal: { kind: 'admin', label: 'admin' } };
    const res = { setHeader: (name: string, value: unknown) => headers.set(name, value) };
    const info = { fieldName, parentType: schema.getType(parentType) } as unknown as GraphQLResolveInfo;
    const context = new ExecutionContextHost([undefined, {}, { req, res }, info], RenamedResolver, handler);
    context.setType('graphql');
    return context;
  }

  beforeEach(async () => {
    const clock = new Clock();
    const options = { throttlers: [{ name: 'default', ttl: 60_000, limit: 1 }] };
    guard = new GqlThrottlerGuard(options, new MemoryFixedWindowStorage(clock), new Reflector(), config, new Metrics());
    await guard.onModuleInit();
  });

  it('takes the limit and the budget from the GraphQL field, whatever the resolver method is called', async () => {
    const { listCurrencies, fetchCurrencies, customerBalances } = RenamedResolver.prototype;
    for (let i = 0; i < 30; i++) await expect(guard.canActivate(execution(listCurrencies, 'Query', 'currencies'))).resolves.toBe(true);
    for (let i = 0; i < 30; i++) await expect(guard.canActivate(execution(fetchCurrencies, 'Query', 'currencies'))).resolves.toBe(true);
    expect(headers.get('RateLimit-Limit')).toBe(60);
    expect(headers.get('RateLimit-Remaining')).toBe(0);

    const refused = await guard.canActivate(execution(listCurrencies, 'Query', 'currencies')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GatewayError);
    expect((refused as GatewayError).code).toBe('rate_limited');

    // The same method serving another field spends that field's budget, not the first one's.
    await expect(guard.canActivate(execution(listCurrencies, 'Query', 'balances'))).resolves.toBe(true);
    expect(headers.get('RateLimit-Limit')).toBe(120);
    expect(headers.get('RateLimit-Remaining')).toBe(119);
    await expect(guard.canActivate(execution(customerBalances, 'Mutation', 'adjustCredits'))).resolves.toBe(true);
    expect(headers.get('RateLimit-Limit')).toBe(30);
  });

  it('has a limit for every query and mutation field of the schema', () => {
    const fields = [...rootFields(schema.getQueryType()), ...rootFields(schema.getMutationType())];
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.filter(([type, field]) => GqlThrottlerGuard.limitFor(config, type, field) === undefined)).toEqual([]);
  });
});
