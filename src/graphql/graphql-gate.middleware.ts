import { Injectable, NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminAuthMiddleware } from '../auth/admin-auth.middleware';
import { DrainGateMiddleware } from '../lifecycle/drain-gate.middleware';
import { JsonBodyMiddleware } from './json-body.middleware';

/**
 * What every /graphql request goes through before Apollo, in this order: refused while shutting down,
 * authenticated before its body is read, its body read within bounds. One middleware for Nest to mount
 * rather than three: Nest wraps each middleware it mounts in a route of its own and a per-request
 * WeakSet entry, which cost more than the drain check itself.
 */
@Injectable()
export class GraphqlGateMiddleware implements NestMiddleware {
  constructor(
    private readonly drainGate: DrainGateMiddleware,
    private readonly auth: AdminAuthMiddleware,
    private readonly body: JsonBodyMiddleware,
  ) {}

  use(req: IncomingMessage, res: ServerResponse<IncomingMessage>, next: (error?: unknown) => void): void {
    this.drainGate.use(req, res, (error?: unknown) => {
      if (error) return next(error);
      this.auth.use(req, res, (error?: unknown) => {
        if (error) return next(error);
        this.body.use(req, res, next);
      });
    });
  }
}
