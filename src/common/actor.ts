/** Roles, each including the ones before it (README "Roles"). */
export const OPERATOR_ROLES = ['VIEWER', 'AGENT', 'SUPERVISOR', 'ADMIN'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

const RANK: Record<OperatorRole, number> = { VIEWER: 0, AGENT: 1, SUPERVISOR: 2, ADMIN: 3 };

/** Whether `role` may do what needs `required`. */
export function atLeast(role: OperatorRole, required: OperatorRole): boolean {
  return RANK[role] >= RANK[required];
}

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
