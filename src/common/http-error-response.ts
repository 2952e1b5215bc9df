import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, type GatewayError } from './errors';
import { requestIdOf } from './request-id';

/** Where refusals are counted by code: Metrics.requestsRefused (named by shape, so common/ stays below metrics/). */
export interface RefusalCounter {
  inc(labels: { code: string }): void;
}

/**
 * Connections a refusal is closing (`close`: its answer carries `Connection: close`). Node may already have parsed and
 * dispatched a request pipelined behind the refused one; its answer could never be delivered, so it must not
 * run either: GraphqlGateMiddleware refuses it first.
 */
const closing = new WeakSet<object>();

/** Whether `req` came on a connection that a refusal is closing. */
export function onClosingConnection(req: IncomingMessage): boolean {
  return closing.has(req.socket);
}

/**
 * Refuses a request before GraphQL runs (shutdown, auth, body): counted by code, and answered with a
 * GraphQL-shaped error body carrying the request id like every other error. With `close`, Node ends the
 * connection once the answer is written, unread body and all, and nothing pipelined behind it runs.
 */
export function refuseRequest(res: ServerResponse<IncomingMessage>, error: GatewayError, refused: RefusalCounter, { close = false } = {}): void {
  refused.inc({ code: error.code });
  if (error.code === 'missing_bearer') res.setHeader('WWW-Authenticate', 'Bearer realm="credits-admin"');
  const retryAfter = error.details.retryAfterSeconds;
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  if (close) {
    res.setHeader('Connection', 'close');
    closing.add(res.req.socket);
  }
  const body = errorBody(error, requestIdOf(res.req));
  res.statusCode = error.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
