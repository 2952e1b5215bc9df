import type { TransactionPacingKind } from './transaction-pacing.port';

export interface ProductGrant {
  productIds: string[];
  amount: number;
  trialAmount: number | null;
  expireAtCycleEnd: boolean | null;
}

export interface VirtualCurrency {
  code: string;
  name: string;
  description: string | null;
  productGrants: ProductGrant[];
}

export interface Balance {
  currency: string;
  name: string | null;
  balance: number;
}

export interface Transaction {
  adjustments: Record<string, number>;
  /** Shown on the RevenueCat dashboard as the transaction's reference. */
  reference: string;
}

export interface TransactionOptions {
  /** Default `interactive`; see TransactionPacingKind. */
  pacing?: TransactionPacingKind;
  /** Aborts waiting for a bulk retry's slot (shutdown); the last attempt's failure is then thrown. */
  signal?: AbortSignal;
  /** The request being served (its `x-request-id`), named in the lines this call logs. */
  requestId?: string;
}

/** The virtual-currency ledger: RevenueCat in production, anything that behaves like it in tests. */
export interface Ledger {
  listCurrencies(): Promise<VirtualCurrency[]>;
  listBalances(customerId: string, options: { includeEmpty: boolean; requestId?: string }): Promise<Balance[]>;
  /**
   * Applies every adjustment atomically and answers the customer's balances after it, zero balances
   * included. `idempotencyKey` is sent upstream unchanged on every attempt. Every attempt is paced under
   * the service's one RevenueCat transaction budget.
   */
  createTransaction(customerId: string, transaction: Transaction, idempotencyKey: string, options?: TransactionOptions): Promise<Balance[]>;
}

export const Ledger = Symbol('Ledger');
