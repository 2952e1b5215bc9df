import { createTransaction } from './endpoints/create-transaction';
import { CUSTOMER_ID, Endpoint } from './endpoints/endpoint';
import { listBalances } from './endpoints/list-balances';
import { listCurrencies } from './endpoints/list-currencies';
import { EmulatorAnswer, errorAnswer } from './emulator-errors';
import { decodeSegment } from './emulator-http';
import { customerIdLengthProblem } from './emulator-ledger';
import { EmulatorEndpoint } from './emulator.types';

/** The RevenueCat endpoints the gateway calls, and so the only ones emulated. */
export const ENDPOINTS: readonly Endpoint[] = [listCurrencies, listBalances, createTransaction];

export const EMULATOR_ENDPOINTS: readonly EmulatorEndpoint[] = ENDPOINTS.map((endpoint) => endpoint.name);

export interface ApiRoute {
  endpoint: Endpoint;
  projectSegment: string;
  customerSegment?: string;
}

/** Matches on raw segments so an encoded slash inside an id never splits it. */
export function matchApiRoute(method: string, path: string): ApiRoute | undefined {
  const s = path.split('/');
  if (s.length < 5 || s[0] !== '' || s[1] !== 'v2' || s[2] !== 'projects') return undefined;
  const rest = s.slice(4);
  for (const endpoint of ENDPOINTS) {
    if (endpoint.method !== method || endpoint.path.length !== rest.length) continue;
    if (!endpoint.path.every((part, i) => part === CUSTOMER_ID || part === rest[i])) continue;
    const route: ApiRoute = { endpoint, projectSegment: s[3] };
    const customerAt = endpoint.path.indexOf(CUSTOMER_ID);
    if (customerAt !== -1) route.customerSegment = rest[customerAt];
    return route;
  }
  return undefined;
}

/** Decodes and checks the path's ids: the project must be this one, a customer id 1..1500 characters. */
export function resolvePathIds(route: ApiRoute, projectId: string): { customerId?: string } | { error: EmulatorAnswer } {
  if (decodeSegment(route.projectSegment) !== projectId) {
    return { error: errorAnswer(404, 'resource_missing', 'Project not found') };
  }
  if (route.customerSegment === undefined) return {};
  const customerId = decodeSegment(route.customerSegment);
  if (customerId === undefined) {
    const message = 'customer_id is not valid URL encoding';
    return { error: errorAnswer(400, 'parameter_error', message, { param: 'customer_id' }) };
  }
  const problem = customerIdLengthProblem(customerId);
  if (problem) return { error: errorAnswer(400, 'parameter_error', problem, { param: 'customer_id' }) };
  return { customerId };
}
