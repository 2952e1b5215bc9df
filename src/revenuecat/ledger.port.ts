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

/** The virtual-currency ledger: RevenueCat in production, anything that behaves like it in tests. */
export interface Ledger {
  listCurrencies(): Promise<VirtualCurrency[]>;
  listBalances(customerId: string, options: { includeEmpty: boolean }): Promise<Balance[]>;
  /**
   * Applies every adjustment atomically and answers the customer's balances after it, zero balances
   * included. `idempotencyKey` is sent upstream unchanged on every attempt.
   */
  createTransaction(customerId: string, transaction: Transaction, idempotencyKey: string): Promise<Balance[]>;
}

export const Ledger = Symbol('Ledger');
