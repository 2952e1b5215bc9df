import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { AdminAuthMiddleware } from './auth/admin-auth.middleware';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { Errors } from './common/errors';
import { JsonBodyMiddleware } from './common/json-body.middleware';
import { formatGraphQLError, httpStatusPlugin, noSubscriptionsOverHttpPlugin } from './common/graphql-errors';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { CreditsModule } from './credits/credits.module';
import { HealthModule } from './health/health.module';
import { DrainGateMiddleware } from './lifecycle/drain-gate.middleware';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RealtimeModule } from './realtime/realtime.module';
import { RedisModule } from './redis/redis.module';

export const GRAPHQL_PATH = '/graphql';

/** Bounds on what one GraphQL document may ask for; our own operations are far inside them. */
// Our own types nest three deep; only introspection goes deeper. graphql-js's standard introspection
// query, which Apollo Sandbox sends, counts 21 here (fragments flattened), so depth counts introspection
// too and stops anything much deeper than that.
export const QUERY_LIMITS = { maxDepth: 25, maxCost: 2000, maxAliases: 40, maxTokens: 2000 } as const;

// The rules report our own catalogue errors instead of their generic "Syntax Error" ones.
const queryLimitRules = [
  maxDepthRule({
    n: QUERY_LIMITS.maxDepth,
    ignoreIntrospection: false,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(Errors.queryTooDeep(withoutPrefix(error.message)))],
  }),
  costLimitRule({
    maxCost: QUERY_LIMITS.maxCost,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(Errors.queryTooComplex(withoutPrefix(error.message)))],
  }),
  maxAliasesRule({
    n: QUERY_LIMITS.maxAliases,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(Errors.queryTooComplex(withoutPrefix(error.message)))],
  }),
];

function withoutPrefix(message: string): string {
  return message.replace(/^Syntax Error: /, '');
}

@Module({})
export class AppModule implements NestModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        CommonModule,
        LoggingModule,
        LifecycleModule,
        MetricsModule,
        RedisModule,
        AuthModule,
        RateLimitModule,
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: GRAPHQL_PATH,
          autoSchemaFile: true,
          sortSchema: true,
          // Introspection stays on in production: the admin middleware already keeps everyone else out.
          introspection: true,
          playground: false,
          plugins: [
            ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
            httpStatusPlugin,
            noSubscriptionsOverHttpPlugin,
          ],
          includeStacktraceInErrorResponses: false,
          formatError: formatGraphQLError,
          autoTransformHttpErrors: false,
          preserveHttpStatusForExecutionErrors: false,
          csrfPrevention: true,
          // Batching stays off: one HTTP request is one operation, and its root fields each count
          // against the caller's rate limit.
          allowBatchedHttpRequests: false,
          parseOptions: { maxTokens: QUERY_LIMITS.maxTokens },
          validationRules: queryLimitRules,
          context: ({ req, res }: { req: unknown; res: unknown }) => ({ req, res }),
        }),
        CreditsModule,
        RealtimeModule,
        HealthModule,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Refuse new work while shutting down, authenticate before reading the body, and read it before
    // Apollo sees the request.
    consumer
      .apply(DrainGateMiddleware, AdminAuthMiddleware, JsonBodyMiddleware)
      .forRoutes({ path: GRAPHQL_PATH, method: RequestMethod.ALL });
  }
}
