import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { OPERATOR_ROLES } from './actor';
import type { Actor, OperatorRole } from './actor';

/** OperatorRole as a GraphQL enum (the values are the names). */
export const OperatorRoleEnum = Object.fromEntries(OPERATOR_ROLES.map((role) => [role, role])) as { [R in OperatorRole]: R };
registerEnumType(OperatorRoleEnum, {
  name: 'OperatorRole',
  description: 'Each role includes the ones before it: VIEWER < AGENT < SUPERVISOR < ADMIN.',
});

@ObjectType('Actor', { description: 'Who did it: the credential used, and whom an internal tool said it acted for.' })
export class ActorModel implements Actor {
  @Field(() => ID, { nullable: true, description: 'Null for the ADMIN_SECRET (and ADMIN_SECRET_PREVIOUS).' })
  operatorId!: string | null;

  @Field({ description: 'The operator\'s name, or "admin" / "admin:previous".' })
  name!: string;

  @Field(() => OperatorRoleEnum)
  role!: OperatorRole;

  @Field(() => String, { nullable: true, description: 'The X-On-Behalf-Of header, as asserted by the caller.' })
  onBehalfOf!: string | null;
}
