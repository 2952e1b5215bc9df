import type { IncomingMessage, ServerResponse } from 'node:http';
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
export function refuseRequest(res: ServerResponse<IncomingMessage>, error: GatewayError, refused: RefusalCounter): void {
  refused.inc({ code: error.code });
  if (error.code === 'missing_bearer') res.setHeader('WWW-Authenticate', 'Bearer realm="credits-admin"');
  const retryAfter = error.details.retryAfterSeconds;
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  // A body still arriving (refused before it was read) would hold the connection until it ends: closed instead.
  if (!res.req.complete) res.setHeader('Connection', 'close');
  const body = errorBody(error, requestIdOf(res.req));
  res.statusCode = error.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
