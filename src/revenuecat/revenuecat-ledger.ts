import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { AxiosError, AxiosResponse } from 'axios';
import type { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Clock } from '../common/clock';
import { Errors } from '../common/errors';
import { isWellFormedText, truncateText } from '../common/text';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Metrics, secondsSince } from '../metrics/metrics';
import { Balance, Ledger, ProductGrant, Transaction, TransactionOptions, VirtualCurrency } from './ledger.port';
import { RevenueCatError } from './revenuecat-error';
import { MAX_ANSWER_BYTES } from './revenuecat-http.config';
import { TransactionPacing, TransactionPacingKind } from './transaction-pacing.port';
import { UpstreamStatus } from './upstream-status';

export type RevenueCatEndpoint = 'list_currencies' | 'list_balances' | 'create_transaction';

const PAGE_LIMIT = 100;
// RevenueCat's published limits for virtual currencies (its API v2 reference).
const CURRENCY_CODE = /^[A-Za-z0-9_]{1,10}$/;
const MAX_CURRENCY_NAME = 50;
const MAX_CURRENCY_DESCRIPTION = 1500;
// A project has at most 100 currencies, so a handful of pages is already far more than a sane answer.
const MAX_PAGES = 20;
/** A RevenueCat 429 without Retry-After or backoff_ms pauses bulk transactions this long. */
const DEFAULT_RATE_LIMIT_PAUSE_MS = 1000;

/** A transaction's pacing for one call: its kind, and what aborts a bulk retry's wait for a slot. */
interface Paced {
  kind: TransactionPacingKind;
  signal?: AbortSignal;
}

/** The RevenueCat v2 REST API as the Ledger port: pagination, retries, timeouts and typed errors. */
@Injectable()
export class RevenueCatLedger implements Ledger, OnModuleDestroy {
  private readonly logger = new Logger(RevenueCatLedger.name);
  private readonly settings: AppConfig['revenueCat'];
  /** RevenueCat's origin, the axios instance's baseURL: every request names a path from it. */
  private readonly origin: string;
  /** The project's path as the URL parser spells it (REVENUECAT_PROJECT_ID is validated at start). */
  private readonly projectPath: string;
  /** Each endpoint's metrics, labelled once rather than on every call. */
  private readonly endpointMetrics = new Map<RevenueCatEndpoint, EndpointMetrics>();

  constructor(
    private readonly http: HttpService,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly status: UpstreamStatus,
    @Inject(APP_CONFIG) config: AppConfig,
    // Optional so that the ledger stands alone (its spec, scripts); the application always provides it.
    @Optional() @Inject(TransactionPacing) private readonly pacing: TransactionPacing | null = null,
  ) {
    this.settings = config.revenueCat;
    this.origin = new URL(this.settings.apiUrl).origin;
    this.projectPath = new URL(`${this.settings.apiUrl}/projects/${encodeURIComponent(this.settings.projectId ?? '')}`).pathname;
  }

  /** Closes the idle keep-alive sockets of the instance's agents (revenueCatHttpConfig), so shutdown need not wait for them. */
  onModuleDestroy(): void {
    const { httpAgent, httpsAgent } = this.http.axiosRef.defaults as { httpAgent?: Agent; httpsAgent?: Agent };
    httpAgent?.destroy();
    httpsAgent?.destroy();
  }

  listCurrencies(): Promise<VirtualCurrency[]> {
    return this.readAllPages('list_currencies', `${this.projectPath}/virtual_currencies?limit=${PAGE_LIMIT}`, toCurrency);
  }

  async listBalances(customerId: string, { includeEmpty, requestId }: { includeEmpty: boolean; requestId?: string }): Promise<Balance[]> {
    const query = `limit=${PAGE_LIMIT}${includeEmpty ? '&include_empty_balances=true' : ''}`;
    return this.readAllPages('list_balances', `${this.customerPath(customerId)}?${query}`, toBalance, requestId);
  }

  async createTransaction(customerId: string, transaction: Transaction, idempotencyKey: string, options: TransactionOptions = {}): Promise<Balance[]> {
    const path = `${this.customerPath(customerId)}/transactions?include_empty_balances=true`;
    const body = { adjustments: transaction.adjustments, reference: transaction.reference };
    const paced: Paced = { kind: options.pacing ?? 'interactive', signal: options.signal };
    const page = await this.send('create_transaction', 'POST', path, options.requestId, body, { 'Idempotency-Key': idempotencyKey }, paced);
    const first = toList(page, toBalance, 'create_transaction');
    if (!first.nextPage) return first.items;
    const rest = await this.readAllPages('list_balances', this.resolvePage(first.nextPage), toBalance, options.requestId);
    return first.items.concat(rest);
  }

