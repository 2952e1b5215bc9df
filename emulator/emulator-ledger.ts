import { EmulatorCurrency } from './emulator.types';

export const MAX_BALANCE = 2_000_000_000;
const MAX_CUSTOMER_ID_LENGTH = 1500;
const CURRENCY_CODE = /^[A-Za-z0-9_]{1,10}$/;

export interface StoredProductGrant {
  productIds: string[];
  amount: number;
  trialAmount: number;
  expireAtCycleEnd: boolean;
}

export interface StoredCurrency {
  code: string;
  name: string;
  description: string | null;
  createdAt: number;
  productGrants: StoredProductGrant[];
}

export type AdjustmentOutcome =
  | { ok: true }
  | { ok: false; reason: 'unknown_customer' }
  | { ok: false; reason: 'unknown_currency' | 'insufficient_balance' | 'balance_limit_exceeded'; code: string; balance: number };

export function isValidCurrencyCode(code: string): boolean {
  return CURRENCY_CODE.test(code);
}

/** Checks the 1..1500 bound in code points, so ids with astral characters are not refused early. */
export function customerIdLengthProblem(id: string): string | undefined {
  if (id.length === 0) return 'customer_id must not be empty';
  if (id.length > MAX_CUSTOMER_ID_LENGTH && [...id].length > MAX_CUSTOMER_ID_LENGTH) {
    return `customer_id must be at most ${MAX_CUSTOMER_ID_LENGTH} characters`;
  }
  return undefined;
}

export class EmulatorLedger {
  private currencies: StoredCurrency[] = [];
  private positions = new Map<string, number>();
  private readonly customers = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number) {}

  listCurrencies(): readonly StoredCurrency[] {
    return this.currencies;
  }

  position(code: string): number | undefined {
    return this.positions.get(code);
  }

  /** Appends a new code; an existing code is replaced where it stands so list order stays stable. */
  addCurrency(input: EmulatorCurrency): void {
    const stored = this.toStoredCurrency(input);
    const position = this.positions.get(stored.code);
    if (position === undefined) {
      this.positions.set(stored.code, this.currencies.length);
      this.currencies.push(stored);
    } else {
      this.currencies[position] = { ...stored, createdAt: this.currencies[position].createdAt };
    }
  }

  setCurrencies(inputs: EmulatorCurrency[]): void {
    const stored = inputs.map((input) => this.toStoredCurrency(input));
    const seen = new Set<string>();
    for (const currency of stored) {
      if (seen.has(currency.code)) throw new Error(`Duplicate currency code ${currency.code}`);
      seen.add(currency.code);
    }
    this.currencies = stored;
    this.positions = new Map(stored.map((currency, index) => [currency.code, index]));
  }

  /** Creates the customer, or replaces the balances of an existing one. */
  addCustomer(id: string, balances: Record<string, number> = {}): void {
    if (typeof id !== 'string') throw new Error('Customer id must be a string');
    const idProblem = customerIdLengthProblem(id);
    if (idProblem) throw new Error(idProblem);
    if (balances === null || typeof balances !== 'object' || Array.isArray(balances)) {
      throw new Error('Balances must be an object of currency code to amount');
    }
    const stored = new Map<string, number>();
    for (const [code, amount] of Object.entries(balances)) {
      if (!this.positions.has(code)) throw new Error(`Currency ${code} is not configured in the project`);
      if (!Number.isSafeInteger(amount) || amount < 0 || amount > MAX_BALANCE) {
        throw new Error(`Balance for ${code} must be an integer from 0 to ${MAX_BALANCE}`);
      }
      stored.set(code, amount);
    }
    this.customers.set(id, stored);
  }

  hasCustomer(id: string): boolean {
    return this.customers.has(id);
  }

  balancesOf(id: string): ReadonlyMap<string, number> | undefined {
    return this.customers.get(id);
  }

  /** Either every adjustment applies or none does. */
  adjust(customerId: string, adjustments: ReadonlyArray<readonly [string, number]>): AdjustmentOutcome {
    const balances = this.customers.get(customerId);
    if (!balances) return { ok: false, reason: 'unknown_customer' };
    for (const [code] of adjustments) {
      if (!this.positions.has(code)) return { ok: false, reason: 'unknown_currency', code, balance: 0 };
    }
    const updates: Array<[string, number]> = [];
    for (const [code, delta] of adjustments) {
      const balance = balances.get(code) ?? 0;
      const next = balance + delta;
      if (next < 0) return { ok: false, reason: 'insufficient_balance', code, balance };
      if (next > MAX_BALANCE) return { ok: false, reason: 'balance_limit_exceeded', code, balance };
      updates.push([code, next]);
    }
    for (const [code, next] of updates) balances.set(code, next);
    return { ok: true };
  }

  clear(): void {
    this.currencies = [];
    this.positions = new Map();
    this.customers.clear();
  }

  private toStoredCurrency(input: EmulatorCurrency): StoredCurrency {
    if (input === null || typeof input !== 'object') throw new Error('Currency must be an object');
    const { code, name, description, productGrants } = input;
    if (typeof code !== 'string' || !isValidCurrencyCode(code)) {
      throw new Error('Currency code must be 1 to 10 of [A-Za-z0-9_]');
    }
    if (typeof name !== 'string' || name.length < 1 || name.length > 50) {
      throw new Error('Currency name must be 1 to 50 characters');
    }
    if (description !== undefined && description !== null && typeof description !== 'string') {
      throw new Error('Currency description must be a string or null');
    }
    if (productGrants !== undefined && !Array.isArray(productGrants)) {
      throw new Error('Currency productGrants must be an array');
    }
    return {
      code,
      name,
      description: description || null,
      createdAt: this.now(),
      productGrants: (productGrants ?? []).map((grant) => {
        const ids: unknown = grant?.productIds;
        if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && id.length > 0)) {
          throw new Error('Product grant productIds must be a non-empty array of product ids');
        }
        if (!Number.isSafeInteger(grant.amount) || grant.amount < 1) {
          throw new Error('Product grant amount must be a positive integer');
        }
        const trialAmount = grant.trialAmount ?? 0;
        if (!Number.isSafeInteger(trialAmount) || trialAmount < 0) {
          throw new Error('Product grant trialAmount must be a non-negative integer');
        }
        return {
          productIds: [...(ids as string[])],
          amount: grant.amount,
          trialAmount,
          expireAtCycleEnd: grant.expireAtCycleEnd === true,
        };
      }),
    };
  }
}
