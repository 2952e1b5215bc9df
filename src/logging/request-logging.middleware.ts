import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { PARAMS_PROVIDER_TOKEN, type Params } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Probes: answered many times a minute, never logged. */
const UNLOGGED_PATHS = new Set(['/healthz', '/readyz']);

/** A caller's own request id when it is a sane token, otherwise a fresh one; echoed in `x-request-id`. */
export function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

/**
 * Every request, first thing: its id (`req.id`, the `x-request-id` header; error bodies get it in
 * response-request-id.ts, and the lines written for a request pass it explicitly), and, when the level
 * logs `info`, one line when it ends:
 * `request completed` (`request aborted` if the caller hung up first, `request errored` for a 5xx) with
 * the request (id, method, path: a GET's query string may carry a whole document and its variables),
 * the status and the time it took. What pino-http did, without the two child loggers and the
 * serialized request it made for every request whatever the level.
 */
@Injectable()
export class RequestLoggingMiddleware implements NestMiddleware {
  private readonly root: Logger;
  private readonly logsRequests: boolean;

  constructor(@Inject(PARAMS_PROVIDER_TOKEN) params: Params) {
    // LoggingModule hands nestjs-pino its one pino logger as `pinoHttp.logger`.
    const { logger } = params.pinoHttp as PinoHttpOptions;
    if (!logger) throw new Error('RequestLoggingMiddleware needs the pino logger given to nestjs-pino as pinoHttp.logger');
    this.root = logger;
    this.logsRequests = this.root.isLevelEnabled('info');
  }

  use(req: IncomingMessage & { id?: string; originalUrl?: string }, res: ServerResponse, next: () => void): void {
    const requestId = requestIdFor(req, res);
    req.id = requestId;
    if (this.logsRequests) {
      const path = (req.originalUrl ?? req.url ?? '/').split('?')[0];
      if (!UNLOGGED_PATHS.has(path)) this.logWhenDone(req, res, requestId, path);
    }
    next();
  }

  private logWhenDone(req: IncomingMessage, res: ServerResponse, requestId: string, path: string): void {
    const startedAt = Date.now();
    res.once('close', () => {
      const fields = {
        requestId,
        req: { id: requestId, method: req.method, url: path },
        res: { statusCode: res.statusCode },
        responseTime: Date.now() - startedAt,
      };
      if (res.statusCode >= 500) {
        this.root.info({ ...fields, err: new Error(`failed with status code ${res.statusCode}`) }, 'request errored');
      } else {
        this.root.info(fields, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
      }
    });
  }
}
