import { EmulatorAnswer, errorAnswer, jsonAnswer } from './emulator-errors';
import { decodeSegment, isPlainObject, parseJson } from './emulator-http';
import { EmulatorCurrency, EmulatorEndpoint, EmulatorFault } from './emulator.types';

/** What the control API may do to an emulator; kept narrow so the HTTP surface cannot reach further. */
export interface EmulatorControls {
  reset(): void;
  addCustomer(id: string, balances?: Record<string, number>): void;
  addCurrency(currency: EmulatorCurrency): void;
  injectFault(fault: EmulatorFault): void;
  clearFaults(): void;
  customerBalances(id: string): Record<string, number> | undefined;
  stats(): { requests: Record<EmulatorEndpoint | 'unknown', number>; transactions: number };
}

const PREFIX = '/_emulator/';

export function handleControlRequest(controls: EmulatorControls, method: string, path: string, bodyText: string): EmulatorAnswer {
  const route = path.slice(PREFIX.length);
  if (method === 'POST' && route === 'reset') {
    controls.reset();
    return jsonAnswer(200, { ok: true });
  }
  if (method === 'GET' && route === 'stats') return jsonAnswer(200, controls.stats());
  if (method === 'DELETE' && route === 'faults') {
    controls.clearFaults();
    return jsonAnswer(200, { ok: true });
  }
  if (method === 'GET' && route.startsWith('customers/') && route.indexOf('/', 'customers/'.length) === -1) {
    const id = decodeSegment(route.slice('customers/'.length));
    if (id === undefined) return errorAnswer(400, 'parameter_error', 'Customer id is not valid URL encoding', { param: 'id' });
    const balances = controls.customerBalances(id);
    if (!balances) return errorAnswer(404, 'resource_missing', 'Customer not found', { param: 'id' });
    return jsonAnswer(200, { id, balances });
  }
  if (method === 'POST' && (route === 'customers' || route === 'currencies' || route === 'faults')) {
    const parsed = parseJson(bodyText);
    if (!parsed.ok || !isPlainObject(parsed.value)) {
      return errorAnswer(400, 'invalid_request', 'Body must be a JSON object');
    }
    return applyMutation(controls, route, parsed.value);
  }
  return errorAnswer(404, 'resource_missing', 'Resource not found');
}

function applyMutation(controls: EmulatorControls, route: 'customers' | 'currencies' | 'faults', body: Record<string, unknown>): EmulatorAnswer {
  try {
    switch (route) {
      case 'customers': {
        const { id, balances } = body;
        controls.addCustomer(id as string, (balances ?? undefined) as Record<string, number> | undefined);
        return jsonAnswer(201, { id, balances: controls.customerBalances(id as string) });
      }
      case 'currencies':
        controls.addCurrency(body as unknown as EmulatorCurrency);
        return jsonAnswer(201, { ok: true });
      case 'faults': {
        // JSON has no Infinity, so a fault that never runs out is spelled "Infinity".
        const fault = { ...body, count: body.count === 'Infinity' ? Infinity : body.count };
        controls.injectFault(fault as EmulatorFault);
        return jsonAnswer(201, { ok: true });
      }
    }
  } catch (error) {
    return errorAnswer(400, 'parameter_error', error instanceof Error ? error.message : 'Invalid request');
  }
}
