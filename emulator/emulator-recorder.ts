import { EmulatorAnswer } from './emulator-errors';
import { ParsedJson, RequestBody } from './emulator-http';
import { EMULATOR_ENDPOINTS } from './emulator-routes';
import { EmulatorEndpoint, EmulatorTransaction, RecordedRequest } from './emulator.types';

type EndpointOrUnknown = EmulatorEndpoint | 'unknown';

export interface IncomingApiRequest {
  endpoint: EndpointOrUnknown;
  method: string;
  target: string;
  idempotencyKey: string | undefined;
  traceparent?: string;
  body: RequestBody;
  parsed: ParsedJson;
}

/**
 * What tests assert on: every API request and transaction. Counts are always kept; the lists only when
 * recording (the benchmark turns it off to stay flat in memory).
 */
export class RequestRecorder {
  readonly requests: RecordedRequest[] = [];
  readonly transactions: EmulatorTransaction[] = [];
  private readonly endpointCounts = new Map<EndpointOrUnknown, number>();
  private transactionCount = 0;

  constructor(
    private readonly recording: boolean,
    private readonly now: () => number,
  ) {}

  /** Counts the request; returns its record, to be completed as it goes, when recording. */
  request(incoming: IncomingApiRequest): RecordedRequest | undefined {
    const { endpoint, method, target, idempotencyKey, traceparent, body, parsed } = incoming;
    this.endpointCounts.set(endpoint, (this.endpointCounts.get(endpoint) ?? 0) + 1);
    if (!this.recording) return undefined;
    const recorded: RecordedRequest = { endpoint, method, path: target, status: 0, replayed: false, at: this.now() };
    if (idempotencyKey !== undefined) recorded.idempotencyKey = idempotencyKey;
    if (traceparent !== undefined) recorded.traceparent = traceparent;
    if (body.text) recorded.body = parsed.ok ? parsed.value : body.text;
    this.requests.push(recorded);
    return recorded;
  }

  answered(recorded: RecordedRequest | undefined, answer: EmulatorAnswer): void {
    if (!recorded) return;
    recorded.status = answer.status;
    recorded.replayed = answer.replayed === true;
  }

  transaction(customerId: string, adjustments: Array<[string, number]>, reference: string | null, idempotencyKey: string | undefined): void {
    this.transactionCount += 1;
    if (!this.recording) return;
    const transaction: EmulatorTransaction = {
      id: `vctx_${String(this.transactionCount).padStart(6, '0')}`,
      customerId,
      adjustments: Object.fromEntries(adjustments),
      reference,
      at: this.now(),
    };
    if (idempotencyKey !== undefined) transaction.idempotencyKey = idempotencyKey;
    this.transactions.push(transaction);
  }

  /** Per-customer counts come from `requests`, so they are 0 when recording is off. */
  count(endpoint: EmulatorEndpoint, customerId?: string): number {
    if (customerId === undefined) return this.endpointCounts.get(endpoint) ?? 0;
    return this.requests.filter((r) => r.endpoint === endpoint && r.customerId === customerId).length;
  }

  stats(): { requests: Record<EndpointOrUnknown, number>; transactions: number } {
    const requests = {} as Record<EndpointOrUnknown, number>;
    for (const endpoint of [...EMULATOR_ENDPOINTS, 'unknown' as const]) {
      requests[endpoint] = this.endpointCounts.get(endpoint) ?? 0;
    }
    return { requests, transactions: this.transactionCount };
  }

  clear(): void {
    this.requests.length = 0;
    this.transactions.length = 0;
    this.transactionCount = 0;
    this.endpointCounts.clear();
  }
}
