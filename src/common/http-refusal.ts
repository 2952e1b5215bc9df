import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, type ErrorCode, type GatewayError } from './errors';

/** Where refusals are counted by code: Metrics.requestsRefused (named by shape, so common/ stays below metrics/). */
export interface RefusalCounter {
  inc(labels: { code: string }): void;
}

export const REFUSAL_COUNTER = Symbol('RefusalCounter');

/** Refusals that leave the request's body unread (or the instance going away): the connection closes with the answer. */
const CLOSES_CONNECTION = new Set<ErrorCode>(['payload_too_large', 'request_timeout', 'shutting_down']);

/**
 * Sockets a refusal is closing. Node may already have parsed a request pipelined behind the refused one;
 * its answer could never be delivered, so it must not run either (see onClosingConnection).
 */
const closing = new WeakSet<object>();

/** Whether `request` came on a connection that a refusal is closing. */
export function onClosingConnection(request: FastifyRequest): boolean {
  return closing.has(request.raw.socket);
}

/**
 * Answers an HTTP request that GraphQL never ran for (authentication, body, shutdown, malformed request):
 * counted by code, in the catalogue's shape with the request id, through Fastify's reply.
 */
export function sendRefusal(request: FastifyRequest, reply: FastifyReply, error: GatewayError, refused: RefusalCounter): void {
  refused.inc({ code: error.code });
  if (error.code === 'missing_bearer') reply.header('www-authenticate', 'Bearer realm="credits-admin"');
  const retryAfter = error.details.retryAfterSeconds;
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  if (CLOSES_CONNECTION.has(error.code)) {
    reply.header('connection', 'close');
    closing.add(request.raw.socket);
  }
  void reply.code(error.status).type('application/json; charset=utf-8').send(errorBody(error, request.id));
}