  /**
   * Input validation refuses ids that cannot be one path segment; this is the second line. The URL
   * parser axios uses resolves `.` and `..` segments (`%2e` spellings too), and encodeURIComponent leaves
   * dots alone, so the path the parser makes must be exactly the one built here, or the request, with
   * our key, would reach another RevenueCat endpoint.
   */
  private customerPath(customerId: string): string {
    if (!isWellFormedText(customerId)) throw Errors.invalidArgument('userId', 'must be well-formed Unicode text');
    const path = `${this.projectPath}/customers/${encodeURIComponent(customerId)}/virtual_currencies`;
    if (new URL(`${this.origin}${path}`).pathname !== path) throw Errors.invalidArgument('userId', 'cannot be sent as one RevenueCat path segment');
    return path;
  }

  private async readAllPages<T>(endpoint: RevenueCatEndpoint, firstPath: string, toItem: (raw: unknown) => T, requestId?: string): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let path: string | undefined = firstPath;
    for (let page = 0; path !== undefined; page++) {
      if (page >= MAX_PAGES || seen.has(path)) {
        throw new RevenueCatError('bad_response', 200, `${endpoint} pagination did not end`);
      }
      seen.add(path);
      const list: { items: T[]; nextPage?: string } = toList(await this.send(endpoint, 'GET', path, requestId), toItem, endpoint);
      // Never push(...items): an argument per item overflows the stack on a long list.
      for (const item of list.items) items.push(item);
      path = list.nextPage ? this.resolvePage(list.nextPage) : undefined;
    }
    return items;
  }

  /** `next_page` is a path from the origin (`/v2/...`), never appended to the base URL. */
  private resolvePage(nextPage: string): string {
    const next = new URL(nextPage, this.origin);
    // The key goes with every request, so it must never follow a link off RevenueCat's origin.
    if (next.origin !== this.origin) {
      throw new RevenueCatError('bad_response', 200, 'next_page points at another origin');
    }
    return `${next.pathname}${next.search}`;
  }

  private async send(
    endpoint: RevenueCatEndpoint,
    method: 'GET' | 'POST',
    path: string,
    requestId?: string,
    body?: unknown,
    headers: Record<string, string> = {},
    paced?: Paced,
  ): Promise<unknown> {
    let lastFailure: RevenueCatError | undefined;
    for (let attempt = 0; ; attempt++) {
      // A bulk retry whose wait for a slot was aborted (shutdown) ends with the failure it was retrying.
      if (paced && !(await this.takeSlot(paced, attempt)) && lastFailure) throw lastFailure;
      const failure = await this.attempt(endpoint, method, path, body, headers).then(
        async (response) => {
          if (paced) await this.reportToPacing(response);
          return isSuccess(response.status) ? parseBody(response, endpoint) : toUpstreamError(response);
        },
        (failure: RevenueCatError) => failure,
      );
      if (!(failure instanceof RevenueCatError)) return failure;
      lastFailure = failure;
      const bulkWaitsForSlot = paced?.kind === 'bulk' && failure.httpStatus === 429;
      const delay = bulkWaitsForSlot ? (attempt < this.settings.maxRetries ? 0 : undefined) : this.retryDelay(failure, attempt);
      if (delay === undefined) throw failure;
      this.metrics.upstreamRetries.inc({ endpoint, type: failure.type });
      const retrying =
        `${endpoint} failed with ${failure.type}${failure.httpStatus ? ` (HTTP ${failure.httpStatus})` : ''}; ` +
        `retry ${attempt + 1}/${this.settings.maxRetries} ${bulkWaitsForSlot ? 'once bulk transactions resume' : `in ${delay} ms`}`;
      // With the request's id when there is one: nestjs-pino keeps an object's fields and logs the string as the message.
      if (requestId === undefined) this.logger.warn(retrying);
      else this.logger.warn({ requestId }, retrying);
      // A bulk retry after a 429 waits for its next slot, which the pause holds back.
      if (!bulkWaitsForSlot) await this.clock.sleep(delay);
    }
  }

  /**
   * Every transaction attempt is paced: an interactive one is counted (never delayed); a bulk one's first
   * slot was taken by its caller, each retry waits for one of its own. False when that wait was aborted.
   * The budget's own trouble (Redis) never fails a transaction: the pacer falls back by itself.
   */
  private async takeSlot(paced: Paced, attempt: number): Promise<boolean> {
    if (!this.pacing) return true;
    if (paced.kind === 'interactive') {
      await this.pacing.takeInteractive().catch((error: Error) => this.logger.warn(`pacing: ${error.message}`));
      return true;
    }
    if (attempt === 0) return true;
    try {
      await this.pacing.takeBulk(paced.signal);
      return true;
    } catch {
      return false;
    }
  }

  /** RevenueCat's rate-limit headers, and a 429's pause (its Retry-After or backoff_ms), for the shared budget. */
  private async reportToPacing(response: AxiosResponse<string>): Promise<void> {
    if (!this.pacing) return;
    try {
      const usage = headerNumber(response.headers['revenuecat-rate-limit-current-usage']);
      const limit = headerNumber(response.headers['revenuecat-rate-limit-current-limit']);
      if (usage !== undefined || limit !== undefined) await this.pacing.observe({ usage, limit });
      if (response.status === 429) {
        const hinted = toUpstreamError(response).retryAfterMs;
        await this.pacing.pause(hinted !== undefined && hinted > 0 ? hinted : DEFAULT_RATE_LIMIT_PAUSE_MS);
      }
    } catch (error) {
      this.logger.warn(`pacing: ${(error as Error).message}`);
    }
  }

  /**
   * One exchange through the axios instance @nestjs/axios provides (its `axiosRef`: the client awaits a
   * promise, not an Observable), with its metrics and reachability whatever the outcome. A failed
   * exchange is rejected as the RevenueCatError it maps to (`timeout`, `network_error` or `bad_response`).
   */
  private async attempt(
    endpoint: RevenueCatEndpoint,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    headers: Record<string, string> | undefined,
  ): Promise<AxiosResponse<string>> {
    const metrics = this.metricsFor(endpoint);
    const startedAt = performance.now();
    // After connecting, axios's own `timeout` only measures idle time: an upstream trickling its answer
    // would never time out. This deadline covers the whole exchange. A timer cleared on completion rather
    // than AbortSignal.timeout, whose timer outlives the call and fires on every signal later.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.settings.timeoutMs);
    try {
      const response = await this.http.axiosRef.request<string>({ method, url: path, data: body, headers, signal: deadline.signal });
      metrics.duration.observe(secondsSince(startedAt));
      metrics.outcome(String(response.status)).inc();
      this.status.record(response.status < 500, `HTTP ${response.status} from ${endpoint}`);
      const usage = Number(response.headers['revenuecat-rate-limit-current-usage']);
      const limit = Number(response.headers['revenuecat-rate-limit-current-limit']);
      if (Number.isFinite(usage)) metrics.rateLimitUsage.set(usage);
      if (Number.isFinite(limit)) metrics.rateLimitLimit.set(limit);
      return response;
    } catch (error) {
      metrics.duration.observe(secondsSince(startedAt));
      const failure = toTransportError(error, this.settings.timeoutMs, deadline.signal.aborted);
      metrics.outcome(failure.type).inc();
      this.status.record(false, `${failure.type} from ${endpoint}`);
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }

  private metricsFor(endpoint: RevenueCatEndpoint): EndpointMetrics {
    let metrics = this.endpointMetrics.get(endpoint);
    if (!metrics) {
      metrics = {
        duration: this.metrics.upstreamDuration.labels({ endpoint }),
        rateLimitUsage: this.metrics.revenueCatRateLimitUsage.labels({ endpoint }),
        rateLimitLimit: this.metrics.revenueCatRateLimitLimit.labels({ endpoint }),
        outcome: outcomeCounters(this.metrics, endpoint),
      };
      this.endpointMetrics.set(endpoint, metrics);
    }
    return metrics;
  }

  /** How long to wait before the next attempt, or undefined when the failure is final. */
  private retryDelay(failure: RevenueCatError, attempt: number): number | undefined {
    if (attempt >= this.settings.maxRetries || !failure.retryable) return undefined;
    const delay = failure.retryAfterMs ?? Math.min(100 * 2 ** attempt, this.settings.maxBackoffMs) + Math.floor(Math.random() * 50);
    // An upstream that asks for a longer pause than a caller should wait fails now; the caller may retry.
    return delay <= this.settings.maxBackoffMs ? delay : undefined;
  }
}

