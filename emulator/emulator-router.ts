import { IncomingMessage, ServerResponse } from 'node:http';
import { authErrorAnswer, checkBearer } from './emulator-auth';
import { EmulatorControls, handleControlRequest } from './emulator-control';
import { EmulatorAnswer, errorAnswer, PendingAnswer } from './emulator-errors';
import { FaultInjector } from './emulator-faults';
import { bodyTooLargeAnswer, ParsedJson, parseJson, readBody, RequestBody, singleHeader, writeAnswer } from './emulator-http';
import { EmulatorIdempotencyStore, requestFingerprint } from './emulator-idempotency';
import { FixedWindowRateLimiter, rateLimitedAnswer } from './emulator-rate-limiter';
import { matchApiRoute, resolvePathIds } from './emulator-routes';
import { Endpoint, EndpointContext, EndpointRequest } from './endpoints/endpoint';

const CONTROL_PREFIX = '/_emulator/';

/**
 * One HTTP request through the emulator. The API in RevenueCat's order: count and record it, bearer
 * check, rate limit, path ids, body size, then the endpoint's answer behind its idempotency key and any
 * injected fault. `/_emulator/...` is the control API: same key, neither counted nor rate limited.
 */
export class EmulatorRouter {
  constructor(
    private readonly context: EndpointContext,
    private readonly apiKey: Buffer,
    private readonly rateLimiter: FixedWindowRateLimiter,
    private readonly idempotency: EmulatorIdempotencyStore,
    private readonly faults: FaultInjector,
    private readonly controls: EmulatorControls,
  ) {}

  onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch(() => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const failed = errorAnswer(500, 'server_error', 'The emulator failed to handle the request', { retryable: true });
      writeAnswer(res, failed);
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
    const auth = checkBearer(req.headers.authorization, this.apiKey);
    let answer: EmulatorAnswer;
    if (auth !== 'ok') answer = authErrorAnswer(auth);
    else if (body.tooLarge) answer = bodyTooLargeAnswer();
    else answer = handleControlRequest(this.controls, req.method ?? 'GET', path, body.text);
    writeAnswer(res, answer, undefined, body.truncated);
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, target: string, path: string, query: URLSearchParams, body: RequestBody): Promise<void> {
    const method = req.method ?? 'GET';
    const route = matchApiRoute(method, path);
    const parsed: ParsedJson = body.text ? parseJson(body.text) : { ok: false };
    const idempotencyKey = singleHeader(req.headers['idempotency-key']) || undefined;
    const { recorder } = this.context;
    const endpointName = route?.endpoint.name ?? 'unknown';
    const traceparent = singleHeader(req.headers.traceparent) || undefined;
    const recorded = recorder.request({ endpoint: endpointName, method, target, idempotencyKey, traceparent, body, parsed });
    const reply = (answer: EmulatorAnswer, headers?: Record<string, string>) => {
      recorder.answered(recorded, answer);
      writeAnswer(res, answer, headers, body.truncated);
    };

    const auth = checkBearer(req.headers.authorization, this.apiKey);
    if (!route) {
      reply(auth === 'ok' ? errorAnswer(404, 'resource_missing', 'Resource not found') : authErrorAnswer(auth));
      return;
    }
    const { endpoint } = route;
    if (auth !== 'ok') {
      // Unauthenticated calls do not spend the project's allowance, but still show it.
      reply(authErrorAnswer(auth), FixedWindowRateLimiter.headers(this.rateLimiter.peek(endpoint.rateLimit)));
      return;
    }
    const usage = this.rateLimiter.hit(endpoint.rateLimit);
    const rateHeaders = FixedWindowRateLimiter.headers(usage);
    if (!usage.allowed) {
      reply(rateLimitedAnswer(usage), rateHeaders);
      return;
    }
    const ids = resolvePathIds(route, this.context.projectId);
    if ('error' in ids) {
      reply(ids.error, rateHeaders);
      return;
    }
    if (recorded && ids.customerId !== undefined) recorded.customerId = ids.customerId;
    if (body.tooLarge) {
      reply(bodyTooLargeAnswer(), rateHeaders);
      return;
    }

    const fault = this.faults.take(endpoint.name, ids.customerId);
    const request: EndpointRequest = {
      customerId: ids.customerId,
      query,
      contentType: req.headers['content-type'],
      body: parsed,
      idempotencyKey,
    };
    const pending = this.pendingAnswer(method, endpoint, request, body.text);
    await this.faults.apply(
      fault,
      pending,
      (answer) => reply(answer, rateHeaders),
      () => res.destroy(),
    );
  }

  private pendingAnswer(method: string, endpoint: Endpoint, request: EndpointRequest, bodyText: string): PendingAnswer {
    const compute = () => endpoint.answer(this.context, request);
    const key = request.idempotencyKey;
    if (!endpoint.idempotent || key === undefined) return { answer: compute, abandon: () => undefined };
    const fingerprint = requestFingerprint(method, endpoint.name, request.customerId, request.body, bodyText);
    return this.idempotency.guard(key, fingerprint, compute);
  }
}
