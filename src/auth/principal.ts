import type { OperatorRole } from '../common/actor';

/**
 * A credential of the admin API: the root secrets (role ADMIN, no operator id) or an operator's token.
 * `label` is the credential's identity for rate limits and logs (never the secret itself):
 * "admin", "admin:previous" or "operator:<id>".
 */
export interface AdminPrincipal {
  kind: 'admin';
  label: string;
  operatorId: string | null;
  /** The operator's name, or "admin" / "admin:previous". */
  name: string;
  role: OperatorRole;
}

/** An end user of the app, authenticated by their Clerk session token. */
export interface UserPrincipal {
  kind: 'user';
  label: 'clerk';
  userId: string;
  /** When the session token expires (epoch milliseconds); the realtime gateway closes the connection then. */
  expiresAt: number;
}

export type Principal = AdminPrincipal | UserPrincipal;

export const ROOT_PRINCIPAL: Readonly<AdminPrincipal> = Object.freeze({ kind: 'admin', label: 'admin', operatorId: null, name: 'admin', role: 'ADMIN' });
export const PREVIOUS_ROOT_PRINCIPAL: Readonly<AdminPrincipal> = Object.freeze({
  kind: 'admin',
  label: 'admin:previous',
  operatorId: null,
  name: 'admin:previous',
  role: 'ADMIN',
});

export function operatorPrincipal(operator: { id: string; name: string; role: OperatorRole }): AdminPrincipal {
  return { kind: 'admin', label: `operator:${operator.id}`, operatorId: operator.id, name: operator.name, role: operator.role };
}
