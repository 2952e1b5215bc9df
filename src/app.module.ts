import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE, DiscoveryModule } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { AdminAuth } from './auth/admin-auth';
import { ApprovalRequestsModule } from './approvals/approval-requests.module';
import { ApprovalsModule } from './approvals/approvals.module';
import { AuthModule } from './auth/auth.module';
import { RoleGuard } from './auth/role.guard';
import { BulkModule } from './bulk/bulk.module';
import { PacingModule } from './revenuecat/pacing/pacing.module';
import { CommonModule } from './common/common.module';
import { ConsoleModule } from './console/console.module';
import { BodyErrorFilter, GatewayErrorFilter } from './common/gateway-error.filter';
import { REFUSAL_COUNTER } from './common/http-refusal';
import { GRAPHQL_PATH } from './common/graphql-path';
import { QUERY_LIMITS, queryLimitRules } from './common/query-limits';
import { formatGraphQLError, gatewayRequestPlugin } from './common/graphql-errors';
import { createValidationPipe } from './common/validation';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { CreditsModule } from './credits/credits.module';
import { DatabaseModule } from './database/database.module';
import { GraphqlHttpGate } from './graphql/graphql-http.gate';
import { HealthModule } from './health/health.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { Metrics } from './metrics/metrics';
import { MetricsModule } from './metrics/metrics.module';
import { OperatorsModule } from './operators/operators.module';
import { GqlThrottlerGuard } from './rate-limit/gql-throttler.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RealtimeModule } from './realtime/realtime.module';
import { RedisModule } from './redis/redis.module';
import { RootFieldPolicies } from './root-field-policies';

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      // Providers rather than app.useGlobal*: every app built from this module validates and answers alike.
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: GatewayErrorFilter },
        { provide: APP_FILTER, useClass: BodyErrorFilter },
        { provide: REFUSAL_COUNTER, inject: [Metrics], useFactory: (metrics: Metrics) => metrics.requestsRefused },
        // Every root field, whichever module declares it, over HTTP and graphql-ws: its role first, so
        // that a refused caller spends no budget, then its rate limit. Global guards run in this order.
        { provide: APP_GUARD, useClass: RoleGuard },
        { provide: APP_GUARD, useExisting: GqlThrottlerGuard },
        RootFieldPolicies,
        AdminAuth,
        GraphqlHttpGate,
      ],
      imports: [
        ConfigModule.register(config),
        DiscoveryModule,
        CommonModule,
        LoggingModule,
        LifecycleModule,
        MetricsModule,
        RedisModule,
        DatabaseModule,
        PacingModule,
        OperatorsModule,
        ApprovalRequestsModule,
        AuthModule,
        RateLimitModule,
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: GRAPHQL_PATH,
          autoSchemaFile: true,
          sortSchema: true,
          // Introspection stays on in production: GraphqlHttpGate already keeps everyone else out.
          introspection: true,
          playground: false,
          plugins: [
            ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
            gatewayRequestPlugin,
            // Apollo's defaults that would act on every request for nothing: no cache hints in the schema
            // (gatewayRequestPlugin sends the no-store they came to), and no federation traces.
            ApolloServerPluginCacheControlDisabled(),
            ApolloServerPluginInlineTraceDisabled(),
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
          // Fastify's request (authenticated by GraphqlHttpGate; its `id` and `ip`) and reply.
          context: (request: FastifyRequest, reply: FastifyReply) => ({ req: request, res: reply }),
        }),
        CreditsModule,
        ApprovalsModule,
        BulkModule,
        RealtimeModule,
        HealthModule,
        ConsoleModule,
      ],
    };
  }
}
