import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Deadlines } from '../common/deadlines';
import { Errors, GatewayError } from '../common/errors';
import { refuseRequest } from '../common/http-error-response';
import { Metrics } from '../metrics/metrics';
import { jsonBodyReader } from './json-body-reader';

/** The largest GraphQL request body accepted; a real operation with its variables is a few KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

const parse = jsonBodyReader(MAX_BODY_BYTES);

/**
 * JSON bodies for /graphql, bounded in size and in time, with failures answered in the catalogue's shape.
 * A slow or oversized body is refused without reading the rest of it, and its connection closed: Node
 * only gives up on a request after minutes, and body-parser reads an oversized body to its end before
 * answering.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly deadlines: Deadlines;

  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.deadlines = new Deadlines(config.requestBodyTimeoutMs);
  }

  use(req: IncomingMessage, res: ServerResponse<IncomingMessage>, next: (error?: unknown) => void): void {
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
      this.refuseAndClose(res, Errors.payloadTooLarge(MAX_BODY_BYTES));
      return;
    }
    let settled = false;
    this.deadlines.set(req, () => {
      settled = true;
      this.refuseAndClose(res, Errors.requestTimeout(this.config.requestBodyTimeoutMs));
    });
    parse(req, res, (error) => {
      // After a timeout, the body reader still reports the connection it lost: already answered.
      if (settled) return;
      settled = true;
      this.deadlines.clear(req);
      if (!error) return next();
      const refused = refusal(error.type);
      if (refused.code === 'payload_too_large') this.refuseAndClose(res, refused);
      else refuseRequest(res, refused, this.metrics.requestsRefused);
    });
  }

  /** The body is left unread: the connection is closed with the answer. */
  private refuseAndClose(res: ServerResponse<IncomingMessage>, error: GatewayError): void {
    refuseRequest(res, error, this.metrics.requestsRefused, { close: true });
  }
}

function refusal(type: string | undefined): GatewayError {
  switch (type) {
    case 'entity.too.large':
      return Errors.payloadTooLarge(MAX_BODY_BYTES);
    case 'entity.parse.failed':
      return Errors.badRequest('the body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return Errors.badRequest('unsupported body encoding or charset');
    default:
      return Errors.badRequest('the body could not be read');
  }
}
