import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { useServer } from 'graphql-ws/use/ws';
import { InjectThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorage } from '@nestjs/throttler';
import proxyAddr from 'proxy-addr';
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { ConnectionAuthenticator, ConnectionRefused, TOKEN_EXPIRED } from '../auth/connection-authenticator';
import type { Principal } from '../auth/principal';
import { APP_CONFIG, trustFunction, type AppConfig } from '../config/app-config';
import { errorBody, Errors, GatewayError } from '../common/errors';
import { GRAPHQL_PATH } from '../common/graphql-path';
import { QUERY_LIMITS, queryLimitRules } from '../common/query-limits';
import { Metrics } from '../metrics/metrics';
import { DocumentCache } from './document-cache';
import { ExpirySweep } from './expiry-sweep';
import { RevocationWatch } from './revocation-watch';
import { OperatorTokenVerifier } from '../auth/operator-token-verifier.port';
import type { RealtimeContext } from './usage-changed.resolver';

// A subscribe message is a small document; nothing a client legitimately sends comes near this.
const MAX_MESSAGE_BYTES = 16 * 1024;
const CONNECTION_INIT_TIMEOUT_MS = 5_000;
const ATTEMPT_WINDOW_MS = 60_000;
// How late, at most, a connection whose session token expired is closed.
const EXPIRY_SWEEP_MS = 1_000;
// How often, at most, the revocations made on other instances are looked for (the README promises within a second).
const REVOCATION_SWEEP_MS = 500;

type ConnectionExtra = {
  socket: WebSocket;
  request: IncomingMessage;
  principal?: Principal;
};

/**
 * graphql-ws (`graphql-transport-ws`) on the HTTP server's port, on our own WebSocket server so that
 * message size, authentication close codes and shutdown are ours to decide.
 */
