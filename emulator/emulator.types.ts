export type EmulatorEndpoint = 'list_currencies' | 'list_balances' | 'create_transaction';

export type RateLimitDomain = 'project_configuration' | 'customer_information' | 'virtual_currencies_create_transaction';

export interface EmulatorProductGrant {
  productIds: string[];
  amount: number;
  trialAmount?: number;
  expireAtCycleEnd?: boolean;
}

export interface EmulatorCurrency {
  code: string;
  name: string;
  description?: string | null;
  productGrants?: EmulatorProductGrant[];
}

export interface EmulatorFault {
  /** Any endpoint when omitted. */
  endpoint?: EmulatorEndpoint;
  /** Only requests for this customer when set. */
  customerId?: string;
  /** How many matching requests it hits (default 1; Infinity allowed). */
  count?: number;
  /** Wait before answering. */
  latencyMs?: number;
  /** Perform the real operation before the latency/fault, like an upstream whose reply is lost or late. */
  applyFirst?: boolean;
  /** Answer with this error status; the error type defaults from the status. */
  status?: number;
  type?: string;
  message?: string;
  retryable?: boolean;
  backoffMs?: number;
  retryAfterSeconds?: number;
  /** Drop the connection without an answer. */
  destroySocket?: boolean;
  /** Answer with this body verbatim (status defaults to 200). */
  rawBody?: string;
}

export interface RecordedRequest {
  endpoint: EmulatorEndpoint | 'unknown';
  method: string;
  /** The request target as received: encoded path plus query string. */
  path: string;
  customerId?: string;
  idempotencyKey?: string;
  /** The W3C `traceparent` header, when the caller sent one (a traced gateway does). */
  traceparent?: string;
  body?: unknown;
  /** 0 while the answer is pending, or when the connection was dropped by a fault. */
  status: number;
  replayed: boolean;
  at: number;
}

export interface EmulatorTransaction {
  id: string;
  customerId: string;
  adjustments: Record<string, number>;
  reference: string | null;
  idempotencyKey?: string;
  at: number;
}

export interface RevenueCatEmulatorOptions {
  apiKey?: string;
  projectId?: string;
  /** Start with (and reset to) the default project and demo customers. Default true. */
  seed?: boolean;
  rateLimits?: Partial<Record<RateLimitDomain, number>>;
  now?: () => number;
  /** Keep `requests` and `transactions` lists. Default true; the benchmark turns it off to stay flat in memory. */
  record?: boolean;
}
