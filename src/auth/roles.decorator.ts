import { SetMetadata } from '@nestjs/common';
import type { OperatorRole } from '../common/actor';

export const ROLES_METADATA = 'credits:required-role';

/**
 * The lowest role allowed to run the field; each role includes the ones before it. RoleGuard reads it,
 * and refuses a field without it to everyone. Finer rules (whom a SUPERVISOR may manage, who may approve
 * what) are the services'.
 */
export const Roles = (role: OperatorRole): MethodDecorator & ClassDecorator => SetMetadata(ROLES_METADATA, role);
