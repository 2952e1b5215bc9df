/**
 * The request id into an error body Apollo answered by itself (a batch, an empty query, malformed GET
 * variables, a missing CSRF header): Apollo formats those with no request or context at hand, so
 * GraphqlHttpGate adds the id as the body is sent. Only error statuses from /graphql without an id come here.
 */
export function withRequestId(body: string, requestId: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.errors)) return body;
  for (const error of parsed.errors) {
    if (!isRecord(error)) continue;
    if (!isRecord(error.extensions)) error.extensions = {};
    (error.extensions as Record<string, unknown>).requestId ??= requestId;
  }
  return JSON.stringify(parsed);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
