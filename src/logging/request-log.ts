import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Options } from 'pino-http';
import { requestTraceFields } from '../tracing';

/** Probes: answered many times a minute, never logged. */
const UNLOGGED_PATHS = new Set(['/healthz', '/readyz']);

/** The path without its query string: a GET's may carry a GraphQL document and its variables. */
function pathOf(req: IncomingMessage & { originalUrl?: string }): string {
  return (req.originalUrl ?? req.url ?? '/').split('?')[0];
}

/**
 * pino-http's options for the one line each request writes when it ends (`request completed`, `request
 * aborted`, `request errored` for a 5xx), all at `info`, with `trace_id` and `span_id` when traced: the id Fastify's genReqId gave it (middie copies it
 * to `req.id`, which pino-http keeps), method, path, status and duration; no headers.
 */
export function requestLogOptions(logger: Logger, traced = false): Options {
  return {
    // The request's server span: the line is written once the answer has gone, outside that span.
    ...(traced
      ? { customSuccessObject: withTrace, customErrorObject: (req: IncomingMessage, _res: ServerResponse, _error: Error, value: object) => withTrace(req, _res, value) }
      : {}),
    logger,
    customAttributeKeys: { reqId: 'requestId' },
    quietReqLogger: true,
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage) => ({ id: req.id, method: req.method, url: pathOf(req) }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    autoLogging: { ignore: (req) => UNLOGGED_PATHS.has(pathOf(req)) },
    customLogLevel: () => 'info',
  };
}

function withTrace(req: IncomingMessage, _res: ServerResponse, value: object): object {
  return { ...requestTraceFields(req), ...value };
}