function headerNumber(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** An endpoint's request counter for each outcome (an HTTP status, timeout, network_error), labelled once. */
function outcomeCounters(metrics: Metrics, endpoint: RevenueCatEndpoint): (outcome: string) => ReturnType<Metrics['upstreamRequests']['labels']> {
  const counters = new Map<string, ReturnType<Metrics['upstreamRequests']['labels']>>();
  return (outcome) => {
    let counter = counters.get(outcome);
    if (!counter) counters.set(outcome, (counter = metrics.upstreamRequests.labels({ endpoint, outcome })));
    return counter;
  };
}

interface EndpointMetrics {
  outcome: (outcome: string) => ReturnType<Metrics['upstreamRequests']['labels']>;
  duration: ReturnType<Metrics['upstreamDuration']['labels']>;
  rateLimitUsage: ReturnType<Metrics['revenueCatRateLimitUsage']['labels']>;
  rateLimitLimit: ReturnType<Metrics['revenueCatRateLimitLimit']['labels']>;
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function parseBody(response: AxiosResponse<string>, endpoint: string): unknown {
  try {
    return JSON.parse(response.data);
  } catch {
    return new RevenueCatError('bad_response', response.status, `${endpoint} answered a body that is not JSON`);
  }
}

function toUpstreamError(response: AxiosResponse<string>): RevenueCatError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(response.data);
    if (isRecord(parsed)) body = parsed;
  } catch {
    // A proxy's HTML error page: the status still decides whether to retry (RevenueCatError.retryable).
  }
  const type = typeof body.type === 'string' && /^[a-z_]{1,64}$/.test(body.type) ? body.type : 'bad_response';
  const message = typeof body.message === 'string' ? body.message.slice(0, 300) : 'no error body';
  return new RevenueCatError(type, response.status, message, retryAfterMs(response, body));
}

