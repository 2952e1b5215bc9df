import type { Response } from 'express';
import type { GatewayError } from './errors';

/**
 * A GraphQL-shaped error body for failures caught before GraphQL runs (auth, body parsing, limits),
 * carrying the request id like every other error.
 */
export function sendGatewayError(res: Response, error: GatewayError): void {
  if (error.code === 'missing_bearer') res.setHeader('WWW-Authenticate', 'Bearer realm="credits-admin"');
  const retryAfter = error.details.retryAfterSeconds;
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  res
    .status(error.status)
    .type('application/json')
    .send(JSON.stringify({ errors: [{ message: error.message, extensions: withRequestId(error.extensions, res.req) }] }));
}

export function withRequestId(extensions: Record<string, unknown> | undefined, req: unknown): Record<string, unknown> {
  const id = (req as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? { ...extensions, requestId: id } : { ...extensions };
}
