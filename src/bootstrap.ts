import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { ClientErrorResponder } from './common/client-error-response';
import { Errors } from './common/errors';
import { MAX_BODY_BYTES } from './common/gateway-error.filter';
import { genRequestId } from './common/request-id';
import { trustFunction, type AppConfig } from './config/app-config';
import { Lifecycle } from './lifecycle/lifecycle';
import { Metrics } from './metrics/metrics';
import { traceRequests } from './tracing';

/** Each adapter's clientError answerer, until configureApp hands it the app's refusal counter. */
const clientErrorResponders = new WeakMap<object, ClientErrorResponder>();

/** Fastify's own body parsers (JSON, text) stay; Nest's would only replace them with the same JSON parser. */
export const APP_OPTIONS: NestApplicationOptions = { bufferLogs: true, bodyParser: false };

/**
 * Fastify through Nest's adapter (docs/decisions.md, "Fastify, not Express" and "The /graphql request path").
 * Node's connection timeouts replace Fastify's defaults, which never bound a whole request; a closing app
 * still answers `shutting_down` rather than Fastify's own 503; and a request Node's parser refuses gets the
 * catalogue's error with a request id (ClientErrorResponder), not Fastify's bare "Client Error".
 */
export function httpAdapter(config: Pick<AppConfig, 'trustProxy' | 'requestBodyTimeoutMs'>): FastifyAdapter {
  const clientErrors = new ClientErrorResponder();
  const adapter = new FastifyAdapter({
    return503OnClosing: false,
    keepAliveTimeout: 5_000,
    requestTimeout: 300_000,
    bodyLimit: MAX_BODY_BYTES,
    genReqId: genRequestId,
    trustProxy: config.trustProxy === false || config.trustProxy === 0 ? false : trustFunction(config.trustProxy),
    clientErrorHandler: clientErrors.handle,
    frameworkErrors: clientErrors.frameworkError,
  });
  const fastify = adapter.getInstance();
  // Before any hook or route, so that every request's hooks and handler run inside its server span.
  traceRequests(fastify);
  clientErrorResponders.set(fastify, clientErrors);
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  bodyDeadline(fastify, config.requestBodyTimeoutMs);
  return adapter;
}

/**
 * A request body must arrive in full within `timeoutMs` of Fastify starting to read it: answered 408
 * `request_timeout` and its connection closed otherwise. Node's `requestTimeout` is checked only every 30 s
 * and answers from outside Fastify; a Node timer per request with a body is precise and goes through the
 * same error handler as every refusal.
 */
function bodyDeadline(fastify: FastifyInstance, timeoutMs: number): void {
  const timers = new WeakMap<object, NodeJS.Timeout>();
  const stop = (request: object) => {
    clearTimeout(timers.get(request));
    timers.delete(request);
  };
  fastify.addHook('preParsing', (request, reply, payload, done) => {
    const { headers } = request;
    if (headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0')) {
      const timer = setTimeout(() => {
        timers.delete(request);
        if (!reply.sent) reply.send(Errors.requestTimeout(timeoutMs));
      }, timeoutMs);
      timer.unref();
      timers.set(request, timer);
    }
    done(null, payload);
  });
  // Parsed (or refused): the deadline is for the body alone, never for running the operation.
  fastify.addHook('preValidation', (request, _reply, done) => {
    stop(request);
    done();
  });
  fastify.addHook('onResponse', (request, _reply, done) => {
    stop(request);
    done();
  });
}

/** The app as production runs it; tests build theirs from AppModule and pass it through configureApp. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), httpAdapter(config), APP_OPTIONS);
  return configureApp(app);
}

/** What can only be set on the app instance: its logger and the platform's hooks. Pipe and filters are AppModule's. */
export function configureApp<T extends INestApplication>(app: T): T {
  app.useLogger(app.get(Logger));
  const fastifyApp = app as unknown as NestFastifyApplication;
  const fastify = fastifyApp.getHttpAdapter().getInstance();
  const lifecycle = app.get(Lifecycle);
  const server = fastifyApp.getHttpServer();
  clientErrorResponders.get(fastify)?.attach(server, app.get(Metrics).requestsRefused);
  // Once shutdown has begun, a connection is closed as soon as its last answer is sent (Node knows when
  // none is pending, a pipelined one included), so the server's close is not left waiting on kept-alive
  // sockets (Apollo's Fastify drain waits 10 s for them).
  fastify.addHook('onResponse', (_request, _reply, done) => {
    if (lifecycle.draining) setImmediate(() => server.closeIdleConnections());
    done();
  });
  return app;
}
