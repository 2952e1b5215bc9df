import type { OperatorRole } from './roles';

/**
 * Who did something (DESIGN `Actor`): an operator, or the root secrets (operatorId null, name "admin" or
 * "admin:previous", role ADMIN), plus the X-On-Behalf-Of header as the caller asserted it.
 */
export interface Actor {
  operatorId: string | null;
  name: string;
  role: OperatorRole;
  onBehalfOf: string | null;
}
