/**
 * The framework's floor: the smallest NestJS 11 + `@nestjs/apollo` code-first app serving the same
 * `balances` field as the plain `@apollo/server`, with the same upstream call (scripts/bench/lib/plain-upstream.ts)
 * and the same constant-time bearer check, as a Nest middleware on /graphql. Nest's defaults otherwise
 * (its own JSON body parser, Apollo through the Nest driver, no logger beyond Nest's, no guards, pipes,
 * interceptors, validation, rate limits or metrics). The gap between this and the plain server is what
 * NestJS and its Apollo driver cost; the gap between this and the service is the service's own work.
 *
 * With MINIMAL_PLATFORM=fastify the same app runs on Nest's Fastify adapter (`@nestjs/platform-fastify`,
 * Apollo through `@as-integrations/fastify`, Nest's Fastify JSON parser) instead of Express: the same
 * module, resolver and middleware, so the difference between the two is the HTTP platform alone.
 *
 * Configuration (environment): UPSTREAM_URL, UPSTREAM_API_KEY, UPSTREAM_PROJECT_ID, ADMIN_SECRET, as the
 * plain server; MINIMAL_PLATFORM (express, the default, or fastify). Runs as a benchmark child (IPC) or by
 * hand (PORT, default 0).
 */
import 'reflect-metadata';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { Injectable, MiddlewareConsumer, Module, NestMiddleware, NestModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Args, Field, GraphQLModule, ID, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Application } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { failStart, serveChild } from './lib/child-side';
import { bearerMatches, plainUpstream, required } from './lib/plain-upstream';

const upstream = plainUpstream();
const secret = Buffer.from(required('ADMIN_SECRET'));

@ObjectType('CurrencyBalance')
class CurrencyBalance {
  @Field(() => String)
  currency!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => Int)
  balance!: number;
}

@Resolver()
class BalancesResolver {
  @Query(() => [CurrencyBalance])
  balances(
    @Args('userId', { type: () => ID }) userId: string,
    @Args('includeEmpty', { type: () => Boolean, defaultValue: false }) includeEmpty: boolean,
  ): Promise<CurrencyBalance[]> {
    return upstream.listBalances(userId, includeEmpty);
  }
}

/** Node's own request and response: what Nest hands a middleware on Express and on Fastify alike. */
@Injectable()
class BearerMiddleware implements NestMiddleware {
  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    if (!bearerMatches(req.headers.authorization, secret)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"message":"unauthorized"}]}');
      return;
    }
    next();
  }
}

@Module({
  imports: [
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      path: '/graphql',
      autoSchemaFile: true,
      playground: false,
    }),
  ],
  providers: [BalancesResolver],
})
class MinimalModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(BearerMiddleware).forRoutes('graphql');
  }
}

async function main(): Promise<void> {
  const platform = process.env.MINIMAL_PLATFORM ?? 'express';
  if (platform !== 'express' && platform !== 'fastify') throw new Error(`MINIMAL_PLATFORM must be express or fastify, got ${platform}`);
  const logger: ('error' | 'warn')[] = ['error', 'warn'];
  const app = platform === 'fastify' ? await NestFactory.create(MinimalModule, new FastifyAdapter(), { logger }) : await NestFactory.create(MinimalModule, { logger });
  if (platform === 'express') (app.getHttpAdapter().getInstance() as Application).disable('x-powered-by');
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  const port = ((app.getHttpServer() as Server).address() as AddressInfo).port;
  serveChild(port, {
    close: async () => {
      await app.close();
      upstream.destroy();
    },
  });
}

main().catch((error: unknown) => failStart('The minimal Nest app', error));
