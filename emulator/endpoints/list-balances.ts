import { EmulatorAnswer, errorAnswer, jsonAnswer } from '../emulator-errors';
import { EmulatorLedger } from '../emulator-ledger';
import { cursorPosition, cursorQuery, listToWire, PageEntry, parsePageLimit, takePage } from '../emulator-paging';
import { balancesPath, balanceToWire, WireBalance } from '../emulator-wire';
import { CUSTOMER_ID, Endpoint } from './endpoint';

/**
 * GET /v2/projects/{project_id}/customers/{customer_id}/virtual_currencies: the customer's balances in
 * project currency order, zero balances only with `include_empty_balances=true` (kept in `next_page`).
 */
export const listBalances: Endpoint = {
  name: 'list_balances',
  method: 'GET',
  path: ['customers', CUSTOMER_ID, 'virtual_currencies'],
  rateLimit: 'customer_information',
  idempotent: false,
  answer({ projectId, ledger }, request) {
    const customerId = request.customerId as string;
    const { query } = request;
    const includeEmpty = parseIncludeEmpty(query.get('include_empty_balances'));
    if ('status' in includeEmpty) return includeEmpty;
    const limit = parsePageLimit(query.get('limit'));
    const after = cursorPosition(ledger, query.get('starting_after'));
    if (typeof after !== 'number') return after;
    if (!ledger.hasCustomer(customerId)) return customerNotFoundAnswer();
    const page = takePage(balanceEntries(ledger, customerId, includeEmpty.value), after, limit);
    const includePart = includeEmpty.given ? `include_empty_balances=${includeEmpty.value}&` : '';
    return jsonAnswer(
      200,
      listToWire(balancesPath(projectId, customerId), page, (code) => includePart + cursorQuery(code, limit)),
    );
  },
};

type IncludeEmpty = { given: boolean; value: boolean };

export function parseIncludeEmpty(raw: string | null): IncludeEmpty | EmulatorAnswer {
  if (raw === null) return { given: false, value: false };
  const normalized = raw.toLowerCase();
  if (normalized === 'true') return { given: true, value: true };
  if (normalized === 'false') return { given: true, value: false };
  return errorAnswer(400, 'parameter_error', 'include_empty_balances must be true or false', {
    param: 'include_empty_balances',
  });
}

export function balanceEntries(ledger: EmulatorLedger, customerId: string, includeEmpty: boolean): PageEntry<WireBalance>[] {
  const balances = ledger.balancesOf(customerId);
  const entries: PageEntry<WireBalance>[] = [];
  ledger.listCurrencies().forEach((currency, position) => {
    const balance = balances?.get(currency.code) ?? 0;
    if (balance !== 0 || includeEmpty) {
      entries.push({ position, code: currency.code, item: balanceToWire(currency, balance) });
    }
  });
  return entries;
}

export function customerNotFoundAnswer(): EmulatorAnswer {
  return errorAnswer(404, 'resource_missing', 'Customer not found', { param: 'customer_id' });
}
