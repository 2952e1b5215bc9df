import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../common/errors';
import { refuseRequest } from '../common/http-error-response';
import { Metrics } from '../metrics/metrics';
import { AdminAuthenticator, AdminPrincipal } from './admin-authenticator';

export interface AuthenticatedRequest extends Request {
  principal?: AdminPrincipal;
}

const GRAPHQL_RESPONSE_TYPES = ['application/json', 'application/graphql-response+json', 'multipart/mixed', 'text/html'];

/**
 * Authenticates `/graphql` before Apollo parses or validates anything, so an unauthenticated caller
 * learns nothing about the schema: not through introspection, not through "Did you mean" hints.
 * The one exception is a browser asking for the Apollo Sandbox page, which executes nothing.
 */
@Injectable()
export class AdminAuthMiddleware implements NestMiddleware {
  constructor(
    private readonly authenticator: AdminAuthenticator,
    private readonly metrics: Metrics,
  ) {}

  use(req: AuthenticatedRequest, res: Response, next: NextFunction): void {
    if (wantsLandingPage(req)) return next();
    try {
      req.principal = this.authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      if (!(error instanceof GatewayError)) return next(error);
      return refuseRequest(res, error, this.metrics);
    }
    next();
  }
}

function wantsLandingPage(req: Request): boolean {
  return req.method === 'GET' && !!req.headers.accept && req.accepts(GRAPHQL_RESPONSE_TYPES) === 'text/html';
}
