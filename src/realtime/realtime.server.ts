import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { ConnectionAuthenticator, ConnectionRefused } from '../auth/connection-authenticator';
import type { Principal } from '../auth/principal';
import { Metrics } from '../metrics/metrics';
import type { RealtimeContext } from './usage-changed.resolver';

export const REALTIME_PATH = '/graphql';
// A subscribe message is a small document; nothing a client legitimately sends comes near this.
const MAX_MESSAGE_BYTES = 16 * 1024;
const CONNECTION_INIT_TIMEOUT_MS = 5_000;
const KEEPALIVE_MS = 12_000;

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
  private httpServer?: Server;
  private graphqlWs?: { dispose: () => void | Promise<void> };

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly authenticator: ConnectionAuthenticator,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    this.httpServer = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.httpServer.on('upgrade', this.upgrade);
    this.graphqlWs = useServer<Record<string, unknown>, ConnectionExtra>(
      {
        // The GraphQL module owns the schema; it is complete once the application has bootstrapped.
        schema: this.moduleRef.get(GraphQLSchemaHost, { strict: false }).schema,
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
          return true;
        },
        onClose: (ctx) => {
          if (ctx.extra.principal) this.metrics.realtimeConnections.dec();
        },
        context: (ctx): RealtimeContext => ({ principal: ctx.extra.principal }),
      },
      this.wss,
      KEEPALIVE_MS,
    );
  }

  /** Subscribers are told to go elsewhere (1001) before the HTTP server drains. */
  async onModuleDestroy(): Promise<void> {
    this.httpServer?.off('upgrade', this.upgrade);
    try {
      await this.graphqlWs?.dispose();
    } catch (error) {
      this.logger.warn(`closing graphql-ws: ${(error as Error).message}`);
    }
  }

  get connectionCount(): number {
    return this.wss.clients.size;
  }

  private readonly upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== REALTIME_PATH) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.wss.emit('connection', ws, request));
  };
}
