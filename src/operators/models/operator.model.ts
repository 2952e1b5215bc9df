import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import type { Actor, OperatorRole } from '../../common/actor';
import { ActorModel, OperatorRoleEnum } from '../../common/actor.model';
import type { OperatorRecord } from '../operator.repository';

@ObjectType('Operator', { description: 'A named credential of the admin API, with its role and limits. Its token is never shown again.' })
export class OperatorModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => OperatorRoleEnum)
  role!: OperatorRole;

  @Field(() => Int, { nullable: true, description: 'Bound on |amount| of one adjustment; null: no per-adjustment limit.' })
  maxAdjustment!: number | null;

  @Field(() => Int, { nullable: true, description: 'Bound on the sum of |amount| applied in one UTC day; null: no daily limit.' })
  dailyLimit!: number | null;

  @Field({ description: "The token's first 8 characters, to recognise it." })
  tokenPrefix!: string;

  @Field()
  createdAt!: Date;

  @Field(() => ActorModel)
  createdBy!: Actor;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the token was last used, to the minute.' })
  lastUsedAt!: Date | null;

  static from(operator: OperatorRecord): OperatorModel {
    return {
      id: operator.id,
      name: operator.name,
      role: operator.role,
      maxAdjustment: operator.maxAdjustment,
      dailyLimit: operator.dailyLimit,
      tokenPrefix: operator.tokenPrefix,
      createdAt: operator.createdAt,
      createdBy: {
        operatorId: operator.createdByOperatorId,
        name: operator.createdByName,
        role: operator.createdByRole,
        onBehalfOf: operator.createdByOnBehalfOf,
      },
      revokedAt: operator.revokedAt,
      lastUsedAt: operator.lastUsedAt,
    };
  }
}

@ObjectType('OperatorCredential', { description: 'A new operator and its token. The token is shown this once: store it now.' })
export class OperatorCredentialModel {
  @Field(() => OperatorModel)
  operator!: OperatorModel;

  @Field({ description: 'Send as `Authorization: Bearer <token>`. Only its hash is kept.' })
  token!: string;
}
