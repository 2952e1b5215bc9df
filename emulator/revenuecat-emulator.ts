import { createServer, IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { isRetryableStatus } from '../src/revenuecat/retryable-errors';
import { handleControlRequest, EmulatorControls } from './emulator-control';
import {
  DEFAULT_BACKOFF_MS,
  EmulatorAnswer,
  errorAnswer,
  errorTypeForStatus,
  jsonAnswer,
} from './emulator-errors';
import {
  ApiRoute,
  checkBearer,
  decodeSegment,
  EMULATOR_ENDPOINTS,
  ENDPOINT_DOMAINS,
  isJsonContentType,
  isPlainObject,
  matchApiRoute,
  MAX_BODY_BYTES,
  ParsedJson,
  parseJson,
  readBody,
  RequestBody,
  singleHeader,
} from './emulator-http';
import { EmulatorIdempotencyStore } from './emulator-idempotency';
import { customerIdLengthProblem, EmulatorLedger, MAX_BALANCE } from './emulator-ledger';
import { DEFAULT_RATE_LIMITS, FixedWindowRateLimiter } from './emulator-rate-limiter';
import { SEED_CURRENCIES, SEED_CUSTOMERS } from './emulator-seed';
import {
  balancesPath,
  balanceToWire,
  canonicalJson,
  currencyToWire,
  listToWire,
  PageEntry,
  parsePageLimit,
  projectPath,
  takePage,
  WireBalance,
  WireList,
} from './emulator-wire';
import {
  EmulatorCurrency,
  EmulatorEndpoint,
  EmulatorFault,
  EmulatorTransaction,
  RateLimitDomain,
  RecordedRequest,
  RevenueCatEmulatorOptions,
} from './emulator.types';

export * from './emulator.types';

export const EMULATOR_DEFAULT_API_KEY = 'sk_emulator_0000000000000000';
export const EMULATOR_DEFAULT_PROJECT_ID = 'proj_emulator';

const CONTROL_PREFIX = '/_emulator/';
/** setTimeout fires at once for anything longer, which would turn a "hang forever" fault into no delay. */
const MAX_TIMER_MS = 2_147_483_647;
/** RevenueCat's own lock backoff is short; a retrying client should come back quickly. */
const LOCK_BACKOFF_MS = 100;

interface ActiveFault {
  fault: EmulatorFault;
  remaining: number;
}

interface PendingDelay {
  timer: NodeJS.Timeout;
  resolve: (completed: boolean) => void;
}

interface RouteParams {
  customerId?: string;
}

type IncludeEmpty = { given: boolean; value: boolean };

type Reply = (answer: EmulatorAnswer, headers?: Record<string, string>) => void;

export class RevenueCatEmulator {
  readonly apiKey: string;
  readonly projectId: string;
  readonly requests: RecordedRequest[] = [];
  readonly transactions: EmulatorTransaction[] = [];

  private readonly now: () => number;
  private readonly seedOnReset: boolean;
  private readonly recording: boolean;
  private readonly expectedKey: Buffer;
  private readonly ledger: EmulatorLedger;
  private readonly idempotency: EmulatorIdempotencyStore;
  private readonly rateLimiter: FixedWindowRateLimiter;
  private readonly endpointCounts = new Map<EmulatorEndpoint | 'unknown', number>();
  private readonly pendingDelays = new Set<PendingDelay>();
  private readonly controls: EmulatorControls;
  private faults: ActiveFault[] = [];
  private transactionCount = 0;
  private server?: Server;
  private listeningUrl?: string;

  constructor(options: RevenueCatEmulatorOptions = {}) {
    this.apiKey = options.apiKey ?? EMULATOR_DEFAULT_API_KEY;
    this.projectId = options.projectId ?? EMULATOR_DEFAULT_PROJECT_ID;
    if (!this.apiKey) throw new Error('The emulator API key must not be empty');
    if (!this.projectId) throw new Error('The emulator project id must not be empty');
    this.now = options.now ?? Date.now;
    this.seedOnReset = options.seed ?? true;
    this.recording = options.record ?? true;
    this.expectedKey = Buffer.from(this.apiKey);
    this.ledger = new EmulatorLedger(this.now);
    this.idempotency = new EmulatorIdempotencyStore(this.now);
    this.rateLimiter = new FixedWindowRateLimiter(resolveRateLimits(options.rateLimits), this.now);
    this.controls = {
      reset: () => this.reset(),
      addCustomer: (id, balances) => this.addCustomer(id, balances),
      addCurrency: (currency) => this.addCurrency(currency),
      injectFault: (fault) => this.injectFault(fault),
      clearFaults: () => this.clearFaults(),
      customerBalances: (id) => {
        const balances = this.ledger.balancesOf(id);
        return balances ? Object.fromEntries(balances) : undefined;
      },
      stats: () => this.stats(),
    };
    if (this.seedOnReset) this.seed();
  }

  listen(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) return Promise.reject(new Error('The emulator is already listening'));
    const server = createServer((req, res) => this.onRequest(req, res));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error) => {
        this.server = undefined;
        reject(error);
      });
      server.listen(port, host, () => {
        const address = server.address() as AddressInfo;
        const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        this.listeningUrl = `http://${hostPart}:${address.port}/v2`;
        resolve(this.listeningUrl);
      });
    });
  }

  get baseUrl(): string {
    if (!this.listeningUrl) throw new Error('The emulator is not listening; call listen() first');
    return this.listeningUrl;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.listeningUrl = undefined;
    this.cancelDelays();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Without this, idle keep-alive sockets hold close() open until their timeout.
      server.closeAllConnections();
    });
  }

  reset(): void {
    this.cancelDelays();
    this.ledger.clear();
    if (this.seedOnReset) this.seed();
    this.faults = [];
    this.requests.length = 0;
    this.transactions.length = 0;
    this.transactionCount = 0;
    this.endpointCounts.clear();
    this.idempotency.clear();
    this.rateLimiter.clear();
  }

  addCurrency(currency: EmulatorCurrency): void {
    this.ledger.addCurrency(currency);
  }

  setCurrencies(currencies: EmulatorCurrency[]): void {
    this.ledger.setCurrencies(currencies);
  }

  addCustomer(id: string, balances?: Record<string, number>): void {
    this.ledger.addCustomer(id, balances);
  }

  hasCustomer(id: string): boolean {
    return this.ledger.hasCustomer(id);
  }

  balanceOf(customerId: string, code: string): number {
    const balances = this.ledger.balancesOf(customerId);
    if (!balances) throw new Error(`Unknown emulator customer ${customerId}`);
    return balances.get(code) ?? 0;
  }

  injectFault(fault: EmulatorFault): void {
    if (fault === null || typeof fault !== 'object') throw new Error('A fault must be an object');
    if (fault.endpoint !== undefined && !EMULATOR_ENDPOINTS.includes(fault.endpoint)) {
      throw new Error(`Unknown endpoint ${String(fault.endpoint)}; expected one of ${EMULATOR_ENDPOINTS.join(', ')}`);
    }
    const count = fault.count ?? 1;
    if (count !== Infinity && !(Number.isInteger(count) && count >= 1)) {
      throw new Error('Fault count must be a positive integer or Infinity');
    }
    if (fault.status !== undefined && !(Number.isInteger(fault.status) && fault.status >= 100 && fault.status <= 599)) {
      throw new Error('Fault status must be an HTTP status code');
    }
    if (fault.latencyMs !== undefined && !(typeof fault.latencyMs === 'number' && fault.latencyMs >= 0)) {
      throw new Error('Fault latencyMs must be a non-negative number');
    }
    if (fault.rawBody !== undefined && typeof fault.rawBody !== 'string') {
      throw new Error('Fault rawBody must be a string');
    }
    this.faults.push({ fault: { ...fault }, remaining: count });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Per-customer counts come from `requests`, so they are 0 when recording is off. */
  count(endpoint: EmulatorEndpoint, customerId?: string): number {
    if (customerId === undefined) return this.endpointCounts.get(endpoint) ?? 0;
    return this.requests.filter((r) => r.endpoint === endpoint && r.customerId === customerId).length;
  }

  private stats(): { requests: Record<EmulatorEndpoint | 'unknown', number>; transactions: number } {
    const requests = {} as Record<EmulatorEndpoint | 'unknown', number>;
    for (const endpoint of [...EMULATOR_ENDPOINTS, 'unknown' as const]) {
      requests[endpoint] = this.endpointCounts.get(endpoint) ?? 0;
    }
    return { requests, transactions: this.transactionCount };
  }

  private seed(): void {
    this.ledger.setCurrencies([...SEED_CURRENCIES]);
    for (const customer of SEED_CUSTOMERS) this.ledger.addCustomer(customer.id, customer.balances);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch(() => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      this.write(res, errorAnswer(500, 'server_error', 'The emulator failed to handle the request', { retryable: true }));
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const queryStart = target.indexOf('?');
    const path = queryStart === -1 ? target : target.slice(0, queryStart);
    const body = await readBody(req);
    if (path.startsWith(CONTROL_PREFIX)) {
      this.handleControl(req, res, path, body);
      return;
    }
    const query = new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1));
    await this.handleApi(req, res, target, path, query, body);
  }

  private handleControl(req: IncomingMessage, res: ServerResponse, path: string, body: RequestBody): void {
    const auth = checkBearer(req.headers.authorization, this.expectedKey);
    let answer: EmulatorAnswer;
    if (auth !== 'ok') answer = authErrorAnswer(auth);
    else if (body.tooLarge) answer = bodyTooLargeAnswer();
    else answer = handleControlRequest(this.controls, req.method ?? 'GET', path, body.text);
    this.write(res, answer, undefined, body.truncated);
  }

  private async handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    path: string,
    query: URLSearchParams,
    body: RequestBody,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const route = matchApiRoute(method, path);
    const endpoint = route?.endpoint ?? 'unknown';
    this.endpointCounts.set(endpoint, (this.endpointCounts.get(endpoint) ?? 0) + 1);
    const parsed: ParsedJson = body.text ? parseJson(body.text) : { ok: false };
    const idempotencyKey = singleHeader(req.headers['idempotency-key']) || undefined;
    const recorded = this.recording ? this.recordRequest(endpoint, method, target, idempotencyKey, body, parsed) : undefined;
    const reply: Reply = (answer, headers) => {
      if (recorded) {
        recorded.status = answer.status;
        recorded.replayed = answer.replayed === true;
      }
      this.write(res, answer, headers, body.truncated);
    };

    const auth = checkBearer(req.headers.authorization, this.expectedKey);
    if (!route) {
      reply(auth === 'ok' ? errorAnswer(404, 'resource_missing', 'Resource not found') : authErrorAnswer(auth));
      return;
    }
    const domain = ENDPOINT_DOMAINS[route.endpoint];
    if (auth !== 'ok') {
      // Unauthenticated calls do not spend the project's allowance, but still show it.
      reply(authErrorAnswer(auth), FixedWindowRateLimiter.headers(this.rateLimiter.peek(domain)));
      return;
    }
    const usage = this.rateLimiter.hit(domain);
    const rateHeaders = FixedWindowRateLimiter.headers(usage);
    if (!usage.allowed) {
      reply(
        errorAnswer(429, 'rate_limit_error', `Rate limit of ${usage.limit} requests per minute exceeded`, {
          retryable: true,
          backoffMs: usage.retryAfterSeconds * 1000,
          headers: { 'Retry-After': String(usage.retryAfterSeconds) },
        }),
        rateHeaders,
      );
      return;
    }
    const params = this.resolveParams(route);
    if ('error' in params) {
      reply(params.error, rateHeaders);
      return;
    }
    if (recorded && params.customerId !== undefined) recorded.customerId = params.customerId;
    if (body.tooLarge) {
      reply(bodyTooLargeAnswer(), rateHeaders);
      return;
    }

    const fault = this.takeFault(route.endpoint, params.customerId);
    const respond: Reply = (answer) => reply(answer, rateHeaders);
    switch (route.endpoint) {
      case 'list_currencies':
        return this.answerWithFault(res, respond, fault, () => this.listCurrencies(query));
      case 'list_balances':
        return this.answerWithFault(res, respond, fault, () => this.listBalances(params.customerId as string, query));
      case 'create_transaction': {
        const customerId = params.customerId as string;
        const execute = () => this.applyAdjustments(customerId, query, req.headers['content-type'], parsed, idempotencyKey);
        const fingerprint = JSON.stringify([
          method,
          route.endpoint,
          customerId,
          parsed.ok ? canonicalJson(parsed.value) : body.text,
        ]);
        return this.answerMutation(res, respond, fault, idempotencyKey, fingerprint, execute);
      }
    }
  }

  /** The key is reserved before any injected latency, so a concurrent retry sees the lock. */
  private async answerMutation(
    res: ServerResponse,
    respond: Reply,
    fault: EmulatorFault | undefined,
    key: string | undefined,
    fingerprint: string,
    execute: () => EmulatorAnswer,
  ): Promise<void> {
    let settled: EmulatorAnswer | undefined;
    let claimed = false;
    if (key !== undefined) {
      const claim = this.idempotency.claim(key, fingerprint);
      if (claim.kind === 'replay') {
        settled = { ...claim.response, replayed: true, headers: { 'RevenueCat-Idempotent-Replayed': 'true' } };
      } else if (claim.kind === 'conflict') {
        settled = errorAnswer(409, 'idempotency_error', 'Idempotency key already used for a different request');
      } else if (claim.kind === 'in_progress') {
        settled = errorAnswer(423, 'resource_locked_error', 'A request with this idempotency key is still being processed', {
          retryable: true,
          backoffMs: LOCK_BACKOFF_MS,
        });
      } else {
        claimed = true;
      }
    }
    const run = (): EmulatorAnswer => {
      if (settled) return settled;
      settled = execute();
      if (claimed && key !== undefined) {
        if (isRetryableStatus(settled.status)) this.idempotency.release(key);
        else this.idempotency.complete(key, fingerprint, { status: settled.status, body: settled.body });
      }
      return settled;
    };
    const abandon = () => {
      if (claimed && key !== undefined) this.idempotency.release(key);
    };
    await this.answerWithFault(res, respond, fault, run, abandon);
  }

  private async answerWithFault(
    res: ServerResponse,
    respond: Reply,
    fault: EmulatorFault | undefined,
    compute: () => EmulatorAnswer,
    abandon: () => void = () => undefined,
  ): Promise<void> {
    if (!fault) {
      respond(compute());
      return;
    }
    const applied = fault.applyFirst ? compute() : undefined;
    if (fault.latencyMs) {
      // A cancelled wait means reset() or close(): the state it would touch is gone, so just drop the request.
      if (!(await this.delay(fault.latencyMs))) {
        res.destroy();
        return;
      }
    }
    if (fault.destroySocket) {
      if (!applied) abandon();
      res.destroy();
      return;
    }
    const injected = injectedAnswer(fault);
    if (injected) {
      if (!applied) abandon();
      respond(injected);
      return;
    }
    respond(applied ?? compute());
  }

  private listCurrencies(query: URLSearchParams): EmulatorAnswer {
    const limit = parsePageLimit(query.get('limit'));
    const after = this.cursorPosition(query.get('starting_after'));
    if (typeof after !== 'number') return after;
    const entries = this.ledger.listCurrencies().map((currency, position) => ({ position, code: currency.code, item: currency }));
    const page = takePage(entries, after, limit);
    const items = page.items.map((currency) => currencyToWire(this.projectId, currency));
    const url = `${projectPath(this.projectId)}/virtual_currencies`;
    return jsonAnswer(
      200,
      listToWire(url, { items, continueAfter: page.continueAfter }, (code) => cursorQuery(code, limit)),
    );
  }

  private listBalances(customerId: string, query: URLSearchParams): EmulatorAnswer {
    const includeEmpty = parseIncludeEmpty(query.get('include_empty_balances'));
    if ('status' in includeEmpty) return includeEmpty;
    const limit = parsePageLimit(query.get('limit'));
    const after = this.cursorPosition(query.get('starting_after'));
    if (typeof after !== 'number') return after;
    if (!this.ledger.hasCustomer(customerId)) return customerNotFoundAnswer();
    const page = takePage(this.balanceEntries(customerId, includeEmpty.value), after, limit);
    const includePart = includeEmpty.given ? `include_empty_balances=${includeEmpty.value}&` : '';
    return jsonAnswer(
      200,
      listToWire(balancesPath(this.projectId, customerId), page, (code) => includePart + cursorQuery(code, limit)),
    );
  }

  private applyAdjustments(
    customerId: string,
    query: URLSearchParams,
    contentType: string | undefined,
    parsed: ParsedJson,
    idempotencyKey: string | undefined,
  ): EmulatorAnswer {
    const includeEmpty = parseIncludeEmpty(query.get('include_empty_balances'));
    if ('status' in includeEmpty) return includeEmpty;
    if (!isJsonContentType(contentType)) {
      return errorAnswer(400, 'invalid_request', 'Content-Type must be application/json');
    }
    if (!parsed.ok || !isPlainObject(parsed.value)) {
      return errorAnswer(400, 'invalid_request', 'The request body must be a JSON object');
    }
    const input = parseAdjustmentBody(parsed.value);
    if ('status' in input) return input;

    const outcome = this.ledger.adjust(customerId, input.adjustments);
    if (!outcome.ok) {
      switch (outcome.reason) {
        case 'unknown_customer':
          return customerNotFoundAnswer();
        case 'unknown_currency':
          return errorAnswer(400, 'parameter_error', `Virtual currency ${outcome.code} is not configured in this project`, {
            param: 'adjustments',
          });
        case 'insufficient_balance':
          return errorAnswer(
            422,
            'unprocessable_entity_error',
            `Insufficient balance for virtual currency ${outcome.code}: the balance is ${outcome.balance}`,
          );
        case 'balance_limit_exceeded':
          return errorAnswer(
            422,
            'unprocessable_entity_error',
            `The balance of virtual currency ${outcome.code} cannot exceed ${MAX_BALANCE}`,
          );
      }
    }
    this.recordTransaction(customerId, input, idempotencyKey);
    return jsonAnswer(200, this.balanceList(customerId, includeEmpty.value));
  }

  private recordTransaction(customerId: string, input: AdjustmentInput, idempotencyKey: string | undefined): void {
    this.transactionCount += 1;
    if (!this.recording) return;
    const transaction: EmulatorTransaction = {
      id: `vctx_${String(this.transactionCount).padStart(6, '0')}`,
      customerId,
      adjustments: Object.fromEntries(input.adjustments),
      reference: input.reference,
      at: this.now(),
    };
    if (idempotencyKey !== undefined) transaction.idempotencyKey = idempotencyKey;
    this.transactions.push(transaction);
  }

  private balanceList(customerId: string, includeEmpty: boolean): WireList<WireBalance> {
    const items = this.balanceEntries(customerId, includeEmpty).map((entry) => entry.item);
    return { object: 'list', items, next_page: null, url: balancesPath(this.projectId, customerId) };
  }

  private balanceEntries(customerId: string, includeEmpty: boolean): PageEntry<WireBalance>[] {
    const balances = this.ledger.balancesOf(customerId);
    const entries: PageEntry<WireBalance>[] = [];
    this.ledger.listCurrencies().forEach((currency, position) => {
      const balance = balances?.get(currency.code) ?? 0;
      if (balance !== 0 || includeEmpty) {
        entries.push({ position, code: currency.code, item: balanceToWire(currency, balance) });
      }
    });
    return entries;
  }

  /** `starting_after` names a project currency, so a cursor still works when that balance has since become 0. */
  private cursorPosition(startingAfter: string | null): number | EmulatorAnswer {
    if (startingAfter === null) return -1;
    const position = this.ledger.position(startingAfter);
    if (position === undefined) {
      return errorAnswer(400, 'parameter_error', 'starting_after must be the code of a virtual currency in this project', {
        param: 'starting_after',
      });
    }
    return position;
  }

  private resolveParams(route: ApiRoute): RouteParams | { error: EmulatorAnswer } {
    if (decodeSegment(route.projectSegment) !== this.projectId) {
      return { error: errorAnswer(404, 'resource_missing', 'Project not found') };
    }
    const params: RouteParams = {};
    if (route.customerSegment !== undefined) {
      const customerId = decodeSegment(route.customerSegment);
      if (customerId === undefined) {
        return {
          error: errorAnswer(400, 'parameter_error', 'customer_id is not valid URL encoding', { param: 'customer_id' }),
        };
      }
      const problem = customerIdLengthProblem(customerId);
      if (problem) return { error: errorAnswer(400, 'parameter_error', problem, { param: 'customer_id' }) };
      params.customerId = customerId;
    }
    return params;
  }

  private takeFault(endpoint: EmulatorEndpoint, customerId: string | undefined): EmulatorFault | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const active = this.faults[i];
      if (active.fault.endpoint !== undefined && active.fault.endpoint !== endpoint) continue;
      if (active.fault.customerId !== undefined && active.fault.customerId !== customerId) continue;
      active.remaining -= 1;
      if (active.remaining <= 0) this.faults.splice(i, 1);
      return active.fault;
    }
    return undefined;
  }

  private recordRequest(
    endpoint: EmulatorEndpoint | 'unknown',
    method: string,
    target: string,
    idempotencyKey: string | undefined,
    body: RequestBody,
    parsed: ParsedJson,
  ): RecordedRequest {
    const recorded: RecordedRequest = { endpoint, method, path: target, status: 0, replayed: false, at: this.now() };
    if (idempotencyKey !== undefined) recorded.idempotencyKey = idempotencyKey;
    if (body.text) recorded.body = parsed.ok ? parsed.value : body.text;
    this.requests.push(recorded);
    return recorded;
  }

  private delay(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const pending: PendingDelay = {
        resolve,
        timer: setTimeout(() => {
          this.pendingDelays.delete(pending);
          resolve(true);
        }, Math.min(ms, MAX_TIMER_MS)),
      };
      this.pendingDelays.add(pending);
    });
  }

  private cancelDelays(): void {
    for (const pending of this.pendingDelays) {
      clearTimeout(pending.timer);
      pending.resolve(false);
    }
    this.pendingDelays.clear();
  }

  private write(
    res: ServerResponse,
    answer: EmulatorAnswer,
    headers?: Record<string, string>,
    closeConnection = false,
  ): void {
    if (res.destroyed) return;
    const all: OutgoingHttpHeaders = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(answer.body),
      ...headers,
      ...answer.headers,
    };
    // The rest of a cut-off upload is still arriving; closing is the only way to stop it.
    if (closeConnection) all.Connection = 'close';
    res.writeHead(answer.status, all);
    res.end(answer.body);
  }
}

