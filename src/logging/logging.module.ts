import { Global, Inject, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { LoggerModule, PARAMS_PROVIDER_TOKEN, type Params } from 'nestjs-pino';
import pino from 'pino';
import { pinoHttp, type Options as PinoHttpOptions } from 'pino-http';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { traceFields, tracingStarted } from '../tracing';
import { requestLogOptions } from './request-log';

/** Everything that could carry a credential, wherever it appears in a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'authorization',
  'connectionParams',
  '*.authorization',
  '*.connectionParams',
];

/**
 * nestjs-pino's Logger for the whole app, over one pino logger made here, and pino-http on every route
 * for the request log line (request-log.ts). nestjs-pino's own request middleware is off (`useExisting`,
 * no routes): it would bind each request's logger in an AsyncLocalStorage, which on Node 20 taxes every
 * promise of every request (docs/decisions.md, "The request log line"). Global, as nestjs-pino's module
 * is: Nest mounts the middleware of global modules before any other's.
 */
@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: requestLogOptions(
          pino({
            level: config.logLevel,
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            // trace_id and span_id of the span active where a line is written; no mixin at all when tracing is off.
            ...(tracingStarted() ? { mixin: traceFields } : {}),
          }),
          tracingStarted(),
        ),
        useExisting: true,
        forRoutes: [],
      }),
    }),
  ],
})
export class LoggingModule implements NestModule {
  constructor(@Inject(PARAMS_PROVIDER_TOKEN) private readonly params: Params) {}

  configure(consumer: MiddlewareConsumer): void {
    const options = this.params.pinoHttp as PinoHttpOptions;
    // Below `info` (LOG_LEVEL=warn) no request line is written, so pino-http's per-request work is skipped.
    if (options.logger?.isLevelEnabled('info')) consumer.apply(pinoHttp(options)).forRoutes('*path');
  }
}
