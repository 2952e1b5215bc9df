import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<string>();

/**
 * The id of the request being served, wherever its handling goes next. Apollo formats some errors
 * (a batch, an empty body, malformed variables, CSRF) before any context or plugin sees the request,
 * so the error formatter finds the id here rather than on a context it may not get.
 */
export function runInRequestScope<T>(requestId: unknown, work: () => T): T {
  return typeof requestId === 'string' ? scope.run(requestId, work) : work();
}

export function currentRequestId(): string | undefined {
  return scope.getStore();
}
