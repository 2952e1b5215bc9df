import type { Response } from 'express';
import type { GatewayError } from './errors';

/** A GraphQL-shaped error body for failures caught before GraphQL runs (auth, body parsing, limits). */
export function sendGatewayError(res: Response, error: GatewayError): void {
  if (error.code === 'missing_bearer') res.setHeader('WWW-Authenticate', 'Bearer realm="credits-admin"');
  const retryAfter = error.details.retryAfterSeconds;
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  res
    .status(error.status)
    .type('application/json')
    .send(JSON.stringify({ errors: [{ message: error.message, extensions: error.extensions }] }));
}
