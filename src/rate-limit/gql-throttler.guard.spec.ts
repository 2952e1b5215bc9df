import { Reflector } from '@nestjs/core';
import type { ExecutionContext } from '@nestjs/common';
import { buildSchema, GraphQLResolveInfo } from 'graphql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Clock } from '../common/clock';
import { GatewayError } from '../common/errors';
import { executionContext } from '../common/testing/execution-context';
import { failureOf } from '../common/testing/failure-of';
import { loadConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { MemoryFixedWindowStorage } from './fixed-window.storage';
import { GqlThrottlerGuard } from './gql-throttler.guard';
import { RateLimit, SkipRateLimit } from './rate-limit.decorator';
import { throttlerOptions } from './rate-limit.module';

const config = loadConfig({ RATE_LIMIT_READS_PER_MINUTE: '3' });
const schema = buildSchema(readFileSync(join(__dirname, '../../schema.gql'), 'utf8'));

/** Resolver methods named otherwise than their fields, as after a rename with `@Query({ name })`. */
class RenamedResolver {
  @RateLimit('currencies')
  listCurrencies(): void {}

  @RateLimit('balances')
  customerBalances(): void {}

  @RateLimit('reads')
  whoAmI(): void {}

  @SkipRateLimit()
  watchUsage(): void {}
}

describe('GqlThrottlerGuard', () => {
  let guard: GqlThrottlerGuard;
  let storage: MemoryFixedWindowStorage;
  let headers: Map<string, unknown>;
  let metrics: Metrics;

  function execution(handler: () => void, parentType: string, fieldName: string, label = 'admin'): ExecutionContext {
    headers = new Map();
    const req = { ip: '203.0.113.1', socket: { remoteAddress: '203.0.113.1' }, principal: { kind: 'admin', label } };
    const res = { header: (name: string, value: unknown) => headers.set(name, value) };
    const info = { fieldName, parentType: schema.getType(parentType) } as unknown as GraphQLResolveInfo;
    return executionContext('graphql', [undefined, {}, { req, res }, info], RenamedResolver, handler);
  }

  beforeEach(async () => {
    storage = new MemoryFixedWindowStorage(new Clock());
    metrics = new Metrics();
    const reflector = new Reflector();
    guard = new GqlThrottlerGuard(throttlerOptions(config, reflector, storage), storage, reflector, metrics);
    await guard.onModuleInit();
  });

  it("takes the limit from the method's @RateLimit and the budget from the GraphQL field", async () => {
    const { listCurrencies, customerBalances } = RenamedResolver.prototype;
    for (let i = 0; i < 60; i++) await expect(guard.canActivate(execution(listCurrencies, 'Query', 'currencies'))).resolves.toBe(true);
    expect(headers.get('RateLimit-Limit')).toBe(60);
    expect(headers.get('RateLimit-Remaining')).toBe(0);

    const refused = await failureOf(GatewayError, guard.canActivate(execution(listCurrencies, 'Query', 'currencies')));
    expect([refused.code, refused.status, typeof refused.details.retryAfterSeconds]).toEqual(['rate_limited', 429, 'number']);
    expect(headers.get('Retry-After')).toBe(refused.details.retryAfterSeconds);
    expect([headers.get('RateLimit-Limit'), headers.get('RateLimit-Remaining'), headers.get('RateLimit-Reset')]).toEqual([60, 0, refused.details.retryAfterSeconds]);

    await expect(guard.canActivate(execution(customerBalances, 'Query', 'balances'))).resolves.toBe(true);
    expect([headers.get('RateLimit-Limit'), headers.get('RateLimit-Remaining')]).toEqual([120, 119]);
  });

  it('takes a configured limit, and keeps a budget per credential', async () => {
    const { whoAmI } = RenamedResolver.prototype;
    for (let i = 0; i < 3; i++) await guard.canActivate(execution(whoAmI, 'Query', 'me'));
    expect(headers.get('RateLimit-Limit')).toBe(3);
    expect((await failureOf(GatewayError, guard.canActivate(execution(whoAmI, 'Query', 'me')))).code).toBe('rate_limited');
    await expect(guard.canActivate(execution(whoAmI, 'Query', 'me', 'operator:op_2'))).resolves.toBe(true);
    expect(headers.get('RateLimit-Remaining')).toBe(2);
  });

  it('counts a refusal under the field it refused', async () => {
    const { whoAmI } = RenamedResolver.prototype;
    for (let i = 0; i < 4; i++) await guard.canActivate(execution(whoAmI, 'Query', 'me')).catch(() => undefined);
    expect(await metrics.registry.getSingleMetricAsString('credits_graphql_operations_total')).toContain('operation="me",code="rate_limited"} 1');
  });

  it('counts neither a @SkipRateLimit field nor an HTTP controller', async () => {
    const increment = jest.spyOn(storage, 'increment');
    await expect(guard.canActivate(execution(RenamedResolver.prototype.watchUsage, 'Subscription', 'usageChanged'))).resolves.toBe(true);
    await expect(guard.canActivate(executionContext('http', [{}, {}], RenamedResolver, RenamedResolver.prototype.whoAmI))).resolves.toBe(true);
    expect(increment).not.toHaveBeenCalled();
  });
});
