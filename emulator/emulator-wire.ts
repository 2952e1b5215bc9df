import { StoredCurrency } from './emulator-ledger';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

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

/** Non-numeric falls back to the default rather than failing, as RevenueCat's list endpoints do. */
export function parsePageLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_PAGE_LIMIT;
  const parsed = Number.parseInt(raw, 10);
  if (Number.isNaN(parsed)) return DEFAULT_PAGE_LIMIT;
  return Math.min(MAX_PAGE_LIMIT, Math.max(1, parsed));
}

export interface PageEntry<T> {
  /** Position of the entry's currency in the project, which is what `starting_after` refers to. */
  position: number;
  code: string;
  item: T;
}

export interface Page<T> {
  items: T[];
  /** Code to continue after, or null when this page reaches the end. */
  continueAfter: string | null;
}

export function takePage<T>(entries: readonly PageEntry<T>[], afterPosition: number, limit: number): Page<T> {
  let start = 0;
  while (start < entries.length && entries[start].position <= afterPosition) start++;
  const slice = entries.slice(start, start + limit);
  const hasMore = start + limit < entries.length;
  return {
    items: slice.map((entry) => entry.item),
    continueAfter: hasMore ? slice[slice.length - 1].code : null,
  };
}

export function listToWire<T>(url: string, page: Page<T>, nextQuery: (after: string) => string): WireList<T> {
  return {
    object: 'list',
    items: page.items,
    next_page: page.continueAfter === null ? null : `${url}?${nextQuery(page.continueAfter)}`,
    url,
  };
}

export function projectPath(projectId: string): string {
  return `/v2/projects/${encodeURIComponent(projectId)}`;
}

export function balancesPath(projectId: string, customerId: string): string {
  return `${projectPath(projectId)}/customers/${encodeURIComponent(customerId)}/virtual_currencies`;
}

/** Key order must not matter when two bodies are compared for idempotency. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
