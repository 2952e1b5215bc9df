import type { OperatorRole } from '../common/actor';

/** The operator a token authenticates, as authentication needs it. */
export interface VerifiedOperator {
  id: string;
  name: string;
  role: OperatorRole;
}

/**
 * Operator tokens for the admin API (README "Operators, roles and approvals"); bound by the operators module. Answers
 * null for a token that is not a live operator's; throws `dependency_unavailable` when it cannot tell.
 */
export interface OperatorTokenVerifier {
  verify(token: string): Promise<VerifiedOperator | null>;
  /** Calls `listener` at once with each operator revoked on this instance; returns the unsubscribe. */
  onRevoked(listener: (operatorId: string) => void): () => void;
  /** Which of these operators are revoked by now, whichever instance revoked them. */
  revokedAmong(operatorIds: readonly string[]): Promise<string[]>;
}

export const OperatorTokenVerifier = Symbol('OperatorTokenVerifier');
