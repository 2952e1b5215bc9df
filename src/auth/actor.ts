import type { AdminPrincipal } from './admin-authenticator';

/** Roles, each including the ones before it (DESIGN "Operators and roles"). */
export const OPERATOR_ROLES = ['VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/**
 * Who did something, as the journal and the audit log record it: the authenticated credential (an
 * operator, or the root secrets as "admin" / "admin:previous") and the person an internal tool says it
 * acts for (`X-On-Behalf-Of`, as asserted by that tool).
 */
export interface Actor {
  operatorId: string | null;
  name: string;
  role: OperatorRole;
  onBehalfOf: string | null;
}

/** The actor of a request made with `principal`. The root secrets act as ADMIN, with no operator id. */
export function actorFor(principal: AdminPrincipal, onBehalfOf: string | null): Actor {
  return { operatorId: null, name: principal.label, role: 'ADMIN', onBehalfOf };
}
