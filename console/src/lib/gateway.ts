import { createClient, type Client } from 'graphql-ws/client';
import type { TypedDocumentString } from '../gql/graphql';
import { randomToken } from './random';

/** What every error shown in the console carries, so a support person can quote it. */
export class GatewayError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  /** No answer arrived (or none that can be read): the request may or may not have been carried out. */
  get answerLost(): boolean {
    return this.code === 'network_error' || this.code === 'bad_response';
  }
}

interface GraphQLErrorShape {
  message?: string;
  extensions?: Record<string, unknown>;
}

function fromGraphQLError(error: GraphQLErrorShape, requestId: string | undefined): GatewayError {
  const extensions = error.extensions ?? {};
  const code = typeof extensions.code === 'string' ? extensions.code : 'unknown_error';
  const id = typeof extensions.requestId === 'string' ? extensions.requestId : requestId;
  return new GatewayError(code, error.message ?? code, id, extensions);
}

export interface Gateway {
  request<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R>;
  subscribe<R, V>(document: TypedDocumentString<R, V>, variables: V, onData: (data: R) => void, onError: (error: GatewayError) => void): () => void;
  /** Told whether the live connection is up now and on every change; returns the way to stop listening. */
  onLive(listener: (live: boolean) => void): () => void;
  dispose(): void;
}

export interface GatewayOptions {
  token: string;
  /** Defaults to the page's own origin: the console talks to the gateway that served it, and nothing else. */
  origin?: string;
  fetch?: typeof fetch;
  /** Told when the server refuses the credential, so the page can ask for another. */
  onRefused?: (error: GatewayError) => void;
}

// graphql-ws close reasons (4401, 4403) included: the credential, not the request, is what failed.
const REFUSED = new Set(['missing_bearer', 'invalid_admin_secret', 'invalid_token', 'token_revoked']);

/**
 * Queries and mutations as POST /graphql with the bearer; subscriptions over graphql-ws on the same
 * path. Each HTTP request sends its own x-request-id, so even a lost answer has an id to quote.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const origin = options.origin ?? window.location.origin;
  const doFetch = options.fetch ?? window.fetch.bind(window);
  let ws: Client | undefined;
  let live = false;
  const liveListeners = new Set<(live: boolean) => void>();
  const setLive = (value: boolean) => {
    live = value;
    liveListeners.forEach((listener) => listener(value));
  };

  const refuse = (error: GatewayError): GatewayError => {
    if (REFUSED.has(error.code)) options.onRefused?.(error);
    return error;
  };

  async function request<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R> {
    const requestId = `console-${randomToken(12)}`;
    let response: Response;
    try {
      response = await doFetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}`, 'x-request-id': requestId },
        body: JSON.stringify({ query: document.toString(), variables }),
      });
    } catch (cause) {
      throw new GatewayError('network_error', `No answer from the gateway (${cause instanceof Error ? cause.message : String(cause)})`, requestId);
    }
    const answeredId = response.headers.get('x-request-id') ?? requestId;
    let body: { data?: R | null; errors?: GraphQLErrorShape[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new GatewayError('bad_response', `The gateway answered HTTP ${response.status} without a GraphQL body`, answeredId, { status: response.status });
    }
    const first = body.errors?.[0];
    if (first) throw refuse(fromGraphQLError(first, answeredId));
    if (body.data === undefined || body.data === null) throw new GatewayError('bad_response', `The gateway answered HTTP ${response.status} without data`, answeredId);
    return body.data;
  }

  function client(): Client {
    ws ??= createClient({
      url: `${origin.replace(/^http/, 'ws')}/graphql`,
      connectionParams: { authorization: `Bearer ${options.token}` },
      lazy: true,
      // Deploys close with 1001 and the page should follow; a refused or revoked token will not get better.
      retryAttempts: 1_000,
      shouldRetry: (event) => {
        const code = (event as { code?: number }).code;
        return code === undefined || !(code === 4401 || code === 4403 || code === 4400);
      },
      on: { connected: () => setLive(true), closed: () => setLive(false) },
    });
    return ws;
  }

  function subscribe<R, V>(document: TypedDocumentString<R, V>, variables: V, onData: (data: R) => void, onError: (error: GatewayError) => void): () => void {
    return client().subscribe<R>(
      { query: document.toString(), variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          const first = result.errors?.[0] as GraphQLErrorShape | undefined;
          if (first) onError(refuse(fromGraphQLError(first, undefined)));
          else if (result.data) onData(result.data);
        },
        error: (error: unknown) => {
          const event = error as { code?: number; reason?: string };
          if (typeof event.code === 'number') {
            const code = event.reason ? event.reason.trim().replace(/\s+/g, '_') : `closed_${event.code}`;
            onError(refuse(new GatewayError(code, `Live updates stopped: ${event.reason || `close ${event.code}`}`, undefined)));
          } else if (Array.isArray(error)) {
            onError(refuse(fromGraphQLError(error[0] as GraphQLErrorShape, undefined)));
          } else {
            onError(new GatewayError('network_error', 'Live updates lost their connection', undefined));
          }
        },
        complete: () => undefined,
      },
    );
  }

  return {
    request,
    subscribe,
    onLive: (listener) => {
      liveListeners.add(listener);
      listener(live);
      return () => liveListeners.delete(listener);
    },
    dispose: () => {
      void ws?.dispose();
      ws = undefined;
    },
  };
}

/** Anything caught, as an error with a code to show (a bug in the page itself is `client_error`). */
export function asGatewayError(caught: unknown): GatewayError {
  if (caught instanceof GatewayError) return caught;
  return new GatewayError('client_error', caught instanceof Error ? caught.message : typeof caught === 'string' ? caught : 'unexpected error', undefined);
}
