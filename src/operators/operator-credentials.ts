import { Injectable, Logger } from '@nestjs/common';
import type { OperatorTokenVerifier } from '../auth/operator-token-verifier.port';
import { EventEmitter } from 'node:events';
import { hashOperatorToken, isOperatorToken } from './operator-token';
import { OperatorRepository, type OperatorRecord } from './operator.repository';
import { OperatorTokenCache } from './token-cache';

/**
 * Operator tokens → live operators, for HTTP and graphql-ws alike. A token is looked up by its SHA-256 in
 * the database at most once a second per instance (OperatorTokenCache), so authentication adds no database
 * round trip per request on the hot path. A revocation or a change of role or limits made here takes
 * effect at once on this instance (`changed`); other instances' cache entries run out within a second.
 */
@Injectable()
export class OperatorCredentials implements OperatorTokenVerifier {
  private readonly logger = new Logger(OperatorCredentials.name);
  private readonly events = new EventEmitter();

  constructor(
    private readonly operators: OperatorRepository,
    private readonly cache: OperatorTokenCache,
  ) {
    this.events.setMaxListeners(0);
  }

  /**
   * The live operator a token belongs to, or null (not an operator token, unknown, or revoked). Throws
   * DatabaseUnavailableError when the database must be asked and does not answer.
   */
  async verify(token: string): Promise<OperatorRecord | null> {
    if (!isOperatorToken(token)) return null;
    const operator = await this.cache.resolve(hashOperatorToken(token), this.lookup);
    if (operator) this.touch(operator.id);
    return operator;
  }

  /** The operator's role, limits or revocation changed on this instance: forget what was cached, tell listeners. */
  changed(operator: OperatorRecord): void {
    this.cache.invalidateOperator(operator.id);
    if (operator.revokedAt !== null) this.events.emit('revoked', operator.id);
  }

  /** Called with the id of each operator revoked on this instance, at once. */
  onRevoked(listener: (operatorId: string) => void): () => void {
    this.events.on('revoked', listener);
    return () => this.events.off('revoked', listener);
  }

  revokedAmong(operatorIds: readonly string[]): Promise<string[]> {
    return this.operators.revokedAmong(operatorIds);
  }

  private readonly lookup = (tokenHash: string) => this.operators.findByTokenHash(tokenHash);

  /** lastUsedAt, to the minute and best effort: never delays or fails the request. */
  private touch(operatorId: string): void {
    this.operators.touchLastUsed(operatorId).catch((error: Error) => this.logger.warn(`lastUsedAt not recorded: ${error.message}`));
  }
}
