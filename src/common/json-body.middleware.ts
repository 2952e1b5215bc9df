import { Injectable, NestMiddleware } from '@nestjs/common';
import { json, NextFunction, Request, Response } from 'express';
import { Metrics } from '../metrics/metrics';
import { Errors, GatewayError } from './errors';
import { refuseRequest } from './http-error-response';

/** The largest GraphQL request body accepted; a real operation with its variables is a few KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

const parse = json({ limit: MAX_BODY_BYTES, strict: true });

/** JSON bodies for /graphql, bounded, with parse failures answered in the catalogue's shape. */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  constructor(private readonly metrics: Metrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    parse(req, res, (error?: unknown) => {
      if (!error) return next();
      const refused = refusal((error as { type?: string }).type);
      if (refused.code === 'payload_too_large') res.setHeader('Connection', 'close');
      refuseRequest(res, refused, this.metrics);
    });
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
