import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** What an incoming `x-request-id` may be to be used as the request's id: a short token, nothing to inject into logs. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's `genReqId`: the caller's own `x-request-id` when it is a sane token (a support ticket can then
 * quote the id the caller logged), otherwise a fresh UUID. The header is spoofable, so it is only ever an
 * id to quote, never trusted for anything else. Fastify's `requestIdHeader` would take any value as is.
 */
export function genRequestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** A request's id (Fastify's `request.id`, echoed in `x-request-id`); undefined for anything else. */
export function requestIdOf(req: unknown): string | undefined {
  const id = (req as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}
