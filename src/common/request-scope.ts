import { storage, type Store } from 'nestjs-pino/storage';
import type { Logger } from 'pino';

/**
 * The request being served, wherever its handling goes next: its id, and its logger, made on first use.
 * Apollo formats some errors (a batch, an empty body, malformed variables, CSRF) before any context or
 * plugin sees the request, so the error formatter finds the id here rather than on a context it may not get.
 *
 * It lives in nestjs-pino's AsyncLocalStorage, whose PinoLogger reads `logger` from the store, so a line
 * written while serving a request carries the request's id. One storage for both: each storage is
 * copied onto every promise and async resource the request creates, so a second one costs every request.
 */
export class RequestScope {
  private requestLogger?: Logger;
  /** What nestjs-pino's PinoLogger.assign updates besides `logger`; no completion logger here. */
  readonly responseLogger = undefined;

  constructor(
    readonly requestId: string,
    private readonly rootLogger: Logger,
  ) {}

  /** A child logger carrying `requestId`, made the first time a line is written while serving the request. */
  get logger(): Logger {
    return (this.requestLogger ??= this.rootLogger.child({ requestId: this.requestId }));
  }

  /** PinoLogger.assign replaces it with a child carrying more fields. */
  set logger(logger: Logger) {
    this.requestLogger = logger;
  }
}

/** Runs `work` (the rest of the request's handling) inside `scope`. */
export function runInRequestScope<T>(scope: RequestScope, work: () => T): T {
  return storage.run(scope as unknown as Store, work);
}

export function currentRequestId(): string | undefined {
  const scope: unknown = storage.getStore();
  return scope instanceof RequestScope ? scope.requestId : undefined;
}
