import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { PARAMS_PROVIDER_TOKEN, type Params } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';

/** Probes: answered many times a minute, never logged. */
const UNLOGGED_PATHS = new Set(['/healthz', '/readyz']);

/**
 * One line per request when it ends, at `info` (`request completed`, `request aborted` if the caller hung
 * up, `request errored` for a 5xx): the id genReqId gave it (middie copies it to `req.id`), method, path
 * without the query string (a GET's may carry a document and its variables), status and duration. Written
 * here rather than through pino-http, which builds two child loggers and a serialized request per request.
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
    const requestId = req.id ?? '';
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
