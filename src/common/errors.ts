import type { OperatorRole } from './actor';
import { GraphQLError } from 'graphql';

/**
 * Every failure the API can return, in one place. The first six codes are the admin-credits spec's own
 * and must not change; the rest are this gateway's.
 */
export const ERROR_CATALOGUE = {
  amount_must_be_nonzero: { status: 400, message: 'amount_must_be_nonzero: amount must be a non-zero integer' },
  missing_bearer: { status: 401, message: 'missing_bearer: send Authorization: Bearer <admin secret>' },
  invalid_admin_secret: { status: 403, message: 'invalid_admin_secret: the bearer does not match the admin secret' },
  rc_customer_not_found: { status: 404, message: 'rc_customer_not_found: RevenueCat has no customer with that id' },
  rc_call_failed: { status: 502, message: 'rc_call_failed' },
  admin_unconfigured: { status: 503, message: 'admin_unconfigured' },
  forbidden: { status: 403, message: 'forbidden' },
  invalid_argument: { status: 400, message: 'invalid_argument' },
  invalid_query: { status: 400, message: 'invalid_query' },
  bad_request: { status: 400, message: 'bad_request' },
  query_too_deep: { status: 400, message: 'query_too_deep' },
  query_too_complex: { status: 400, message: 'query_too_complex' },
  payload_too_large: { status: 413, message: 'payload_too_large' },
  headers_too_large: { status: 431, message: 'headers_too_large: the request headers are larger than the server accepts' },
  request_timeout: { status: 408, message: 'request_timeout' },
  unknown_currency: { status: 400, message: 'unknown_currency' },
  idempotency_key_in_progress: {
    status: 409,
    message: 'idempotency_key_in_progress: a request with this idempotency key is still being processed; retry shortly',
  },
  idempotency_key_reused: {
    status: 422,
    message: 'idempotency_key_reused: this idempotency key was already used for a different request',
  },
  insufficient_balance: { status: 422, message: 'insufficient_balance: the deduction would take the balance below zero' },
  balance_limit_exceeded: {
    status: 422,
    message: 'balance_limit_exceeded: the grant would take the balance above 2,000,000,000',
  },
  rate_limited: { status: 429, message: 'rate_limited: too many requests; retry after the given number of seconds' },
  internal_error: { status: 500, message: 'internal_error: something went wrong on our side' },
  dependency_unavailable: {
    status: 503,
    message: 'dependency_unavailable: a service this operation needs does not answer; nothing was changed; retry',
  },
  approval_required: {
    status: 403,
    message: 'approval_required: over your limits; nothing was applied; a supervisor can approve the request',
  },
  not_found: { status: 404, message: 'not_found: no such object' },
  already_reversed: { status: 409, message: 'already_reversed: this adjustment has been reversed already' },
  invalid_state: { status: 409, message: 'invalid_state: the object is not in a state that allows this' },
  not_reversible: {
    status: 422,
    message: 'not_reversible: only an APPLIED adjustment that is not itself a reversal can be reversed',
  },
  export_too_large: { status: 422, message: 'export_too_large: the export is larger than one call may return; narrow it with a filter' },
  console_not_built: {
    status: 503,
    message: 'console_not_built: the support console has not been built on this server; run npm run build (or set CONSOLE_DIR)',
  },
  shutting_down: { status: 503, message: 'shutting_down: this instance is shutting down; retry, another instance will answer' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Extensions that are safe to show a caller, besides code and status. */
export type ErrorDetails = {
  field?: string;
  rcType?: string;
  balance?: number;
  retryAfterSeconds?: number;
  currency?: string;
  missing?: string[];
  /** A journal record's: the adjustment this error is about, and its (possibly gateway-assigned) key. */
  adjustmentId?: string;
  idempotencyKey?: string;
  /** `unknown`: RevenueCat may or may not have applied it; retry with the same idempotency key to settle it. */
  outcome?: 'unknown';
  dependency?: string;
  requiredRole?: string;
  approvalRequestId?: string;
  /** approval_required: which of the operator's limits the adjustment is over. */
  limit?: 'maxAdjustment' | 'dailyLimit';
  reversalId?: string;
  /** not_reversible: the status of an adjustment that is not settled yet (it may be reversed once APPLIED). */
  adjustmentStatus?: 'PENDING' | 'UNKNOWN';
};

export class GatewayError extends GraphQLError {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(
    code: ErrorCode,
    message?: string,
    readonly details: ErrorDetails = {},
  ) {
    const entry = ERROR_CATALOGUE[code];
    super(message ?? entry.message, { extensions: { code, status: entry.status, ...details } });
    this.code = code;
    this.status = entry.status;
  }
}

export const Errors = {
  amountMustBeNonzero: () => new GatewayError('amount_must_be_nonzero', undefined, { field: 'amount' }),
  missingBearer: () => new GatewayError('missing_bearer'),
  invalidAdminSecret: () => new GatewayError('invalid_admin_secret'),
  customerNotFound: () => new GatewayError('rc_customer_not_found'),
  rcCallFailed: (rcType: string) => new GatewayError('rc_call_failed', `rc_call_failed: ${rcType}`, { rcType }),
  adminUnconfigured: (missing: string[]) =>
    new GatewayError('admin_unconfigured', `admin_unconfigured: ${missing.join(', ')} not set on the server`, {
      missing,
    }),
  forbidden: (problem: string) => new GatewayError('forbidden', `forbidden: ${problem}`),
  /** The credential's role is too low; `requiredRole` is the lowest role that would be allowed. */
  roleRequired: (requiredRole: OperatorRole, problem = `needs the ${requiredRole} role or above`) => new GatewayError('forbidden', `forbidden: ${problem}`, { requiredRole }),
  invalidArgument: (field: string, problem: string) => new GatewayError('invalid_argument', `invalid_argument: ${field} ${problem}`, { field }),
  invalidQuery: (problem: string) => new GatewayError('invalid_query', `invalid_query: ${problem}`),
  badRequest: (problem: string) => new GatewayError('bad_request', `bad_request: ${problem}`),
  queryTooDeep: (problem: string) => new GatewayError('query_too_deep', `query_too_deep: ${problem}`),
  queryTooComplex: (problem: string) => new GatewayError('query_too_complex', `query_too_complex: ${problem}`),
  payloadTooLarge: (maxBytes: number) => new GatewayError('payload_too_large', `payload_too_large: the request body is larger than ${maxBytes} bytes`),
  headersTooLarge: () => new GatewayError('headers_too_large'),
  requestTimeout: (timeoutMs: number) => new GatewayError('request_timeout', `request_timeout: the request body did not arrive within ${timeoutMs / 1000} s`),
  unknownCurrency: (currency: string) =>
    new GatewayError('unknown_currency', `unknown_currency: ${currency} is not configured in the project`, {
      field: 'currency',
      currency,
    }),
  idempotencyKeyInProgress: () => new GatewayError('idempotency_key_in_progress'),
  idempotencyKeyReused: () => new GatewayError('idempotency_key_reused', undefined, { field: 'idempotencyKey' }),
  insufficientBalance: (balance?: number) => new GatewayError('insufficient_balance', undefined, balance === undefined ? {} : { balance }),
  balanceLimitExceeded: () => new GatewayError('balance_limit_exceeded'),
  rateLimited: (retryAfterSeconds: number, problem?: string) =>
    new GatewayError('rate_limited', problem === undefined ? undefined : `rate_limited: ${problem}`, { retryAfterSeconds }),
  internal: () => new GatewayError('internal_error'),
  /** `dependency` names the part of this service that is missing (never a host, URL or credential). */
  dependencyUnavailable: (dependency: string) =>
    new GatewayError('dependency_unavailable', `dependency_unavailable: ${dependency} does not answer; nothing was changed; retry`, {
      dependency,
    }),
  approvalRequired: (approvalRequestId: string, limit?: 'maxAdjustment' | 'dailyLimit') =>
    new GatewayError('approval_required', undefined, limit ? { approvalRequestId, limit } : { approvalRequestId }),
  notFound: (field: string) => new GatewayError('not_found', `not_found: no object with that ${field}`, { field }),
  alreadyReversed: (reversalId: string) => new GatewayError('already_reversed', undefined, { reversalId }),
  invalidState: (problem: string, details: ErrorDetails = {}) => new GatewayError('invalid_state', `invalid_state: ${problem}`, details),
  notReversible: () => new GatewayError('not_reversible', undefined, { field: 'adjustmentId' }),
  /** An adjustment not settled yet: what it takes before it can be reversed. */
  notReversibleYet: (adjustmentStatus: 'PENDING' | 'UNKNOWN') =>
    new GatewayError(
      'not_reversible',
      adjustmentStatus === 'PENDING'
        ? 'not_reversible: the adjustment is still being applied (PENDING); reverse it once it is APPLIED'
        : "not_reversible: the adjustment's outcome is unknown (UNKNOWN); send it again with its idempotency key to settle it, then reverse it",
      { field: 'adjustmentId', adjustmentStatus },
    ),
  shuttingDown: () => new GatewayError('shutting_down', undefined, { retryAfterSeconds: 1 }),
  exportTooLarge: (beyond: string) => new GatewayError('export_too_large', `export_too_large: ${beyond}; narrow the export with status`, { field: 'userId' }),
  consoleNotBuilt: () => new GatewayError('console_not_built'),
  consoleFileNotFound: () => new GatewayError('not_found', 'not_found: the console has no file at that path', { field: 'path' }),
};

/** An error as every response shows it, over HTTP or graphql-ws: the catalogue's message and extensions, and the request id. */
export interface FormattedError {
  message: string;
  extensions: Record<string, unknown>;
}

export function formatError(error: GatewayError, requestId: string | undefined): FormattedError {
  const extensions = requestId === undefined ? { ...error.extensions } : { ...error.extensions, requestId };
  return { message: error.message, extensions };
}

/** A whole response body holding one error, for refusals made before GraphQL runs. */
export function errorBody(error: GatewayError, requestId: string | undefined): string {
  return JSON.stringify({ errors: [formatError(error, requestId)] });
}

/**
 * A graphql-js parse failure as the catalogue sees it: the token cap is `query_too_complex`, any other
 * syntax problem `invalid_query`. Shared by HTTP and graphql-ws.
 */
export function parseFailure(message: string): GatewayError {
  // graphql-js spells it "more that".
  if (!/Document contains more tha[nt] \d+ tokens/.test(message)) return Errors.invalidQuery(message);
  return Errors.queryTooComplex(message.replace(/^Syntax Error: /, ''));
}

/**
 * A graphql-js validation failure as the catalogue sees it. graphql-js's own bound on nested introspection
 * lists is what stops an introspection loop too cheap for the cost limit, so it is `query_too_complex`
 * like our limits; any other failure is `invalid_query`. Shared by HTTP and graphql-ws.
 */
export function validationFailure(message: string): GatewayError {
  if (message !== 'Maximum introspection depth exceeded') return Errors.invalidQuery(message);
  return Errors.queryTooComplex('introspection lists (fields, inputFields, interfaces, possibleTypes) nest at most 2 deep');
}
