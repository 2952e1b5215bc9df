import type { EmulatorAnswer } from '../emulator-errors';
import type { ParsedJson } from '../emulator-http';
import type { EmulatorLedger } from '../emulator-ledger';
import type { RequestRecorder } from '../emulator-recorder';
import type { EmulatorEndpoint, RateLimitDomain } from '../emulator.types';

/** What an endpoint reads and changes. */
export interface EndpointContext {
  projectId: string;
  ledger: EmulatorLedger;
  recorder: RequestRecorder;
}

/** A request that passed the bearer check, the rate limit and the path checks. */
export interface EndpointRequest {
  /** The decoded `{customer_id}`, on paths that have one. */
  customerId: string | undefined;
  query: URLSearchParams;
  contentType: string | undefined;
  body: ParsedJson;
  idempotencyKey: string | undefined;
}

/** Stands for `{customer_id}` in `Endpoint.path`. */
export const CUSTOMER_ID = '{customer_id}';

/** One RevenueCat endpoint: where it lives, which allowance it spends, and what it answers. */
export interface Endpoint {
  name: EmulatorEndpoint;
  method: 'GET' | 'POST';
  /** The path segments after `/v2/projects/{project_id}/`. */
  path: readonly string[];
  rateLimit: RateLimitDomain;
  /** Replays by `Idempotency-Key` (see EmulatorIdempotencyStore.guard). */
  idempotent: boolean;
  answer(context: EndpointContext, request: EndpointRequest): EmulatorAnswer;
}
