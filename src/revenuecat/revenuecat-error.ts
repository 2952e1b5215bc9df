import { Errors, GatewayError } from '../common/errors';
import { isRetryableStatus } from './retryable-errors';

/** Failures of the exchange itself, with no answer from RevenueCat: worth another attempt. */
const EXCHANGE_FAILURES = new Set(['timeout', 'network_error']);

/**
 * A failed RevenueCat call, carrying RevenueCat's own error `type`, or `timeout`, `network_error` or
 * `bad_response` for failures of the exchange itself. Never carries the request's key.
 */
export class RevenueCatError extends Error {
  constructor(
    readonly type: string,
    readonly httpStatus: number | undefined,
    detail: string,
    readonly retryAfterMs?: number,
  ) {
    super(`RevenueCat ${type}${httpStatus ? ` (HTTP ${httpStatus})` : ''}: ${detail}`);
    this.name = 'RevenueCatError';
  }

  get isCustomerMissing(): boolean {
    return this.httpStatus === 404 && this.type === 'resource_missing';
  }

  /**
   * Retry this call now, with the same Idempotency-Key: what RevenueCat marks retryable
   * (retryable-errors.ts), or an exchange that got no answer (a timeout, a dropped connection).
   */
  get retryable(): boolean {
    return this.httpStatus === undefined ? EXCHANGE_FAILURES.has(this.type) : isRetryableStatus(this.httpStatus);
  }

  /**
   * For a write, RevenueCat may or may not have applied it: no answer, a server error, a retryable
   * refusal after the last retry, or an answer we cannot read. Every other failure is definitive.
   */
  get outcomeUnknown(): boolean {
    return this.retryable || this.httpStatus === undefined || this.httpStatus >= 500 || this.type === 'bad_response';
  }
}

/**
 * RevenueCat's failure as the catalogue's error; anything else passes through unchanged. A 404
 * `resource_missing` means the customer only on a customer's path; on the project's own endpoints it is
 * a misconfiguration, so an upstream failure.
 */
export function fromRevenueCatError(error: unknown, scope: 'customer' | 'project'): unknown {
  if (!(error instanceof RevenueCatError)) return error;
  if (scope === 'customer' && error.isCustomerMissing) return Errors.customerNotFound();
  return Errors.rcCallFailed(error.type);
}

/**
 * A refused transaction as the catalogue's error. RevenueCat's two 422s look alike: the sign of the
 * amount tells which limit was hit, and a refused deduction shows the balance when it can be re-read.
 */
export async function fromTransactionError(error: RevenueCatError, amount: number, currentBalance: () => Promise<number | undefined>): Promise<GatewayError> {
  if (error.httpStatus === 422 && error.type === 'unprocessable_entity_error') {
    return amount < 0 ? Errors.insufficientBalance(await currentBalance()) : Errors.balanceLimitExceeded();
  }
  if (error.httpStatus === 409 && error.type === 'idempotency_error') return Errors.idempotencyKeyReused();
  return error.isCustomerMissing ? Errors.customerNotFound() : Errors.rcCallFailed(error.type);
}
