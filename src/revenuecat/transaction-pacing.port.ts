/** What RevenueCat said about its window on a transaction's answer (RevenueCat-Rate-Limit-Current-* headers). */
export interface RevenueCatRateLimitReport {
  usage?: number;
  limit?: number;
  /** Left in the window; `limit - usage` when not given. */
  remaining?: number;
  /** Until the window resets; RevenueCat does not say, so by default the next clock minute (its windows are fixed minutes). */
  resetSeconds?: number;
}

/**
 * The one budget of RevenueCat transactions every caller of the service shares (docs/decisions.md,
 * "The pacer"). The ledger asks it before each transaction attempt and tells it what RevenueCat answered; the
 * bulk runner takes its slots from it. Implemented by pacing/TransactionPacer.
 */
export interface TransactionPacing {
  /** Counts an interactive transaction now; never waits, never refuses. */
  takeInteractive(): Promise<unknown>;
  /** Resolves when a bulk transaction may be sent (the slot is taken); rejects once `signal` aborts, having taken nothing. */
  takeBulk(signal?: AbortSignal): Promise<number>;
  /** No bulk transaction on any instance for `ms` (a RevenueCat 429's Retry-After). */
  pause(ms: number): Promise<void>;
  /** RevenueCat's rate-limit headers from a transaction's answer. */
  observe(report: RevenueCatRateLimitReport): Promise<void>;
}

export const TransactionPacing = Symbol('TransactionPacing');

/**
 * How a transaction is paced: `interactive` (the default: an operator waits for it; counted, never
 * delayed) or `bulk` (a bulk item: the caller already took a bulk slot for the first attempt, and every
 * retry waits for a slot of its own, so a 429's pause holds it back instead of a fixed backoff).
 */
export type TransactionPacingKind = 'interactive' | 'bulk';
