import { atLeast, OPERATOR_ROLES, type OperatorRole } from '../common/actor';

export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (OPERATOR_ROLES as readonly string[]).includes(value);
}

/** Whether `actor` may create, update or revoke an operator whose role is `target`: SUPERVISOR the VIEWERs and AGENTs, ADMIN anyone. */
export function canManage(actor: OperatorRole, target: OperatorRole): boolean {
  if (actor === 'ADMIN') return true;
  if (actor === 'SUPERVISOR') return target === 'VIEWER' || target === 'AGENT';
  return false;
}

/**
 * Whether `actor` may change an operator's role from `from` to `to`: it must manage both the operator as
 * it is and the role it gets, so a SUPERVISOR can neither touch a SUPERVISOR nor promote an AGENT to one.
 */
export function canChangeRole(actor: OperatorRole, from: OperatorRole, to: OperatorRole): boolean {
  return canManage(actor, from) && canManage(actor, to);
}

/** The limits that apply to a credential: ADMIN (and the root secret) has none whatever is stored. */
export interface Limits {
  maxAdjustment: number | null;
  dailyLimit: number | null;
}

export function effectiveLimits(operator: { role: OperatorRole } & Limits): Limits {
  return operator.role === 'ADMIN' ? { maxAdjustment: null, dailyLimit: null } : { maxAdjustment: operator.maxAdjustment, dailyLimit: operator.dailyLimit };
}

/** Whether one adjustment of `amount` is within `maxAdjustment` (null: no bound). */
export function withinMaxAdjustment(limits: Limits, amount: number): boolean {
  return limits.maxAdjustment === null || Math.abs(amount) <= limits.maxAdjustment;
}

/** A credential deciding an approval request: operatorId null for the root secrets. */
export interface Approver extends Limits {
  operatorId: string | null;
  role: OperatorRole;
}

export type ApprovalRefusal =
  /** Below SUPERVISOR: 403 forbidden, requiredRole SUPERVISOR. */
  | 'role'
  /** The requester cannot approve its own request: 403 forbidden. */
  | 'own_request'
  /** The approver's own maxAdjustment does not cover the amount: 403 forbidden. */
  | 'over_own_limit';

/**
 * Whether `approver` may approve a request for `amount` made by `requestedByOperatorId` (README
 * "Limits and approvals"): a SUPERVISOR or ADMIN other than the requester, whose own maxAdjustment covers the amount.
 * Returns null when allowed. Rejecting needs only the role and another person.
 */
export function approvalRefusal(
  approver: Approver,
  request: { requestedByOperatorId: string | null; amount: number },
  decision: 'approve' | 'reject' = 'approve',
): ApprovalRefusal | null {
  if (!atLeast(approver.role, 'SUPERVISOR')) return 'role';
  if (approver.operatorId !== null && approver.operatorId === request.requestedByOperatorId) return 'own_request';
  if (decision === 'approve' && !withinMaxAdjustment(effectiveLimits(approver), request.amount)) return 'over_own_limit';
  return null;
}
