import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ActorModel } from '../../common/actor.model';
import { ADJUSTMENT_STATUSES } from '../../database/journal.schema';
import type { AdjustmentStatus } from '../../database/journal.schema';

export const AdjustmentStatusEnum = Object.fromEntries(ADJUSTMENT_STATUSES.map((status) => [status, status])) as {
  [S in AdjustmentStatus]: S;
};
registerEnumType(AdjustmentStatusEnum, {
  name: 'AdjustmentStatus',
  description:
    'QUEUED (a bulk item not sent yet), PENDING (sent or about to be), APPLIED, REJECTED (refused for good), ' +
    'UNKNOWN (RevenueCat may or may not have applied it: retry with the same idempotency key to settle it), CANCELLED.',
});

@ObjectType('AdjustmentRecord', { description: 'One journal entry: an adjustment attempt and how it ended. Its id is the CreditAdjustment id.' })
export class AdjustmentRecordModel {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  userId!: string;

  @Field()
  currency!: string;

  @Field(() => Int)
  amount!: number;

  @Field()
  reason!: string;

  @Field(() => AdjustmentStatusEnum)
  status!: AdjustmentStatus;

  @Field(() => String, { nullable: true, description: 'REJECTED / UNKNOWN: the error code the caller was given.' })
  errorCode!: string | null;

  @Field(() => Int, { nullable: true, description: "APPLIED: the currency's balance right after it." })
  balance!: number | null;

  @Field()
  idempotencyKey!: string;

  @Field(() => ActorModel)
  actor!: ActorModel;

  @Field(() => ActorModel, { nullable: true })
  approvedBy!: ActorModel | null;

  @Field(() => AdjustmentRecordModel, { nullable: true, description: 'The adjustment this one reverses.' })
  reverses?: AdjustmentRecordModel | null;

  @Field(() => AdjustmentRecordModel, { nullable: true, description: 'The reversal of this adjustment, once applied.' })
  reversedBy?: AdjustmentRecordModel | null;

  @Field(() => ID, { nullable: true })
  bulkAdjustmentId!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it became APPLIED, REJECTED or CANCELLED.' })
  settledAt!: Date | null;

  /** Resolved on demand by reverses / reversedBy. */
  reversesId!: string | null;
  reversedById!: string | null;
}

@ObjectType()
export class PageInfo {
  @Field(() => String, { nullable: true })
  endCursor!: string | null;

  @Field()
  hasNextPage!: boolean;
}

@ObjectType()
export class AdjustmentConnection {
  @Field(() => [AdjustmentRecordModel])
  nodes!: AdjustmentRecordModel[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
