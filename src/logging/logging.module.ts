import { Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's own request id when it is a sane token, otherwise a fresh one; echoed in `x-request-id`. */
export function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

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

@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          genReqId: requestIdFor,
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          serializers: {
            req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
              id: req.id,
              method: req.method,
              // The path only: a GET query string may carry a whole GraphQL document and variables.
              url: req.url?.split('?')[0],
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          // Lines written while serving a request carry only the id (as requestId); the request itself is
          // on its completion line. Cheaper per request than a child logger carrying the whole request.
          quietReqLogger: true,
          customAttributeKeys: { reqId: 'requestId' },
          autoLogging: { ignore: (req: IncomingMessage) => req.url === '/healthz' || req.url === '/readyz' },
        },
        forRoutes: ['*path'],
      }),
    }),
  ],
})
export class LoggingModule {}
