import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { AdminAuthMiddleware } from './auth/admin-auth.middleware';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { GatewayErrorFilter } from './common/gateway-error.filter';
import { GRAPHQL_PATH } from './common/graphql-path';
import { QUERY_LIMITS, queryLimitRules } from './common/query-limits';
import { formatGraphQLError, httpStatusPlugin, noSubscriptionsOverHttpPlugin } from './common/graphql-errors';
import { RequestScopeMiddleware } from './common/request-scope';
import { createValidationPipe } from './common/validation.pipe';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { CreditsModule } from './credits/credits.module';
import { DatabaseModule } from './database/database.module';
import { JsonBodyMiddleware } from './graphql/json-body.middleware';
import { HealthModule } from './health/health.module';
import { DrainGateMiddleware } from './lifecycle/drain-gate.middleware';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RealtimeModule } from './realtime/realtime.module';
import { RedisModule } from './redis/redis.module';

@Module({})
export class AppModule implements NestModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      // Providers rather than app.useGlobal*: every app built from this module validates and answers alike.
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: GatewayErrorFilter },
      ],
      imports: [
        ConfigModule.register(config),
        CommonModule,
        LoggingModule,
        LifecycleModule,
        MetricsModule,
        RedisModule,
        DatabaseModule,
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

  /**
   * What every /graphql request goes through before Apollo, in this order: the request's scope opened
   * (so every error, Apollo's own included, carries its id), refused while shutting down, authenticated
   * before its body is read, its body read within bounds.
   */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(RequestScopeMiddleware, DrainGateMiddleware, AdminAuthMiddleware, JsonBodyMiddleware)
      .forRoutes({ path: GRAPHQL_PATH, method: RequestMethod.ALL });
  }
}
