import { Injectable, NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminAuthMiddleware } from '../auth/admin-auth.middleware';
import { Errors } from '../common/errors';
import { onClosingConnection, refuseRequest } from '../common/http-error-response';
import { Metrics } from '../metrics/metrics';
import { DrainGateMiddleware } from '../lifecycle/drain-gate.middleware';
import { JsonBodyMiddleware } from './json-body.middleware';

/**
 * What every /graphql request goes through before Apollo, in this order: refused with a missing or malformed
 * Host, refused while shutting down,
 * authenticated before its body is read, its body read within bounds. One middleware for Nest to mount
 * rather than three: Nest wraps each middleware it mounts in a route of its own and a per-request
 * WeakSet entry, which cost more than the drain check itself.
 */
@Injectable()
export class GraphqlGateMiddleware implements NestMiddleware {
  constructor(
    private readonly drainGate: DrainGateMiddleware,
    private readonly auth: AdminAuthMiddleware,
    private readonly body: JsonBodyMiddleware,
    private readonly metrics: Metrics,
  ) {}

  use(req: IncomingMessage, res: ServerResponse<IncomingMessage>, next: (error?: unknown) => void): void {
    // Apollo's Fastify integration builds a URL from the Host header and fails (500) on one that is missing
    // (HTTP/1.0) or not a host at all: a malformed request, answered as one before anything else.
    if (!validHost(req.headers.host)) return refuseRequest(res, Errors.badRequest('the Host header is missing or not a valid host'), this.metrics.requestsRefused);
    // Pipelined behind a request refused with `Connection: close`: its answer could not be delivered.
    if (onClosingConnection(req)) return refuseRequest(res, Errors.badRequest('sent on a connection that is closing'), this.metrics.requestsRefused);
    this.drainGate.use(req, res, (error?: unknown) => {
      if (error) return next(error);
      this.auth.use(req, res, (error?: unknown) => {
        if (error) return next(error);
        this.body.use(req, res, next);
      });
    });
  }
}

/**
 * A host name or an IPv6 literal, and an optional port: what Fastify's `request.hostname` (the Host header up
 * to its port) turns into a URL Apollo's integration can parse. No userinfo, path or percent sign: `[@x` or
 * `:80@x` parse as URLs on their own, yet leave Fastify a host name that does not.
 */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=-]+)(:[0-9]{1,5})?$/;

function validHost(host: string | undefined): boolean {
  return host !== undefined && HOST.test(host) && URL.canParse(`http://${host}/`);
}
