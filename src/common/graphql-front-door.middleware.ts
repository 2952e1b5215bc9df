import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AdminAuthMiddleware } from '../auth/admin-auth.middleware';
import { DrainGateMiddleware } from '../lifecycle/drain-gate.middleware';
import { JsonBodyMiddleware } from './json-body.middleware';
import { runInRequestScope } from './request-scope';

/**
 * What every /graphql request goes through before Apollo, in order: refused while shutting down,
 * authenticated before its body is read, its body read within bounds. One router layer instead of
 * three: each layer costs path matching and Nest's wrapping on every request. All of it, Apollo
 * included, runs in the request's scope, so every error it answers carries the request id.
 */
@Injectable()
export class GraphqlFrontDoorMiddleware implements NestMiddleware {
  constructor(
    private readonly drain: DrainGateMiddleware,
    private readonly auth: AdminAuthMiddleware,
    private readonly body: JsonBodyMiddleware,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    runInRequestScope(req.id, () =>
      this.drain.use(req, res, () => this.auth.use(req, res, (error?: unknown) => (error ? next(error) : this.body.use(req, res, next)))),
    );
  }
}
