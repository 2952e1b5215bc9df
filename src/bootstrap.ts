import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import { AppModule } from './app.module';
import { ClientErrorResponder } from './common/client-error-response';
import { errorBody, Errors } from './common/errors';
import { requestIdOf } from './common/request-id';
import { Lifecycle } from './lifecycle/lifecycle';
import { Metrics } from './metrics/metrics';
import { withRequestId } from './common/response-request-id';
import type { AppConfig } from './config/app-config';

/** Each adapter's clientError answerer, until configureApp hands it the app's refusal counter. */
const clientErrorResponders = new WeakMap<object, ClientErrorResponder>();

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
 * - Node's own connection timeouts, which the gateway had on Express, not Fastify's (a 72 s keep-alive and no
 *   bound on a whole request): an idle connection is closed after 5 s, a request that has not arrived in
 *   full after 300 s is answered 408 and closed.
 * - A request Node's HTTP parser refuses gets the catalogue's error with a request id (ClientErrorResponder),
 *   not Fastify's bare `{"error":"Bad Request","message":"Client Error"}`.
 */
export function httpAdapter(): FastifyAdapter {
  const clientErrors = new ClientErrorResponder();
  const adapter = new FastifyAdapter({
    return503OnClosing: false,
    keepAliveTimeout: 5_000,
    requestTimeout: 300_000,
    clientErrorHandler: clientErrors.handle,
  });
  const fastify = adapter.getInstance();
  clientErrorResponders.set(fastify, clientErrors);
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
  const fastifyApp = app as unknown as NestFastifyApplication;
  const fastify = fastifyApp.getHttpAdapter().getInstance();
  const lifecycle = app.get(Lifecycle);
  const refused = app.get(Metrics).requestsRefused;
  const server = fastifyApp.getHttpServer();
  clientErrorResponders.get(fastify)?.attach(server, refused);
  const closeIdle = () => setImmediate(() => server.closeIdleConnections());
  fastify.addHook('onSend', (request, reply, payload, done) => {
    // Once shutdown has begun, a connection is closed as soon as its last answer is sent (Node knows when
    // none is pending, a pipelined one included), so the server's close is not left waiting on kept-alive
    // sockets (Apollo's Fastify drain waits 10 s for them).
    if (lifecycle.draining) reply.raw.once('finish', closeIdle);
    const id = requestIdOf(request.raw);
    // Fastify's own 415, its one answer of that status here: a Content-Type that is not a media type
    // (`application/json, text/plain`), refused before any handler. A malformed request like any other:
    // the catalogue's 400 (Express let it reach Apollo, which answered that too).
    if (reply.statusCode === 415) {
      const error = Errors.badRequest('the Content-Type header is not a valid media type');
      refused.inc({ code: error.code });
      reply.code(error.status);
      return done(null, errorBody(error, id));
    }
    // Every error body carries the request id, Apollo's own included.
    done(null, typeof payload === 'string' && id !== undefined ? withRequestId(payload, reply.statusCode, id) : payload);
  });
  return app;
}
