import { requestIdOf } from './request-id';

/**
 * DESIGN "Operations": every response that carries an error has `extensions.requestId`, also those Apollo
 * answers by itself (a batch, an empty body, malformed variables, a missing CSRF header), which it formats
 * before any context, plugin or resolver sees the request. The one place every answer passes through is
 * Express's `res.send`, so each error body gets its id there: an error status, or a body holding a
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

interface SendingResponse {
  statusCode: number;
  req?: unknown;
  send(body?: unknown): unknown;
}

/**
 * Makes every response of an Express app run its body through withRequestId (for requests that have an
 * id: RequestLoggingMiddleware gives every request one). `response` is the app's own response prototype
 * (`app.response`), so other apps in the process are untouched.
 */
export function stampRequestIds(response: SendingResponse): void {
  const send = response.send;
  response.send = function (this: SendingResponse, body?: unknown) {
    const id = requestIdOf(this.req);
    return send.call(this, typeof body === 'string' && typeof id === 'string' ? withRequestId(body, this.statusCode, id) : body);
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
