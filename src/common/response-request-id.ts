import { requestIdOf } from './request-id';

/**
 * DESIGN "Operations": every response that carries an error has `extensions.requestId`, also those Apollo
 * answers by itself (a batch, an empty body, malformed variables, a missing CSRF header), which it formats
 * before any context, plugin or resolver sees the request. The one place every answer passes through is
 * Fastify's `onSend` hook (src/bootstrap.ts), so each error body gets its id there: an error status, or a body holding a
 * top-level `errors` list (a partial success, or a field alias named `errors`, which is parsed and left
 * alone). Answers without errors are only looked at, never parsed.
 *
 * This replaces an AsyncLocalStorage that carried the id from the first middleware to Apollo's error
 * formatter: on Node 20 a storage is propagated by a hook on every promise and async resource, which cost
 * every request about a tenth of its CPU.
 */
export function withRequestId(body: string, statusCode: number, requestId: string): string {
  if (statusCode < 400 && !body.includes('"errors":[')) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.errors)) return body;
  let stamped = false;
  for (const error of parsed.errors) {
    if (!isRecord(error)) continue;
    if (!isRecord(error.extensions)) error.extensions = {};
    const extensions = error.extensions as Record<string, unknown>;
    if (extensions.requestId !== undefined) continue;
    extensions.requestId = requestId;
    stamped = true;
  }
  return stamped ? JSON.stringify(parsed) : body;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
