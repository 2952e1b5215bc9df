import { EmulatorAnswer, errorAnswer, jsonAnswer } from '../emulator-errors';
import { isJsonContentType, isPlainObject } from '../emulator-http';
import { MAX_BALANCE } from '../emulator-ledger';
import { balancesPath, WireBalance, WireList } from '../emulator-wire';
import { CUSTOMER_ID, Endpoint } from './endpoint';
import { balanceEntries, customerNotFoundAnswer, parseIncludeEmpty } from './list-balances';

/**
 * POST /v2/projects/{project_id}/customers/{customer_id}/virtual_currencies/transactions with
 * `{"adjustments": {"CRD": 50}, "reference": "..."}`: every adjustment or none (422 for a negative
 * balance or one over 2,000,000,000), answered with the customer's balances on one page.
 */
export const createTransaction: Endpoint = {
  name: 'create_transaction',
  method: 'POST',
  path: ['customers', CUSTOMER_ID, 'virtual_currencies', 'transactions'],
  rateLimit: 'virtual_currencies_create_transaction',
  idempotent: true,
  answer({ projectId, ledger, recorder }, request) {
    const customerId = request.customerId as string;
    const { query, contentType, body, idempotencyKey } = request;
    const includeEmpty = parseIncludeEmpty(query.get('include_empty_balances'));
    if ('status' in includeEmpty) return includeEmpty;
    if (!isJsonContentType(contentType)) {
      return errorAnswer(400, 'invalid_request', 'Content-Type must be application/json');
    }
    if (!body.ok || !isPlainObject(body.value)) {
      return errorAnswer(400, 'invalid_request', 'The request body must be a JSON object');
    }
    const input = parseTransactionBody(body.value);
    if ('status' in input) return input;

    const outcome = ledger.adjust(customerId, input.adjustments);
    if (!outcome.ok) {
      switch (outcome.reason) {
        case 'unknown_customer':
          return customerNotFoundAnswer();
        case 'unknown_currency':
          return errorAnswer(400, 'parameter_error', `Virtual currency ${outcome.code} is not configured in this project`, {
            param: 'adjustments',
          });
        case 'insufficient_balance':
          return errorAnswer(422, 'unprocessable_entity_error', `Insufficient balance for virtual currency ${outcome.code}: the balance is ${outcome.balance}`);
        case 'balance_limit_exceeded':
          return errorAnswer(422, 'unprocessable_entity_error', `The balance of virtual currency ${outcome.code} cannot exceed ${MAX_BALANCE}`);
      }
    }
    recorder.transaction(customerId, input.adjustments, input.reference, idempotencyKey);
    const balances: WireList<WireBalance> = {
      object: 'list',
      items: balanceEntries(ledger, customerId, includeEmpty.value).map((entry) => entry.item),
      next_page: null,
      url: balancesPath(projectId, customerId),
    };
    return jsonAnswer(200, balances);
  },
};

interface TransactionInput {
  adjustments: Array<[string, number]>;
  reference: string | null;
}

function parseTransactionBody(body: Record<string, unknown>): TransactionInput | EmulatorAnswer {
  for (const property of Object.keys(body)) {
    if (property !== 'adjustments' && property !== 'reference') {
      return errorAnswer(400, 'parameter_error', `Unknown property ${property}`, { param: property });
    }
  }
  const { adjustments, reference } = body;
  if (!isPlainObject(adjustments)) {
    return errorAnswer(400, 'parameter_error', 'adjustments must be an object of currency code to integer amount', {
      param: 'adjustments',
    });
  }
  const entries = Object.entries(adjustments);
  if (entries.length === 0) {
    return errorAnswer(400, 'parameter_error', 'adjustments must name at least one currency', { param: 'adjustments' });
  }
  for (const [code, amount] of entries) {
    if (!Number.isSafeInteger(amount)) {
      return errorAnswer(400, 'parameter_error', `The adjustment for ${code} must be an integer`, { param: 'adjustments' });
    }
  }
  if (reference !== undefined && reference !== null && typeof reference !== 'string') {
    return errorAnswer(400, 'parameter_error', 'reference must be a string or null', { param: 'reference' });
  }
  return { adjustments: entries as Array<[string, number]>, reference: reference ?? null };
}
