import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, preParsingHookHandler } from 'fastify';
import { AdminAuth, type AuthenticatedRequest } from '../auth/admin-auth';
import type { AdminPrincipal } from '../auth/admin-authenticator';
import { Errors } from '../common/errors';
import { GRAPHQL_PATH } from '../common/graphql-path';
import { onClosingConnection } from '../common/http-refusal';
import { Lifecycle } from '../lifecycle/lifecycle';
import { withRequestId } from './response-request-id';

/**
 * Hooks on Apollo's `/graphql` route, matched by route so that Fastify's router alone decides what is
 * Apollo's, and installed in onModuleInit, before Fastify binds hooks to routes. `onRequest` refuses and
 * authenticates before any byte of the body is read, through Fastify's error handler and Nest's filters;
 * `onSend` adds the request id to errors Apollo answers before any plugin runs (withRequestId).
 */
@Injectable()
export class GraphqlHttpGate implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly lifecycle: Lifecycle,
    private readonly auth: AdminAuth,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', this.onRequest);
    fastify.addHook('preParsing', this.preParsing);
    fastify.addHook('onSend', this.onSend);
  }

  private readonly onRequest = (request: AuthenticatedRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (request.routeOptions.url !== GRAPHQL_PATH) return done();
    // Apollo's Fastify integration builds a URL from the host (Host, or X-Forwarded-Host behind a trusted
    // proxy) and fails (500) on one that is missing (HTTP/1.0) or not a host at all.
    if (!validHost(request.host)) return done(Errors.badRequest('the Host header is missing or not a valid host'));
    // Pipelined behind a request refused with `Connection: close`: its answer could not be delivered.
    if (onClosingConnection(request)) return done(Errors.badRequest('sent on a connection that is closing'));
    if (this.lifecycle.draining) return done(Errors.shuttingDown());
    let principal: AdminPrincipal | Promise<AdminPrincipal> | undefined;
    try {
      principal = this.auth.authenticate(request);
    } catch (error) {
      return done(error as Error);
    }
    if (!(principal instanceof Promise)) {
      request.principal = principal;
      return done();
    }
    principal.then(
      (operator) => {
        request.principal = operator;
        done();
      },
      (error: Error) => done(error),
    );
  };

  /**
   * Fastify's JSON parser reads every body as UTF-8 whatever charset it declares; a body declared in
   * another charset would arrive garbled instead of refused.
   */
  private readonly preParsing: preParsingHookHandler = (request, _reply, payload, done) => {
    if (request.routeOptions.url !== GRAPHQL_PATH) return done(null, payload);
    const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return done(Errors.badRequest(`the body's charset must be utf-8, not ${charset.slice(0, 40)}`), undefined);
    }
    done(null, payload);
  };

  private readonly onSend = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void): void => {
    if (reply.statusCode < 400 || typeof payload !== 'string' || payload.includes('"requestId"') || request.routeOptions.url !== GRAPHQL_PATH) {
      return done(null, payload);
    }
    done(null, withRequestId(payload, request.id));
  };
}

/**
 * A host name or an IPv6 literal, and an optional port: what Apollo's integration can parse as a URL's
 * host. No userinfo, path or percent sign: `[@x` or `:80@x` parse as URLs on their own, yet leave Fastify a
 * host name that does not.
 */
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=-]+)(:[0-9]{1,5})?$/;

function validHost(host: string | undefined): boolean {
  return host !== undefined && HOST.test(host) && URL.canParse(`http://${host}/`);
}
