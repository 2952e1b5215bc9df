import { EmulatorAnswer, errorAnswer } from './emulator-errors';
import { EmulatorLedger } from './emulator-ledger';
import { WireList } from './emulator-wire';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

/** Non-numeric falls back to the default rather than failing, as RevenueCat's list endpoints do. */
export function parsePageLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_PAGE_LIMIT;
  const parsed = Number.parseInt(raw, 10);
  if (Number.isNaN(parsed)) return DEFAULT_PAGE_LIMIT;
  return Math.min(MAX_PAGE_LIMIT, Math.max(1, parsed));
}

/**
 * Where `starting_after` points, as a position in the project's currencies (-1 when absent). It names a
 * project currency, so a cursor still works when that balance has since become 0.
 */
export function cursorPosition(ledger: EmulatorLedger, startingAfter: string | null): number | EmulatorAnswer {
  if (startingAfter === null) return -1;
  const position = ledger.position(startingAfter);
  if (position === undefined) {
    return errorAnswer(400, 'parameter_error', 'starting_after must be the code of a virtual currency in this project', {
      param: 'starting_after',
    });
  }
  return position;
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

export function cursorQuery(code: string, limit: number): string {
  return `starting_after=${encodeURIComponent(code)}&limit=${limit}`;
}

/** `next_page` is a path from the origin (`/v2/...`), as RevenueCat sends it. */
export function listToWire<T>(url: string, page: Page<T>, nextQuery: (after: string) => string): WireList<T> {
  return {
    object: 'list',
    items: page.items,
    next_page: page.continueAfter === null ? null : `${url}?${nextQuery(page.continueAfter)}`,
    url,
  };
}
