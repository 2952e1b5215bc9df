import { Injectable, NestMiddleware } from '@nestjs/common';
import { json, NextFunction, Request, Response } from 'express';
import { Errors } from './errors';
import { sendGatewayError } from './http-error-response';

/** The largest GraphQL request body accepted; a real operation with its variables is a few KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

const parse = json({ limit: MAX_BODY_BYTES, strict: true });

/** JSON bodies for /graphql, bounded, with parse failures answered in the catalogue's shape. */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    parse(req, res, (error?: unknown) => {
      if (!error) return next();
      const type = (error as { type?: string }).type;
      if (type === 'entity.too.large') {
        res.setHeader('Connection', 'close');
        return sendGatewayError(res, Errors.payloadTooLarge(MAX_BODY_BYTES));
      }
      if (type === 'entity.parse.failed') return sendGatewayError(res, Errors.badRequest('the body is not valid JSON'));
      if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
        return sendGatewayError(res, Errors.badRequest('unsupported body encoding or charset'));
      }
      return sendGatewayError(res, Errors.badRequest('the body could not be read'));
    });
  }
}
