import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { AdminAuthMiddleware } from './auth/admin-auth.middleware';
import { AuthModule } from './auth/auth.module';
import { CommonModule } from './common/common.module';
import { formatGraphQLError, httpStatusPlugin } from './common/graphql-errors';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { CreditsModule } from './credits/credits.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { RealtimeModule } from './realtime/realtime.module';
import { RedisModule } from './redis/redis.module';

export const GRAPHQL_PATH = '/graphql';

@Module({})
export class AppModule implements NestModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        CommonModule,
        LoggingModule,
        MetricsModule,
        RedisModule,
        AuthModule,
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: GRAPHQL_PATH,
          autoSchemaFile: true,
          sortSchema: true,
          // Introspection stays on in production: the admin middleware already keeps everyone else out.
          introspection: true,
          playground: false,
          plugins: [ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }), httpStatusPlugin],
          includeStacktraceInErrorResponses: false,
          formatError: formatGraphQLError,
          autoTransformHttpErrors: false,
          preserveHttpStatusForExecutionErrors: false,
          csrfPrevention: true,
          allowBatchedHttpRequests: false,
        }),
        CreditsModule,
        RealtimeModule,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AdminAuthMiddleware).forRoutes({ path: GRAPHQL_PATH, method: RequestMethod.ALL });
  }
}
