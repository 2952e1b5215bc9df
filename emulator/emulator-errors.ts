/** Short enough that client retries stay fast in tests, long enough to be visible. */
export const DEFAULT_BACKOFF_MS = 100;

export interface EmulatorAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
  replayed?: boolean;
}

/** An answer not computed yet; `abandon()` gives up what it reserved when a fault answers instead. */
export interface PendingAnswer {
  answer(): EmulatorAnswer;
  abandon(): void;
}

export interface ErrorDetails {
  param?: string;
  retryable?: boolean;
  backoffMs?: number;
  headers?: Record<string, string>;
}

export function errorAnswer(status: number, type: string, message: string, details: ErrorDetails = {}): EmulatorAnswer {
  const retryable = details.retryable ?? false;
  const body: Record<string, unknown> = {
    object: 'error',
    type,
    message,
    retryable,
    doc_url: `https://errors.rev.cat/${type.replace(/_/g, '-')}`,
  };
  if (details.param !== undefined) body.param = details.param;
  if (retryable) body.backoff_ms = details.backoffMs ?? DEFAULT_BACKOFF_MS;
  return { status, body: JSON.stringify(body), headers: details.headers };
}

export function jsonAnswer(status: number, value: unknown): EmulatorAnswer {
  return { status, body: JSON.stringify(value) };
}

export function errorTypeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'parameter_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'authorization_error';
    case 404:
      return 'resource_missing';
    case 409:
      return 'idempotency_error';
    case 422:
      return 'unprocessable_entity_error';
    case 423:
      return 'resource_locked_error';
    case 429:
      return 'rate_limit_error';
    default:
      return status >= 500 ? 'server_error' : 'invalid_request';
  }
}
