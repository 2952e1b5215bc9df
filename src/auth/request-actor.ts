import type { Actor } from '../common/actor';
import type { AuthenticatedRequest } from './admin-auth';
import { onBehalfOf } from './on-behalf-of';

/**
 * The actor of an authenticated request: its credential (an operator, or the root secrets as ADMIN with no
 * operator id) and the person `X-On-Behalf-Of` names (invalid_argument if that header is malformed).
 */
export function requestActor(req: AuthenticatedRequest): Actor {
  const principal = req.principal!;
  return { operatorId: principal.operatorId, name: principal.name, role: principal.role, onBehalfOf: onBehalfOf(req.headers['x-on-behalf-of']) };
}