@Injectable()
export class RealtimeServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RealtimeServer.name);
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly openPerClient = new Map<string, number>();
  private readonly unanswered = new WeakSet<WebSocket>();
  /** One listener shared by every socket (ws calls it with the socket as `this`): no closure per connection. */
  private readonly answered = answeredBy(this.unanswered);
  private keepAlive?: NodeJS.Timeout;
  /** A Clerk connection lives as long as its session token, no longer. */
  private readonly expiry = new ExpirySweep<WebSocket>(closeExpired);
  /** Shared by every socket, like `answered`. */
  private readonly forgetExpiry = forgetBy(this.expiry);
  private readonly documents = new DocumentCache(queryLimitRules, QUERY_LIMITS.maxTokens);
  /** An operator's connections last as long as the operator is not revoked. */
  private readonly revocations: RevocationWatch;
  /** Who the client is behind the trusted proxies: the same function as the HTTP rate limits'. */
  private readonly trustProxy: (address: string, hop: number) => boolean;
  private httpServer?: Server;
  private graphqlWs?: { dispose: () => void | Promise<void> };

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly authenticator: ConnectionAuthenticator,
    private readonly metrics: Metrics,
    @InjectThrottlerStorage() private readonly attempts: ThrottlerStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(OperatorTokenVerifier) operators: OperatorTokenVerifier,
  ) {
    this.revocations = new RevocationWatch(operators);
    this.trustProxy = trustFunction(config.trustProxy);
  }

  onApplicationBootstrap(): void {
    this.httpServer = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.httpServer.on('upgrade', this.upgrade);
    // The GraphQL module owns the schema; it is complete once the application has bootstrapped.
    const schema = this.moduleRef.get(GraphQLSchemaHost, { strict: false }).schema;
    this.graphqlWs = useServer<Record<string, unknown>, ConnectionExtra>(
      {
        schema,
        // Parsing and validation are ours: one shared document per distinct text, the HTTP limits, and
        // a bad document fails its own subscription (with our codes) instead of the connection.
        onSubscribe: (ctx, _id, payload) => {
          // Anything but an admin is held to the end user's rules (usageChanged only, no schema hints).
          const audience = ctx.extra.principal?.kind === 'admin' ? 'admin' : 'user';
          const prepared = this.documents.prepare(schema, payload.query, audience);
          if (Array.isArray(prepared)) return prepared;
          const contextValue: RealtimeContext = { principal: ctx.extra.principal };
          return { schema, document: prepared, operationName: payload.operationName, variableValues: payload.variables, contextValue };
        },
        connectionInitWaitTimeout: CONNECTION_INIT_TIMEOUT_MS,
        onConnect: async (ctx) => {
          try {
            ctx.extra.principal = await this.authenticator.authenticate(ctx.connectionParams);
          } catch (error) {
            if (!(error instanceof ConnectionRefused)) throw error;
            this.metrics.realtimeConnectionsRefused.inc({ code: error.code });
            // Closing first makes graphql-ws's own 4403 a no-op, so the client sees our code and reason.
            ctx.extra.socket.close(error.code, error.reason);
            return false;
          }
          this.metrics.realtimeConnections.inc();
          const principal = ctx.extra.principal;
          // A socket that closed while its token was being verified has nothing left to expire.
          if (principal.kind === 'user' && ctx.extra.socket.readyState === WebSocket.OPEN) {
            this.expiry.watch(ctx.extra.socket, principal.expiresAt);
          }
          if (principal.kind === 'admin' && principal.operatorId !== null && ctx.extra.socket.readyState === WebSocket.OPEN) {
            this.revocations.watch(principal.operatorId, ctx.extra.socket);
          }
          // Authenticated: the upgrade request and the token (a Clerk JWT is ~1 KB) are not needed any
          // longer, and 10,000 connections would keep 10,000 of each.
          delete (ctx.extra as Partial<ConnectionExtra>).request;
          (ctx as { connectionParams?: unknown }).connectionParams = undefined;
          return true;
        },
        onClose: (ctx) => {
          if (ctx.extra.principal) this.metrics.realtimeConnections.dec();
        },
      },
      this.wss,
      // Keep-alive is ours: one sweep over all connections instead of a timer per connection.
      0,
    );
    this.keepAlive = setInterval(() => this.sweep(), this.config.realtime.keepAliveMs);
    this.keepAlive.unref();
    this.expiry.start(EXPIRY_SWEEP_MS);
    this.revocations.start(REVOCATION_SWEEP_MS);
  }

  /**
   * Pings every connection; one that has not answered the previous ping since is dead (a phone that
   * went out of coverage) and is terminated, releasing its subscriptions.
   */
  private sweep(): void {
    for (const ws of this.wss.clients) {
      // A socket stays in the set while it closes, and ping() throws on one that is not open.
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (this.unanswered.has(ws)) {
        ws.terminate();
        continue;
      }
      this.unanswered.add(ws);
      ws.ping();
    }
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  /**
   * Stops taking connections and tells every subscriber to go elsewhere (1001). Must run before the
   * HTTP server drains, which would otherwise cut upgraded sockets without a close frame.
   */
  async close(): Promise<void> {
    clearInterval(this.keepAlive);
    this.expiry.stop();
    this.revocations.stop();
    if (!this.graphqlWs) return;
    const graphqlWs = this.graphqlWs;
    this.graphqlWs = undefined;
    this.httpServer?.off('upgrade', this.upgrade);
    try {
      await graphqlWs.dispose();
    } catch (error) {
      this.logger.warn(`closing graphql-ws: ${(error as Error).message}`);
    }
  }

  get connectionCount(): number {
    return this.wss.clients.size;
  }

  /**
   * Connection attempts are bounded before anything else happens: per client address, so many open at
   * once (on this instance) and so many attempts a minute (across instances when Redis is shared).
   */
  private readonly upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', destroyOnError);
    // A target that is not a URL (`//[`) would throw here, outside any request handler, and end the process.
    if (URL.parse(request.url ?? '/', 'http://localhost')?.pathname !== GRAPHQL_PATH) {
      socket.destroy();
      return;
    }
    const client = proxyAddr(request, this.trustProxy);
    // The slot is taken now, before anything is awaited, so a burst of parallel upgrades cannot all pass
    // the check at once; it is given back when this socket closes, whatever the path that closes it.
    if (!this.takeSlot(socket, client)) {
      refuse(socket, Errors.rateLimited(5, 'too many open connections from this client'));
      return;
    }
    this.attempts
      .increment(`ws-connect:${client}`, ATTEMPT_WINDOW_MS, this.config.realtime.connectAttemptsPerMinute, 0, 'ws')
      .then(
        ({ isBlocked, timeToExpire }) => !isBlocked || refuse(socket, Errors.rateLimited(timeToExpire, 'too many connection attempts from this client')),
        (error: Error) => {
          // A counter that cannot be read (Redis away) must not take realtime down; the open cap still holds.
          this.logger.warn(`connection attempt count unavailable: ${error.message}`);
          return true;
        },
      )
      .then((proceed) => {
        if (proceed === true && !socket.destroyed) {
          this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request, client));
        }
      })
      .catch((error: Error) => {
        // Outside any request handler: an unhandled rejection here would end the process.
        this.logger.error(`realtime upgrade from ${client} failed: ${error.message}`);
        socket.destroy();
      });
  };

  /**
   * Counts `socket` against its client's cap, or answers false when the cap is reached. The count drops
   * when the socket closes: refused by the attempt limit, dropped by the client while waiting, aborted
   * by ws's handshake checks, or accepted and closed later.
   */
  private takeSlot(socket: Duplex, client: string): boolean {
    const open = this.openPerClient.get(client) ?? 0;
    if (open >= this.config.realtime.maxConnectionsPerClient) return false;
    this.openPerClient.set(client, open + 1);
    // In its own scope: the listener keeps only the client's address, not the upgrade request.
    socket.once('close', () => {
      const left = (this.openPerClient.get(client) ?? 1) - 1;
      if (left > 0) this.openPerClient.set(client, left);
      else this.openPerClient.delete(client);
    });
    return true;
  }

  /** Connection slots in use (open or being opened), over every client; for tests and metrics. */
  get clientSlotsInUse(): number {
    let total = 0;
    for (const open of this.openPerClient.values()) total += open;
    return total;
  }

  private accept(ws: WebSocket, request: IncomingMessage, client: string): void {
    ws.on('pong', this.answered);
    ws.once('close', this.forgetExpiry);
    this.wss.emit('connection', ws, request);
    // graphql-ws prints socket errors to the console with a stack; an oversized message (which ws has
    // already answered with 1009) or a reset connection is the client's problem, worth a line at most.
    ws.removeAllListeners('error');
    ws.on('error', (error: Error) => {
      this.logger.warn(`realtime connection from ${client}: ${error.message}`);
      if (ws.readyState === ws.OPEN) ws.close(1011, 'Internal error');
    });
  }
}

/** Refuses a WebSocket upgrade with a plain HTTP answer, before any WebSocket exists. */
function refuse(socket: Duplex, error: GatewayError): false {
  if (socket.destroyed) return false;
  // No request id: an upgrade is refused before Fastify, which assigns it, sees the request.
  const body = errorBody(error, undefined);
  const { status } = error;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nRetry-After: ${error.details.retryAfterSeconds}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  return false;
}

function closeExpired(ws: WebSocket): void {
  if (ws.readyState === WebSocket.OPEN) ws.close(TOKEN_EXPIRED.code, TOKEN_EXPIRED.reason);
}

function forgetBy(expiry: ExpirySweep<WebSocket>): (this: WebSocket) => void {
  return function (this: WebSocket) {
    expiry.forget(this);
  };
}

function answeredBy(unanswered: WeakSet<WebSocket>): (this: WebSocket) => void {
  return function (this: WebSocket) {
    unanswered.delete(this);
  };
}

/** Shared by every upgrade: a closure per socket would keep the upgrade request alive with the socket. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}
