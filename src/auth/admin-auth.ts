import { Injectable } from '@nestjs/common';
import accepts from 'accepts';
import type { FastifyRequest } from 'fastify';
import { AdminAuthenticator, type AdminPrincipal } from './admin-authenticator';

export interface AuthenticatedRequest extends FastifyRequest {
  principal?: AdminPrincipal;
}

/**
 * Authenticates `/graphql` before Apollo parses or validates anything (GraphqlHttpGate runs it in Fastify's
 * `onRequest`), so an unauthenticated caller learns nothing about the schema: not through introspection,
 * not through "Did you mean" hints. The one exception is the Apollo Sandbox page (see
 * isLandingPageRequest), which executes nothing.
 */
@Injectable()
export class AdminAuth {
  constructor(private readonly authenticator: AdminAuthenticator) {}

  /**
   * The request's credential, or throws the catalogue's refusal; undefined for the Sandbox page. The root
   * secrets are answered at once, an operator token is a cached lookup (a promise).
   */
  authenticate(request: FastifyRequest): AdminPrincipal | Promise<AdminPrincipal> | undefined {
    if (isLandingPageRequest(request)) return undefined;
    return this.authenticator.authenticate(request.headers.authorization);
  }
}

/**
 * Apollo's own media types, in the order its `prefersHTML` negotiates them (ApolloServer.ts, Apollo
 * Server 5); `accepts` (Express's `req.accepts`) runs the same `negotiator` over them, so both sides agree on "prefers HTML".
 */
const APOLLO_NEGOTIATED_TYPES = [
  'application/json; charset=utf-8',
  'application/graphql-response+json; charset=utf-8',
  'multipart/mixed; deferSpec=20220824',
  'multipart/mixed; incrementalSpec=v0.2',
  'multipart/mixed',
  'text/html',
];

/** What carries an operation over GET (Apollo reads these from the query string; `extensions` holds a persisted query). */
const OPERATION_PARAMETERS = ['query', 'extensions', 'variables', 'operationName'];

/**
 * The one place that decides "page or operation": the page is a GET carrying no operation parameter
 * that prefers HTML the way Apollo negotiates it. Everything else is an operation and authenticates.
 * Requiring no operation parameter keeps this safe whatever Apollo's negotiation does: a request let
 * through as a page has nothing Apollo could execute.
 */
export function isLandingPageRequest(request: FastifyRequest): boolean {
  if (request.method !== 'GET' || !request.headers.accept) return false;
  const url = request.raw.url ?? '';
  const queryStart = url.indexOf('?');
  if (queryStart >= 0) {
    // Everything after '?', fragment included: reading more than Apollo does can only make this stricter.
    const parameters = new URLSearchParams(url.slice(queryStart + 1));
    if (OPERATION_PARAMETERS.some((name) => parameters.has(name))) return false;
  }
  return accepts(request.raw).type(APOLLO_NEGOTIATED_TYPES) === 'text/html';
}
