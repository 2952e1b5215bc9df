import type { Response } from 'express';
import { errorBody, type GatewayError } from './errors';
import { requestIdOf } from './request-id';

/** Where refusals are counted by code: Metrics.requestsRefused (named by shape, so common/ stays below metrics/). */
export interface RefusalCounter {
  inc(labels: { code: string }): void;
}

/**
 * Refuses a request before GraphQL runs (shutdown, auth, body): counted by code, and answered with a
 * GraphQL-shaped error body carrying the request id like every other error.
 */
export function refuseRequest(res: Response, error: GatewayError, refused: RefusalCounter): void {
  refused.inc({ code: error.code });
  if (error.code === 'missing_bearer') res.setHeader('WWW-Authenticate', 'Bearer realm="credits-admin"');
  const retryAfter = error.details.retryAfterSeconds;
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  res
    .status(error.status)
    .type('application/json')
    .send(errorBody(error, requestIdOf(res.req)));
}
