import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
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

/** Opens the request's scope: everything after it on the route, Apollo included, runs inside. */
@Injectable()
export class RequestScopeMiddleware implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    runInRequestScope(req.id, () => next());
  }
}
