import { jsonAnswer } from '../emulator-errors';
import { cursorPosition, cursorQuery, listToWire, parsePageLimit, takePage } from '../emulator-paging';
import { currencyToWire, projectPath } from '../emulator-wire';
import { Endpoint } from './endpoint';

/** GET /v2/projects/{project_id}/virtual_currencies: the project's currencies, paged in insertion order. */
export const listCurrencies: Endpoint = {
  name: 'list_currencies',
  method: 'GET',
  path: ['virtual_currencies'],
  rateLimit: 'project_configuration',
  idempotent: false,
  answer({ projectId, ledger }, { query }) {
    const limit = parsePageLimit(query.get('limit'));
    const after = cursorPosition(ledger, query.get('starting_after'));
    if (typeof after !== 'number') return after;
    const entries = ledger.listCurrencies().map((currency, position) => ({ position, code: currency.code, item: currency }));
    const page = takePage(entries, after, limit);
    const items = page.items.map((currency) => currencyToWire(projectId, currency));
    const url = `${projectPath(projectId)}/virtual_currencies`;
    return jsonAnswer(
      200,
      listToWire(url, { items, continueAfter: page.continueAfter }, (code) => cursorQuery(code, limit)),
    );
  },
};
