import { Logger } from '@nestjs/common';
import { WebSocket } from 'ws';
import type { OperatorTokenVerifier } from '../auth/operator-token-verifier.port';
import { TOKEN_REVOKED } from '../auth/connection-authenticator';

/**
 * Closes an operator's open graphql-ws connections when the operator is revoked (4403 `token revoked`):
 * at once for a revocation made on this instance, and within the sweep interval (half a second, plus one
 * indexed query) for one made on another. The query runs only while operator connections are open, and
 * asks about those operators only. A database that does not answer delays the close until it does.
 */
export class RevocationWatch {
  private readonly logger = new Logger(RevocationWatch.name);
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private sweeping = false;

  constructor(private readonly operators: OperatorTokenVerifier) {}

  start(intervalMs: number): void {
    this.unsubscribe = this.operators.onRevoked((operatorId) => this.closeAll(operatorId));
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  /** Watches `socket` as operator `operatorId`'s until it closes. */
  watch(operatorId: string, socket: WebSocket): void {
    let open = this.sockets.get(operatorId);
    if (!open) this.sockets.set(operatorId, (open = new Set()));
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      if (open.size === 0 && this.sockets.get(operatorId) === open) this.sockets.delete(operatorId);
    });
  }

  get watched(): number {
    return this.sockets.size;
  }

  async sweep(): Promise<void> {
    if (this.sockets.size === 0 || this.sweeping) return;
    this.sweeping = true;
    try {
      for (const operatorId of await this.operators.revokedAmong([...this.sockets.keys()])) this.closeAll(operatorId);
    } catch (error) {
      this.logger.warn(`revoked operators not checked: ${(error as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }

  private closeAll(operatorId: string): void {
    const open = this.sockets.get(operatorId);
    if (!open) return;
    this.sockets.delete(operatorId);
    for (const socket of open) if (socket.readyState === WebSocket.OPEN) socket.close(TOKEN_REVOKED.code, TOKEN_REVOKED.reason);
  }
}
