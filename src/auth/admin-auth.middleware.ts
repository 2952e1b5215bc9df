import { Injectable, NestMiddleware } from '@nestjs/common';
import accepts from 'accepts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../common/errors';
import { refuseRequest } from '../common/http-error-response';
import { Metrics } from '../metrics/metrics';
import { AdminAuthenticator, type AdminPrincipal } from './admin-authenticator';

type Response = ServerResponse<IncomingMessage>;
type NextFunction = (error?: unknown) => void;

export interface AuthenticatedRequest extends IncomingMessage {
  principal?: AdminPrincipal;
}

/**
 * Authenticates `/graphql` before Apollo parses or validates anything, so an unauthenticated caller
 * learns nothing about the schema: not through introspection, not through "Did you mean" hints.
 * The one exception is the Apollo Sandbox page (see isLandingPageRequest), which executes nothing.
 */
@Injectable()
export class AdminAuthMiddleware implements NestMiddleware {
  constructor(
    private readonly authenticator: AdminAuthenticator,
    private readonly metrics: Metrics,
  ) {}

  use(req: AuthenticatedRequest, res: Response, next: NextFunction): void {
    if (isLandingPageRequest(req)) return next();
    let principal: AdminPrincipal | Promise<AdminPrincipal>;
    try {
      principal = this.authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      return this.refuse(res, next, error);
    }
    // The root secrets are answered at once; an operator token is a cached lookup.
    if (!(principal instanceof Promise)) {
      req.principal = principal;
      return next();
    }
    principal
      .then(
        (operator) => {
          req.principal = operator;
          next();
        },
        (error: unknown) => this.refuse(res, next, error),
      )
      // Past this await, whatever the rest of the chain throws at once lands here and not in an unhandled
      // rejection (which ends the process): handed on as a middleware's own throw is.
      .catch(next);
  }

  private refuse(res: Response, next: NextFunction, error: unknown): void {
    if (!(error instanceof GatewayError)) return next(error);
    refuseRequest(res, error, this.metrics.requestsRefused);
  }
}

/**
 * Apollo's own media types, in the order its `prefersHTML` negotiates them (ApolloServer.ts, Apollo
 * Server 5); `accepts` (Express's `req.accepts`) runs the same `negotiator` over them, so both sides agree on "prefers HTML".
 */
const APOLLO_NEGOTIATED_TYPES = [
  'application/json; charset=utf-8',
  'application/graphql-response+json; charset=utf-8',
  'multipart/mixed; deferSpec=20220824',
  'multipart/mixed; incrementalSpec=v0.2',
  'multipart/mixed',
  'text/html',
];

/** What carries an operation over GET (Apollo reads these from the query string; `extensions` holds a persisted query). */
const OPERATION_PARAMETERS = ['query', 'extensions', 'variables', 'operationName'];

/**
 * The one place that decides "page or operation": the page is a GET carrying no operation parameter
 * that prefers HTML the way Apollo negotiates it. Everything else is an operation and authenticates.
 * Requiring no operation parameter keeps this safe whatever Apollo's negotiation does: a request let
 * through as a page has nothing Apollo could execute.
 */
export function isLandingPageRequest(req: IncomingMessage): boolean {
  if (req.method !== 'GET' || !req.headers.accept) return false;
  const url = req.url ?? '';
  const queryStart = url.indexOf('?');
  if (queryStart >= 0) {
    // Everything after '?', fragment included: reading more than Apollo does can only make this stricter.
    const parameters = new URLSearchParams(url.slice(queryStart + 1));
    if (OPERATION_PARAMETERS.some((name) => parameters.has(name))) return false;
  }
  return accepts(req).type(APOLLO_NEGOTIATED_TYPES) === 'text/html';
}