interface AdjustmentInput {
  adjustments: Array<[string, number]>;
  reference: string | null;
}

function parseAdjustmentBody(body: Record<string, unknown>): AdjustmentInput | EmulatorAnswer {
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

function parseIncludeEmpty(raw: string | null): IncludeEmpty | EmulatorAnswer {
  if (raw === null) return { given: false, value: false };
  const normalized = raw.toLowerCase();
  if (normalized === 'true') return { given: true, value: true };
  if (normalized === 'false') return { given: true, value: false };
  return errorAnswer(400, 'parameter_error', 'include_empty_balances must be true or false', {
    param: 'include_empty_balances',
  });
}

function cursorQuery(code: string, limit: number): string {
  return `starting_after=${encodeURIComponent(code)}&limit=${limit}`;
}

function customerNotFoundAnswer(): EmulatorAnswer {
  return errorAnswer(404, 'resource_missing', 'Customer not found', { param: 'customer_id' });
}

function bodyTooLargeAnswer(): EmulatorAnswer {
  return errorAnswer(400, 'invalid_request', `The request body exceeds ${MAX_BODY_BYTES} bytes`);
}

function authErrorAnswer(check: 'missing' | 'invalid'): EmulatorAnswer {
  return errorAnswer(
    401,
    'authentication_error',
    check === 'missing' ? 'Missing API key: send Authorization: Bearer <secret key>' : 'Invalid API key',
  );
}

function injectedAnswer(fault: EmulatorFault): EmulatorAnswer | undefined {
  if (fault.rawBody !== undefined) return { status: fault.status ?? 200, body: fault.rawBody };
  if (fault.status === undefined) return undefined;
  const status = fault.status;
  const type = fault.type ?? errorTypeForStatus(status);
  const retryable = fault.retryable ?? isRetryableStatus(status);
  const backoffMs = fault.backoffMs ?? DEFAULT_BACKOFF_MS;
  const retryAfter = fault.retryAfterSeconds ?? (status === 429 ? Math.max(1, Math.ceil(backoffMs / 1000)) : undefined);
  return errorAnswer(status, type, fault.message ?? `Injected ${type} (emulator fault)`, {
    retryable,
    backoffMs,
    headers: retryAfter === undefined ? undefined : { 'Retry-After': String(retryAfter) },
  });
}

function resolveRateLimits(
  overrides: Partial<Record<RateLimitDomain, number>> | undefined,
): Record<RateLimitDomain, number> {
  const limits = { ...DEFAULT_RATE_LIMITS };
  for (const [domain, limit] of Object.entries(overrides ?? {}) as Array<[RateLimitDomain, number | undefined]>) {
    if (limit === undefined) continue;
    if (!(domain in limits)) throw new Error(`Unknown rate-limit domain ${domain}`);
    if (typeof limit !== 'number' || Number.isNaN(limit) || limit < 0) {
      throw new Error(`Rate limit for ${domain} must be a non-negative number or Infinity`);
    }
    limits[domain] = limit;
  }
  return limits;
}
