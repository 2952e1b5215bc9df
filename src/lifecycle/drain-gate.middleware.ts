import { Injectable, NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Errors } from '../common/errors';
import { refuseRequest } from '../common/http-error-response';
import { Metrics } from '../metrics/metrics';
import { Lifecycle } from './lifecycle';

/** While shutting down, new GraphQL requests are refused (503, retry elsewhere); the connection closes. */
@Injectable()
export class DrainGateMiddleware implements NestMiddleware {
  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly metrics: Metrics,
  ) {}

  use(req: IncomingMessage, res: ServerResponse<IncomingMessage>, next: (error?: unknown) => void): void {
    if (!this.lifecycle.draining) return next();
    refuseRequest(res, Errors.shuttingDown(), this.metrics.requestsRefused, { close: true });
  }
}