/** The longer of RevenueCat's two hints: `backoff_ms` in the body and the `Retry-After` header. */
function retryAfterMs(response: AxiosResponse<string>, body: Record<string, unknown>): number | undefined {
  const hints: number[] = [];
  if (typeof body.backoff_ms === 'number' && Number.isFinite(body.backoff_ms) && body.backoff_ms >= 0) {
    hints.push(Math.ceil(body.backoff_ms));
  }
  const header: unknown = response.headers['retry-after'];
  if (typeof header === 'string' && /^\d+$/.test(header.trim())) hints.push(Number(header.trim()) * 1000);
  return hints.length > 0 ? hints.reduce((longest, hint) => Math.max(longest, hint)) : undefined;
}

function toTransportError(error: unknown, timeoutMs: number, pastDeadline: boolean): RevenueCatError {
  const code = error instanceof AxiosError ? error.code : undefined;
  if (code === AxiosError.ERR_BAD_RESPONSE && (error as AxiosError).message.includes('maxContentLength')) {
    // Not retried: the same upstream would send the same oversized answer.
    return new RevenueCatError('bad_response', undefined, `answer larger than ${MAX_ANSWER_BYTES} bytes`);
  }
  if (code === AxiosError.ETIMEDOUT || (code === AxiosError.ERR_CANCELED && pastDeadline)) {
    return new RevenueCatError('timeout', undefined, `no answer within ${timeoutMs} ms`);
  }
  return new RevenueCatError('network_error', undefined, code ?? 'connection failed');
}

function toList<T>(body: unknown, toItem: (raw: unknown) => T, endpoint: string): { items: T[]; nextPage?: string } {
  if (!isRecord(body) || !Array.isArray(body.items)) {
    throw new RevenueCatError('bad_response', 200, `${endpoint} answered without an items list`);
  }
  const nextPage = typeof body.next_page === 'string' && body.next_page !== '' ? body.next_page : undefined;
  return { items: body.items.map(toItem), nextPage };
}

function toCurrency(raw: unknown): VirtualCurrency {
  if (!isRecord(raw) || !isCurrencyCode(raw.code) || typeof raw.name !== 'string') {
    throw new RevenueCatError('bad_response', 200, 'a virtual currency without a valid code or a name');
  }
  const grants = Array.isArray(raw.product_grants) ? raw.product_grants : [];
  return {
    code: raw.code,
    name: truncateText(raw.name, MAX_CURRENCY_NAME),
    description: typeof raw.description === 'string' ? truncateText(raw.description, MAX_CURRENCY_DESCRIPTION) : null,
    productGrants: grants.filter(isRecord).map(toProductGrant),
  };
}

function toProductGrant(raw: Record<string, unknown>): ProductGrant {
  return {
    productIds: Array.isArray(raw.product_ids) ? raw.product_ids.filter((id): id is string => typeof id === 'string') : [],
    amount: Number.isSafeInteger(raw.amount) ? (raw.amount as number) : 0,
    trialAmount: Number.isSafeInteger(raw.trial_amount) ? (raw.trial_amount as number) : null,
    expireAtCycleEnd: typeof raw.expire_at_cycle_end === 'boolean' ? raw.expire_at_cycle_end : null,
  };
}

function toBalance(raw: unknown): Balance {
  if (!isRecord(raw) || !isCurrencyCode(raw.currency_code) || !Number.isSafeInteger(raw.balance)) {
    throw new RevenueCatError('bad_response', 200, 'a balance without a valid currency_code or an integer balance');
  }
  return {
    currency: raw.currency_code,
    name: typeof raw.name === 'string' ? truncateText(raw.name, MAX_CURRENCY_NAME) : null,
    balance: raw.balance as number,
  };
}

function isCurrencyCode(value: unknown): value is string {
  return typeof value === 'string' && CURRENCY_CODE.test(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
