import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Errors, GatewayError } from '../common/errors';
import { Metrics } from '../metrics/metrics';
import { sendGatewayError } from '../common/http-error-response';
import { Lifecycle } from './lifecycle';

/** While shutting down, new GraphQL requests are refused (503, retry elsewhere); the connection closes. */
@Injectable()
export class DrainGateMiddleware implements NestMiddleware {
  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly metrics: Metrics,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    if (!this.lifecycle.draining) return next();
    res.setHeader('Connection', 'close');
    this.refuse(res, Errors.shuttingDown());
  }

  private refuse(res: Response, error: GatewayError): void {
    this.metrics.requestsRefused.inc({ code: error.code });
    sendGatewayError(res, error);
  }
}
