import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import { AppModule } from './app.module';
import { requestIdOf } from './common/request-id';
import { withRequestId } from './common/response-request-id';
import type { AppConfig } from './config/app-config';

/** Nest's own body parsers are off: /graphql reads its body itself, bounded, after authentication. */
export const APP_OPTIONS: NestApplicationOptions = { bufferLogs: true, bodyParser: false };

/**
 * The HTTP platform: Fastify, through Nest's adapter (it was Express; BENCHMARKS.md, issue 15, has why).
 * - Routes are exact: `/graphql` is Apollo's route and nothing under it is. (Express mounted Apollo on every
 *   path below `/graphql` while the authentication gate matched `/graphql` alone, so
 *   `GET /graphql/x?query={__schema{...}}` answered the schema to anyone.)
 * - Fastify parses no body: GraphqlGateMiddleware has read and parsed /graphql's before Fastify's body
 *   stage, after authentication, with the gateway's own limit, deadline and error codes; Fastify's one
 *   parser hands that on (`undefined` anywhere else).
 * - The client address behind a trusted proxy is the gateway's own `TRUST_PROXY` function's (see
 *   trustFunction), not Fastify's `request.ip`.
 * - While the app closes, requests still get the drain gate's `shutting_down` answer, not Fastify's own 503.
 */
export function httpAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter({ return503OnClosing: false });
  const fastify = adapter.getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (request, _payload, done) => done(null, (request.raw as IncomingMessage & { body?: unknown }).body));
  return adapter;
}

/** The app as production runs it; tests build theirs from AppModule and pass it through configureApp. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), httpAdapter(), APP_OPTIONS);
  return configureApp(app);
}

/** What can only be set on the app instance: its logger and the platform's hooks. Pipe and filter are AppModule's. */
export function configureApp<T extends INestApplication>(app: T): T {
  app.useLogger(app.get(Logger));
  const fastify = (app as unknown as NestFastifyApplication).getHttpAdapter().getInstance();
  // Every error body carries the request id, Apollo's own included.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const id = requestIdOf(request.raw);
    done(null, typeof payload === 'string' && id !== undefined ? withRequestId(payload, reply.statusCode, id) : payload);
  });
  return app;
}
