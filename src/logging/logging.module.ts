import { Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { RequestLoggingMiddleware } from './request-logging.middleware';

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
 * nestjs-pino's Logger for the whole app, over one pino logger made here. Its own per-request middleware
 * (pino-http and the binding of a request logger) is off (`useExisting`, no routes): RequestLoggingMiddleware
 * does that work, for every route. Global, as nestjs-pino's own module is: Nest mounts the middleware
 * of global modules before any other's, and every other middleware needs the request's id and scope.
 */
@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: { logger: pino({ level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }) },
        useExisting: true,
        forRoutes: [],
      }),
    }),
  ],
  providers: [RequestLoggingMiddleware],
})
export class LoggingModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLoggingMiddleware).forRoutes('*path');
  }
}
