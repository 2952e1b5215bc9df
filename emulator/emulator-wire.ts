import { StoredCurrency } from './emulator-ledger';

export interface WireBalance {
  object: 'virtual_currency_balance';
  currency_code: string;
  balance: number;
  name: string;
  description?: string;
}

export interface WireList<T> {
  object: 'list';
  items: T[];
  next_page: string | null;
  url: string;
}

export function currencyToWire(projectId: string, currency: StoredCurrency) {
  return {
    object: 'virtual_currency' as const,
    project_id: projectId,
    code: currency.code,
    name: currency.name,
    created_at: currency.createdAt,
    description: currency.description,
    product_grants: currency.productGrants.map((grant) => ({
      object: 'virtual_currency.product_grant' as const,
      product_ids: [...grant.productIds],
      amount: grant.amount,
      trial_amount: grant.trialAmount,
      expire_at_cycle_end: grant.expireAtCycleEnd,
    })),
  };
}

export function balanceToWire(currency: StoredCurrency, balance: number): WireBalance {
  const item: WireBalance = {
    object: 'virtual_currency_balance',
    currency_code: currency.code,
    balance,
    name: currency.name,
  };
  if (currency.description !== null) item.description = currency.description;
  return item;
}

export function projectPath(projectId: string): string {
  return `/v2/projects/${encodeURIComponent(projectId)}`;
}

export function balancesPath(projectId: string, customerId: string): string {
  return `${projectPath(projectId)}/customers/${encodeURIComponent(customerId)}/virtual_currencies`;
}
